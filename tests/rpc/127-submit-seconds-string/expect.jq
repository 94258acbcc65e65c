.error.code == -32602 and .id == 140 and .error.data.field == "seconds"
