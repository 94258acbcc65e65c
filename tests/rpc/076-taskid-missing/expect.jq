.error.code == -32602 and .id == 88 and .error.data.field == "id"
