.error.code == -32700 and .id == null
