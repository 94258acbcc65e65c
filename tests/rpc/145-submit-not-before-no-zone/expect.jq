.error.code == -32602 and .id == 158 and .error.data.field == "not_before"
