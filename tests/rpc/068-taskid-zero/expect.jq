.error.code == -32602 and .id == 80 and .error.data.field == "id"
