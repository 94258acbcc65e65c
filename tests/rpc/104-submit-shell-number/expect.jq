.error.code == -32602 and .id == 117 and .error.data.field == "shell"
