.error.code == -32602 and .id == 355 and .error.data.field == "limit"
