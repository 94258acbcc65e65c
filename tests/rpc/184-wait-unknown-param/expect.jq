.error.code == -32602 and .id == 313 and .error.data.field == "fs"
