(.result | type) == "object"
