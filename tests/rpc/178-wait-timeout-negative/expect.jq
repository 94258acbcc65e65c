.error.code == -32602 and .id == 307 and .error.data.field == "timeout"
