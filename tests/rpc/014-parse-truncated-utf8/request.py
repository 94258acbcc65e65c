# a 3-byte sequence cut after 2 bytes
import os, sys
sys.stdout.buffer.write(b'{"jsonrpc":"2.0","id":1,"method":"task.submit","params":{"kind":"sleep","seconds":0,"result":"\xe2\x82"}}')
