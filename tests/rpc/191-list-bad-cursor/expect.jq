.error.code == -32602 and .id == 356 and .error.data.field == "cursor"
