.error.code == -32602 and .id == 115 and .error.data.field == "argv"
