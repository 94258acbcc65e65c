# 50,002 argv entries, the last not a string
import os, sys
import json; sys.stdout.write(json.dumps({"jsonrpc":"2.0","id":233,"method":"task.submit","params":{"kind":"exec","argv":["true"] + ["x"] * 50000 + [7]}}))
