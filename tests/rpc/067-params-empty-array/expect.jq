.error.code == -32602 and .id == 71 and .error.data.field == "params"
