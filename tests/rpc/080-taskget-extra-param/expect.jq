.error.code == -32602 and .id == 92 and .error.data.field == "x"
