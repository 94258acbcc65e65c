.error.code == -32602 and .id == 151 and .error.data.field == "retry_backoff"
