.error.code == -32602 and .id == 85 and .error.data.field == "id"
