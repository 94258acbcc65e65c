.id == -7 and (.result | type) == "object"
