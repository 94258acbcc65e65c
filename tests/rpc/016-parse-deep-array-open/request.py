# 100,000 unclosed '['
import os, sys
sys.stdout.write('[' * 100000)
