.error.code == -32602 and .id == 352 and .error.data.field == "limit"
