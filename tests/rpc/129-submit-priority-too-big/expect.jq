.error.code == -32602 and .id == 142 and .error.data.field == "priority"
