.error.code == -32602 and .id == 362 and .error.data.field == "unretrieved"
