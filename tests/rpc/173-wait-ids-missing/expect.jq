.error.code == -32602 and .id == 302 and .error.data.field == "ids"
