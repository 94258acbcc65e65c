.error.code == -32602 and .id == 81 and .error.data.field == "id"
