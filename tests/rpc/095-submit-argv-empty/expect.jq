.error.code == -32602 and .id == 108 and .error.data.field == "argv"
