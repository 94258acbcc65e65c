.error.code == -32602 and .id == 91 and .error.data.field == "id"
