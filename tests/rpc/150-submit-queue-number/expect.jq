.error.code == -32602 and .id == 163 and .error.data.field == "queue"
