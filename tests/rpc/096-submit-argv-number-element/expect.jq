.error.code == -32602 and .id == 109 and .error.data.field == "argv[1]"
