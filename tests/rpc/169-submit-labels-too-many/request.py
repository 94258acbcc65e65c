# 65 labels (the limit is 64)
import os, sys
import json; sys.stdout.write(json.dumps({"jsonrpc":"2.0","id":182,"method":"task.submit","params":{"kind":"sleep","seconds":0,"labels":{"l%d" % i: "v" for i in range(65)}}}))
