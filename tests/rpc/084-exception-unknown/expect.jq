.error.code == 4 and .id == 96
