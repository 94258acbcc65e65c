.error.code == -32602 and .id == 135 and .error.data.field == "timeout"
