.error.code == -32602 and .id == 123 and .error.data.field == "env.X"
