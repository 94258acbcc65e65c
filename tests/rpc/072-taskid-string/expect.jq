.error.code == -32602 and .id == 84 and .error.data.field == "id"
