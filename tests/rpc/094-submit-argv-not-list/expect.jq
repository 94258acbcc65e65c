.error.code == -32602 and .id == 107 and .error.data.field == "argv"
