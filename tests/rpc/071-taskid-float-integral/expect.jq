.error.code == -32602 and .id == 83 and .error.data.field == "id"
