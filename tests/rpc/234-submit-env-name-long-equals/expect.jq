.error.code == -32602 and .id == 234 and .error.data.field == "env.X=Y=Z"
