.error.code == -32602 and .id == 365 and .error.data.field == "queue"
