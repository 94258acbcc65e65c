.error.code == -32602 and .id == 124 and .error.data.field == "env.A\\u0000B" and (.error.data.reason | test("NUL"))
