.error.code == -32602 and .id == 89 and .error.data.field == "id"
