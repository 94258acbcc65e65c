# a label name of 65 bytes (the limit is 64)
import os, sys
import json; sys.stdout.write(json.dumps({"jsonrpc":"2.0","id":183,"method":"task.submit","params":{"kind":"sleep","seconds":0,"labels":{"n"*65: "v"}}}))
