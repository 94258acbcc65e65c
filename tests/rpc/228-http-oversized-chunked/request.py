# chunked, so no Content-Length to check up front
import os, sys
LIMIT = int(os.environ["MAX_REQUEST"]); sys.stdout.write('{"jsonrpc":"2.0","id":1,"method":"daemon.info"}' + ' ' * (2 * LIMIT))
