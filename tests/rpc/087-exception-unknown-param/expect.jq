.error.code == -32602 and .id == 99 and .error.data.field == "wait"
