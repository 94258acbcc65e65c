.error.code == -32602 and .id == 143 and .error.data.field == "priority"
