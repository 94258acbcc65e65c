.error.code == -32602 and .id == 103 and .error.data.field == "kind"
