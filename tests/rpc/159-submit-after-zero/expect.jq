.error.code == -32602 and .id == 172 and .error.data.field == "after[0]"
