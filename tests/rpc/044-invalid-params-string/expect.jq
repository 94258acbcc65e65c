.error.code == -32600 and .id == 35
