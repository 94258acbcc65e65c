(.id | length) == 100000 and (.result | type) == "object"
