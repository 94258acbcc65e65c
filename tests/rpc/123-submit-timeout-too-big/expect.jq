.error.code == -32602 and .id == 136 and .error.data.field == "timeout"
