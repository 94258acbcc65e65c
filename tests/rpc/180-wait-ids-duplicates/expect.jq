.error.code == -32602 and .id == 309 and .error.data.field == "ids"
