.error.code == -32602 and .id == 232 and (.error.data.field | startswith("p"))
