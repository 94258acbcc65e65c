type == "object" and .error.code == -32600 and .id == null
