.error.code == -32602 and .id == 359 and .error.data.field == "cursor"
