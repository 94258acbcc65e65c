# 100,000 nested objects inside params
import os, sys
sys.stdout.write('{"jsonrpc":"2.0","id":1,"method":"task.submit","params":{"kind":"sleep","seconds":0,"result":' + '{"a":' * 100000 + '1' + '}' * 100000 + '}}')
