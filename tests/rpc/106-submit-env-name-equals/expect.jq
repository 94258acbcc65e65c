.error.code == -32602 and .id == 119 and .error.data.field == "env.A=B"
