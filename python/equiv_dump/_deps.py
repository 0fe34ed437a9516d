"""Imports of numpy and torch that say what to install when they are missing."""

_HINT = ("(Debian: apt-get install python3-numpy python3-torch, or "
         "scripts/bootstrap.sh --with-python)")


def numpy():
    try:
        import numpy
    except ImportError as e:
        raise ImportError(f"equiv_dump needs numpy {_HINT}") from e
    return numpy


def torch():
    try:
        import torch
    except ImportError as e:
        raise ImportError(f"equiv_dump needs torch to capture {_HINT}") from e
    return torch
