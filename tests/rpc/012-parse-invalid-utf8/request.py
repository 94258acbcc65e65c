# raw bytes 0xff 0xfe inside a JSON string: the text is not UTF-8
import os, sys
sys.stdout.buffer.write(b'{"jsonrpc":"2.0","id":1,"method":"task.submit","params":{"kind":"exec","argv":["echo","\xff\xfe"]}}')
