.error.code == -32602 and .id == 168 and .error.data.field == "labels.a"
