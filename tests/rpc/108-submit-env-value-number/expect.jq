.error.code == -32602 and .id == 121 and .error.data.field == "env.X"
