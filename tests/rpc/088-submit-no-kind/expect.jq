.error.code == -32602 and .id == 101 and .error.data.field == "kind"
