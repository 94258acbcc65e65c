# 1025 dependencies (the limit is 1024)
import os, sys
import json; sys.stdout.write(json.dumps({"jsonrpc":"2.0","id":184,"method":"task.submit","params":{"kind":"sleep","seconds":0,"after":list(range(1, 1026))}}))
