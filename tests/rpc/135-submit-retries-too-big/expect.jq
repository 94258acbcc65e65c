.error.code == -32602 and .id == 148 and .error.data.field == "retries"
