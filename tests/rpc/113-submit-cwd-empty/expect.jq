.error.code == -32602 and .id == 126 and .error.data.field == "cwd"
