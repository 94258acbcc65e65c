.error.code == -32602 and .id == 301 and .error.data.field == "ids"
