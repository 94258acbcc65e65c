.error.code == -32602 and .id == 175 and .error.data.field == "after"
