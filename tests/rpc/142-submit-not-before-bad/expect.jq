.error.code == -32602 and .id == 155 and .error.data.field == "not_before"
