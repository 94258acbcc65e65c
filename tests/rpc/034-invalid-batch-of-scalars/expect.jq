type == "array" and length == 2 and all(.[]; .error.code == -32600 and .id == null)
