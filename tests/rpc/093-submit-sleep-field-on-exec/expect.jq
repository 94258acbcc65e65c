.error.code == -32602 and .id == 106 and .error.data.field == "seconds"
