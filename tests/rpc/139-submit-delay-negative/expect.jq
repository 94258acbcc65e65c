.error.code == -32602 and .id == 152 and .error.data.field == "delay"
