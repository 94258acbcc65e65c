.error.code == -32602 and .id == 156 and .error.data.field == "not_before"
