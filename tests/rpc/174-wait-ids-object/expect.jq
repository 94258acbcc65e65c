.error.code == -32602 and .id == 303 and .error.data.field == "ids"
