# a key of 257 bytes (the limit is 256)
import os, sys
import json; sys.stdout.write(json.dumps({"jsonrpc":"2.0","id":181,"method":"task.submit","params":{"kind":"sleep","seconds":0,"key":"k"*257}}))
