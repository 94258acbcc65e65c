.error.code == -32602 and .id == 104 and .error.data.field == "kind"
