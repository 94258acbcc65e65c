.error.code == -32602 and .id == 354 and .error.data.field == "limit"
