.error.code == -32602 and .id == 139 and .error.data.field == "seconds"
