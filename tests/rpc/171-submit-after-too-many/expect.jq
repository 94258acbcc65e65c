.error.code == -32602 and .id == 184 and .error.data.field == "after"
