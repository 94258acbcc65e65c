.error.code == -32602 and .id == 304 and .error.data.field == "return_when"
