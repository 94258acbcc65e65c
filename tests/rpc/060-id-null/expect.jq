has("id") and .id == null and (.result | type) == "object"
