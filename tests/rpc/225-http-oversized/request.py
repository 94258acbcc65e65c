# one byte over --max-request
import os, sys
LIMIT = int(os.environ["MAX_REQUEST"]); sys.stdout.write('{"jsonrpc":"2.0","id":1,"method":"daemon.info"}' + ' ' * (LIMIT + 1 - 47)); assert len('{"jsonrpc":"2.0","id":1,"method":"daemon.info"}') == 47
