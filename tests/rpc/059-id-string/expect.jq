.id == "abc" and (.result | type) == "object"
