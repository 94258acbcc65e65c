.error.code == -32602 and .id == 138 and .error.data.field == "seconds"
