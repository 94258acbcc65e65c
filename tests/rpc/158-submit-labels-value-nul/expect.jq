.error.code == -32602 and .id == 171 and .error.data.field == "labels.a"
