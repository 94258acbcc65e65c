# 100,000 nested arrays: deeper than any parser limit
import os, sys
sys.stdout.write('[' * 100000 + ']' * 100000)
