.id == 1.5 and (.result | type) == "object"
