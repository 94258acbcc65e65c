.error.code == -32602 and .id == 164 and .error.data.field == "queue"
