# SPDX-License-Identifier: GPL-2.0
"""Tests for check.py --jobs: the automatic count and the summary's order."""

import argparse
import contextlib
import io
import os
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import check  # noqa: E402

GIB = 1 << 20   # in KiB, as /proc/meminfo counts


class AutoJobsTest(unittest.TestCase):
    def test_one_guest_per_two_cores_and_4_gib(self):
        self.assertEqual(check.guest_jobs_auto(2, 24 * GIB), 1)
        self.assertEqual(check.guest_jobs_auto(16, 64 * GIB), 8)
        self.assertEqual(check.guest_jobs_auto(16, 9 * GIB), 2)
        self.assertEqual(check.guest_jobs_auto(7, 64 * GIB), 3)

    def test_at_least_one(self):
        self.assertEqual(check.guest_jobs_auto(1, 64 * GIB), 1)
        self.assertEqual(check.guest_jobs_auto(16, 1 * GIB), 1)

    def test_this_machine(self):
        self.assertGreaterEqual(check.guest_jobs_auto(), 1)

    def test_parse_jobs(self):
        self.assertEqual(check.parse_jobs("auto"), "auto")
        self.assertEqual(check.parse_jobs("3"), 3)
        for bad in ("0", "-1", "many"):
            with self.assertRaises(argparse.ArgumentTypeError):
                check.parse_jobs(bad)


class FakeGuests(check.Check):
    """Guests that end in the reverse of their start order."""

    def run_guest(self, kernel, prefix=""):
        delay = {"stock-6.12": 0.3, "stock-6.1": 0.2}.get(kernel, 0.0)
        time.sleep(delay)
        check.say(f"booted {kernel}", prefix)
        rc = 1 if kernel == "stock-7.2" else 0
        body = ("KTAP version 1\n1..2\nok 1 a\n"
                f"{'not ' if rc else ''}ok 2 b\n")
        text = "".join(f"MLOCKDEV-SUITE-BEGIN {s}\n{body}"
                       f"MLOCKDEV-SUITE-END {s} rc={rc}\n"
                       for s in self.GUEST_SUITES)
        return rc, text, delay


class GuestOrderTest(unittest.TestCase):
    def run_check(self, jobs):
        kernels = ["stock-6.12", "stock-6.1", "debug-6.12", "stock-7.2"]
        args = argparse.Namespace(kernels=kernels, jobs=jobs, accel="tcg",
                                  skip=[])
        with tempfile.TemporaryDirectory() as d:
            c = FakeGuests(args, logdir=d)
            # debug-6.12's module "did not build": a row, but no guest.
            c.modules = {k: "/nonexistent" for k in kernels
                         if k != "debug-6.12"}
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                c.guest()
                c.report()
            table = out.getvalue().split("\nkernel ", 1)[1]
            table = table.split("\nLogs:")[0]
            rows = [(k, n, s.as_dict()) for k, n, s in c.res.rows]
            return rows, table, out.getvalue(), os.listdir(d + "/ktap")

    def test_summary_identical_in_parallel(self):
        rows1, table1, out1, ktap1 = self.run_check(1)
        rows3, table3, out3, ktap3 = self.run_check(3)
        self.assertEqual(rows1, rows3)
        self.assertEqual(table1, table3)
        self.assertEqual(sorted(ktap1), sorted(ktap3))
        self.assertEqual([r[0] for r in rows1[:6]], ["stock-6.12"] * 6)
        self.assertIn(("debug-6.12", "guest"), [r[:2] for r in rows1])

    def test_lines_name_their_kernel_in_parallel(self):
        _, _, out1, _ = self.run_check(1)
        _, _, out3, _ = self.run_check(3)
        self.assertIn("\nbooted stock-6.1\n", out1)
        self.assertIn("\n[stock-6.1] booted stock-6.1\n", out3)
        # The fake guests end in reverse order: stock-7.2 first.
        self.assertLess(out3.index("booted stock-7.2"),
                        out3.index("booted stock-6.12"))


if __name__ == "__main__":
    unittest.main()
