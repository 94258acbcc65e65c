.error.code == -32602 and .id == 144 and .error.data.field == "priority"
