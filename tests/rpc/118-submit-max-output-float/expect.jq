.error.code == -32602 and .id == 131 and .error.data.field == "max_output"
