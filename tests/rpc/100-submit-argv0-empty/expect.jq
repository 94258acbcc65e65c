.error.code == -32602 and .id == 113 and .error.data.field == "argv[0]"
