.error.code == -32602 and .id == 160 and .error.data.field == "queue"
