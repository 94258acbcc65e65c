.error.code == -32602 and .id == 127 and .error.data.field == "stdin"
