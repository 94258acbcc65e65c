.error.code == -32602 and .id == 86 and .error.data.field == "id"
