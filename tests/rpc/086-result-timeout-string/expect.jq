.error.code == -32602 and .id == 98 and .error.data.field == "timeout"
