.error.code == -32602 and .id == 146 and .error.data.field == "priority"
