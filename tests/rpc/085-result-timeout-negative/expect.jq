.error.code == -32602 and .id == 97 and .error.data.field == "timeout"
