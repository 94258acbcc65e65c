.error.code == -32602 and .id == 360 and .error.data.field == "state"
