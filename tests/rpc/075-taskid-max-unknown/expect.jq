.error.code == 4 and .id == 87 and .error.message == "NoSuchTask"
