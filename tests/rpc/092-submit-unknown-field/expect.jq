.error.code == -32602 and .id == 105 and .error.data.field == "bogus"
