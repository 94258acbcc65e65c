.error.code == -32602 and .id == 147 and .error.data.field == "retries"
