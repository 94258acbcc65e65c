.error.code == -32602 and .id == 82 and .error.data.field == "id"
