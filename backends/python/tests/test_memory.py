"""memory.py: process.memory from /proc."""

import os
import tempfile
import unittest

from backend import memory


class Read(unittest.TestCase):
    def test_reads_this_process(self):
        m = memory.read()
        self.assertGreater(m["rss_bytes"], 1 << 20)
        self.assertGreaterEqual(m["peak_rss_bytes"], m["rss_bytes"])

    def test_reset_lowers_the_peak(self):
        try:
            memory.read(reset_peak=True)
        except memory.Unsupported as e:
            self.skipTest(str(e))
        block = bytearray(64 << 20)  # touch 64 MiB
        for i in range(0, len(block), 4096):
            block[i] = 1
        high = memory.read()["peak_rss_bytes"]
        del block
        memory.read(reset_peak=True)
        low = memory.read()["peak_rss_bytes"]
        self.assertLess(low, high - (32 << 20), "the peak after a reset forgets the 64 MiB block")

    def test_refused_reset_is_unsupported(self):
        with tempfile.TemporaryDirectory() as d:
            with self.assertRaises(memory.Unsupported):
                memory.read(reset_peak=True, clear_refs=os.path.join(d, "missing", "clear_refs"))
            with self.assertRaises(memory.Unsupported):
                memory.read(status=os.path.join(d, "no-status"))


if __name__ == "__main__":
    unittest.main()
