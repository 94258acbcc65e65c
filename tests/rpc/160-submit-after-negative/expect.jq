.error.code == -32602 and .id == 173 and .error.data.field == "after[1]"
