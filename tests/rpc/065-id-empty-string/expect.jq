.id == "" and (.result | type) == "object"
