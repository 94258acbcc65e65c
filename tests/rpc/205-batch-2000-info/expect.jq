type == "array" and length == 2000 and ([.[].id] == [range(0; 2000)]) and all(.[]; (.result | type) == "object")
