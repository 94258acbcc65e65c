.error.code == -32602 and .id == 311 and .error.data.field == "ids[1]"
