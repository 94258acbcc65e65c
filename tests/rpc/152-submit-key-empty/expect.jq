.error.code == -32602 and .id == 165 and .error.data.field == "key"
