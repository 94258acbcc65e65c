.error.code == -32602 and .id == 120 and .error.data.field == "env."
