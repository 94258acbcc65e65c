.error.code == -32602 and .id == 145 and .error.data.field == "priority"
