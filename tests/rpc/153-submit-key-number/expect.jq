.error.code == -32602 and .id == 166 and .error.data.field == "key"
