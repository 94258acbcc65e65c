.error.code == -32602 and .id == 129 and .error.data.field == "max_output"
