"""Client-API shims for the seed programs; see ../sitecustomize.py."""
import sys


def trace(fmt, *args):
    """Reports what the broker answered, on stderr, so tests can wait for it (e.g. consume-ok before publishing)."""
    sys.stderr.write("[shim] " + (fmt % args) + "\n")
    sys.stderr.flush()
