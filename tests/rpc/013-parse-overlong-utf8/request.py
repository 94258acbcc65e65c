# overlong encoding of '/' (0xc0 0xaf) in the method name
import os, sys
sys.stdout.buffer.write(b'{"jsonrpc":"2.0","id":1,"method":"daemon.info\xc0\xaf"}')
