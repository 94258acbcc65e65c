.error.code == -32602 and .id == 153 and .error.data.field == "delay"
