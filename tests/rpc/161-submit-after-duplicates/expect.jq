.error.code == -32602 and .id == 174 and .error.data.field == "after"
