# 20,000 unknown parameters: one -32602 naming one of them
import os, sys
import json; sys.stdout.write(json.dumps({"jsonrpc":"2.0","id":232,"method":"task.list","params":{"p%d" % i: i for i in range(20000)}}))
