.error.code == -32602 and .id == 353 and .error.data.field == "limit"
