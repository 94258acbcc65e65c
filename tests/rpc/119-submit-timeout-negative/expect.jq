.error.code == -32602 and .id == 132 and .error.data.field == "timeout"
