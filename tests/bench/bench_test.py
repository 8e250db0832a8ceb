#!/usr/bin/env python3
"""Unit tests of the bench's own code (no QEMU, no timing): the console
parsers, the U-Boot environment image, the scaling fit, the plot segments
and the SVG. Run by the `unit` suite."""
import os
import struct
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402
import peers  # noqa: E402
import plot  # noqa: E402


class Parsers(unittest.TestCase):
    def test_probe_line_counts_sixteen_instructions_a_tick(self):
        out = "[ 0.9] Run /init\npvm-guest: reached /init at counter tick 1000 (62500000 Hz)\n"
        self.assertEqual(peers.probe_insns(out), 16000)
        self.assertIsNone(peers.probe_insns("pvm-guest: reached /init\n"))

    def test_probe_refuses_another_counter_frequency(self):
        with self.assertRaises(SystemExit):
            peers.probe_insns("pvm-guest: reached /init at counter tick 1 (24000000 Hz)")

    def test_kernel_version(self):
        out = "[    0.000000] Linux version 6.1.0-57-cloud-arm64 (x@y) #1 SMP Debian 6.1.192-3\r\n"
        self.assertEqual(bench.kernel_version(out),
                         "Linux version 6.1.0-57-cloud-arm64 (x@y) #1 SMP Debian 6.1.192-3")


class UBootEnvironment(unittest.TestCase):
    def test_layout_and_crc(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "env.img")
            peers.uboot_env_flash(path, 0x4000000, 0x40000)
            bank = open(path, "rb").read()
        self.assertEqual(len(bank), 64 << 20)  # QEMU virt's flash bank size
        env = bank[:0x40000]
        (crc,) = struct.unpack("<I", env[:4])
        self.assertEqual(crc, zlib.crc32(env[4:]))
        strings = env[4:env.index(b"\0\0", 4)].split(b"\0")
        self.assertIn(b"bootdelay=0", strings)
        self.assertTrue(any(s.startswith(b"bootcmd=qfw load ") for s in strings))
        self.assertEqual(set(bank[0x40000:]), {0xff})

    def test_environment_outside_the_bank_is_refused(self):
        with tempfile.TemporaryDirectory() as tmp, self.assertRaises(SystemExit):
            peers.uboot_env_flash(os.path.join(tmp, "env.img"), 0x0, 0x40000)


class Figures(unittest.TestCase):
    def test_least_squares_on_a_line(self):
        slope, intercept, residual = bench.least_squares([(1, 12), (8, 33), (32, 105)])
        self.assertAlmostEqual(slope, 3)
        self.assertAlmostEqual(intercept, 9)
        self.assertAlmostEqual(residual, 0)

    def test_segments_add_up_to_the_total(self):
        phases = {"setup": 10, "verify": 500, "dice": 60, "rebuild": 7, "handoff": 3}
        hyp = {"setup": 2, "verify": 40, "dice": 80, "load": 4}
        for h in (None, hyp):
            segs = bench.firmware_segments(700, 450.4, phases, h)
            self.assertEqual(sum(v for _, v in segs), 700)
            self.assertTrue(all(v >= 0 for _, v in segs))
            self.assertEqual(dict(segs)["rsa"], 50)

    def test_svg_is_well_formed_with_one_rect_per_segment(self):
        bars = [("direct", [("kernel", 900)], "900"),
                ("pvmfw", [("hashing", 40), ("dice", 5), ("kernel", 900)], "945")]
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "p.svg")
            plot.write_svg(path, "t & <title>", "line 1\nline 2", bars,
                           [("pvmfw", [("hashing", 40), ("dice", 5)], "45")])
            root = ET.parse(path).getroot()
        ns = "{http://www.w3.org/2000/svg}"
        fills = [r.get("fill") for r in root.iter(ns + "rect")]
        for kind in ("hashing", "dice", "kernel"):
            self.assertIn(plot.COLOUR[kind], fills)
        texts = "".join(t.text or "" for t in root.iter(ns + "text"))
        self.assertIn("t & <title>", texts)


if __name__ == "__main__":
    unittest.main()
