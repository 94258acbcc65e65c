# a 100,000-character string id is echoed
import os, sys
import json; sys.stdout.write(json.dumps({"jsonrpc":"2.0","id":"i"*100000,"method":"daemon.info"}))
