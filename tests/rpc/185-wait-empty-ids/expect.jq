.id == 314 and .result == {"done": [], "pending": []}
