"""The `equiv` binary for the tests that check a dump the way a user does (EQUIV_BINARY, set by
the CTest test; those tests skip without it)."""

import os
import subprocess
import unittest

BINARY = os.environ.get("EQUIV_BINARY", "")


def run(*args):
    """(exit code, stdout, stderr) of `equiv ARGS`."""
    if not BINARY:
        raise unittest.SkipTest("EQUIV_BINARY is not set (CTest's python.equiv_dump sets it)")
    p = subprocess.run([BINARY, *map(str, args)], capture_output=True, text=True, timeout=300)
    return p.returncode, p.stdout, p.stderr
