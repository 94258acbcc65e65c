.error.code == -32602 and .id == 159 and .error.data.field == "queue"
