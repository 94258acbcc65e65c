.error.code == -32602 and .id == 70 and .error.data.field == "params"
