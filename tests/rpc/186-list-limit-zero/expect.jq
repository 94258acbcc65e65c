.error.code == -32602 and .id == 351 and .error.data.field == "limit"
