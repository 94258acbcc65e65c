.error.code == -32602 and .id == 167 and .error.data.field == "labels"
