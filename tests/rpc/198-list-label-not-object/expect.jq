.error.code == -32602 and .id == 363 and .error.data.field == "label"
