.error.code == -32602 and .id == 157 and .error.data.field == "not_before"
