.error.code == -32602 and .id == 233 and .error.data.field == "argv[50001]"
