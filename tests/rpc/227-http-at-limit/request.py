# exactly --max-request bytes is not over the limit
import os, sys
LIMIT = int(os.environ["MAX_REQUEST"]); sys.stdout.write('{"jsonrpc":"2.0","id":1,"method":"daemon.info"}' + ' ' * (LIMIT - 47)); assert len('{"jsonrpc":"2.0","id":1,"method":"daemon.info"}') == 47
