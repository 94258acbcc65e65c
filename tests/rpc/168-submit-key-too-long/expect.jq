.error.code == -32602 and .id == 181 and .error.data.field == "key"
