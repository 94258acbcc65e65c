.error.code == -32602 and .id == 361 and .error.data.field == "state"
