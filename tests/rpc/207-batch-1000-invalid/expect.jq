type == "array" and length == 1000 and all(.[]; .error.code == -32600 and .id == null)
