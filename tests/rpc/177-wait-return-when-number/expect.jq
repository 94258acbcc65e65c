.error.code == -32602 and .id == 306 and .error.data.field == "return_when"
