.error.code == -32602 and .id == 111 and .error.data.field == "argv[0]"
