.error.code == -32602 and .id == 93 and .error.data.field == "id"
