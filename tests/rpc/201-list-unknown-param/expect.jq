.error.code == -32602 and .id == 366 and .error.data.field == "offset"
