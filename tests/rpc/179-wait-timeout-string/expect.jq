.error.code == -32602 and .id == 308 and .error.data.field == "timeout"
