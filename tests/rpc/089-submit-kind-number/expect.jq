.error.code == -32602 and .id == 102 and .error.data.field == "kind"
