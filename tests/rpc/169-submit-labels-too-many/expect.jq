.error.code == -32602 and .id == 182 and .error.data.field == "labels"
