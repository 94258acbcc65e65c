.id == 1 and (.result | type) == "object"
