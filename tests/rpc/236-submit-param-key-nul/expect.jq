.error.code == -32602 and .id == 125 and .error.data.field == "lab\\u0000els"
