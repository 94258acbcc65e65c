.error.code == -32602 and .id == 178 and .error.data.field == "after[0]"
