.error.code == -32602 and .id == 161 and .error.data.field == "queue"
