.error.code == -32602 and .id == 170 and .error.data.field == "labels."
