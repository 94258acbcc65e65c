.error.code == -32602 and .id == 114 and .error.data.field == "shell"
