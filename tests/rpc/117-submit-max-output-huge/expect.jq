.error.code == -32602 and .id == 130 and .error.data.field == "max_output"
