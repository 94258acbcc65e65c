.error.code == -32602 and .id == 133 and .error.data.field == "timeout"
