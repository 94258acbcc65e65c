.error.code == -32602 and .id == 176 and .error.data.field == "after[0]"
