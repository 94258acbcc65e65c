.error.code == -32602 and .id == 118 and .error.data.field == "shell"
