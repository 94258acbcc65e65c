# 10,000 notifications in one body: 200 with an empty body
import os, sys
import json; sys.stdout.write(json.dumps([{"jsonrpc":"2.0","method":"daemon.info"} for i in range(10000)]))
