.error.code == -32602 and .id == 90 and .error.data.field == "id"
