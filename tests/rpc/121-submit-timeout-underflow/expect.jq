.error.code == -32602 and .id == 134 and .error.data.field == "timeout"
