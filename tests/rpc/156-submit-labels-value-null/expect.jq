.error.code == -32602 and .id == 169 and .error.data.field == "labels.a"
