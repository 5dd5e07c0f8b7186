"""A Python 2 module."""
import sys

print "hello"
exec "x = 1"
print >>sys.stderr, "to stderr"
