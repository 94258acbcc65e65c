.error.code == -32602 and .id == 180 and .error.data.field == "kind"
