.error.code == -32602 and .id == 122 and .error.data.field == "env.X"
