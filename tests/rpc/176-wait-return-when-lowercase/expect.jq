.error.code == -32602 and .id == 305 and .error.data.field == "return_when"
