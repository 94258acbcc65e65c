.error.code == -32602 and .id == 177 and .error.data.field == "after[0]"
