.error.code == -32602 and .id == 310 and .error.data.field == "ids[0]"
