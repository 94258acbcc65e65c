.error.code == -32602 and .id == 112 and .error.data.field == "argv[1]"
