.error.code == -32602 and .id == 110 and .error.data.field == "argv[2]"
