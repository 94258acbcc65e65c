.error.code == -32602 and .id == 137 and .error.data.field == "seconds"
