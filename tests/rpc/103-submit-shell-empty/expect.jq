.error.code == -32602 and .id == 116 and .error.data.field == "shell"
