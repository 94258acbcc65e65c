.error.code == -32602 and .id == 364 and .error.data.field == "label.a"
