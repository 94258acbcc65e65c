.error.code == -32602 and .id == 128 and .error.data.field == "capture"
