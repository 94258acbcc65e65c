.error.code == -32602 and .id == 149 and .error.data.field == "retries"
