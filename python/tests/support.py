"""Base classes of the tests: a temporary folder per test, and the small reference Llama."""

import os
import tempfile
import unittest

from tiny_llama import TinyLlama


class TempDirCase(unittest.TestCase):
    def setUp(self):
        self._dir = tempfile.TemporaryDirectory()
        self.addCleanup(self._dir.cleanup)
        self.dir = self._dir.name

    def path(self, name):
        return os.path.join(self.dir, name)


class TinyLlamaCase(TempDirCase):
    """self.reference: TinyLlama(seed=1) in float32, built once per test class."""

    @classmethod
    def setUpClass(cls):
        cls.reference = TinyLlama(seed=1)
