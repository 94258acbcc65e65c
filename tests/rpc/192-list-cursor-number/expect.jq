.error.code == -32602 and .id == 357 and .error.data.field == "cursor"
