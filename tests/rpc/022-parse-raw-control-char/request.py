# an unescaped control character inside a string
import os, sys
sys.stdout.buffer.write(b'{"jsonrpc":"2.0","id":1,"method":"daemon.info\x01"}')
