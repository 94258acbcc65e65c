.error.code == -32602 and .id == 358 and .error.data.field == "cursor"
