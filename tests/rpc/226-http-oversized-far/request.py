# a body about 24 times --max-request
import os, sys
LIMIT = int(os.environ["MAX_REQUEST"]); sys.stdout.write('[' + ','.join(['{"jsonrpc":"2.0","id":1,"method":"daemon.info"}'] * (LIMIT // 2)) + ']')
