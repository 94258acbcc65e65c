.error.code == -32602 and .id == 141 and .error.data.field == "seconds"
