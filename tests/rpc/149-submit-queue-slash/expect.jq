.error.code == -32602 and .id == 162 and .error.data.field == "queue"
