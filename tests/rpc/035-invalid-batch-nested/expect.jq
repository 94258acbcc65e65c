type == "array" and length == 1 and .[0].error.code == -32600 and .[0].id == null
