.id == 0 and (.result | type) == "object"
