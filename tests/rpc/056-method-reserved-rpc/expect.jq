.error.code == -32601 and .id == 54
