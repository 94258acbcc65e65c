.error.code == -32602 and .id == 154 and .error.data.field == "not_before"
