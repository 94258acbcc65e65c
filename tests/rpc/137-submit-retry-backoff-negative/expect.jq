.error.code == -32602 and .id == 150 and .error.data.field == "retry_backoff"
