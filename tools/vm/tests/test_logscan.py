#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Unit tests of tools/vm/logscan.py against recorded console logs.

Run: make -C tools/vm check   (or: cd tools/vm/tests && python3 -m unittest)

Fixtures (tools/vm/tests/fixtures/):
  clean-*.log       real boots by tools/vm/run, module loaded; must pass
  *-6.12.log/*-6.1.log without a "hand" note below: real console logs
                    captured with tools/vm/tests/splat/vm_splat.ko on the
                    stock kernels (see fixtures/README)
  others            hand-written in the exact format of the kernel's
                    printk calls (kernels at hand cannot produce them:
                    no UBSAN anywhere, no KASAN/lockdep/kmemleak on stock)
"""

import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "fixtures")
sys.path.insert(0, os.path.dirname(HERE))

import logscan  # noqa: E402

ALLOWED = 12288  # O + E: an unsigned out-of-tree module was loaded

# file -> (expected kind or None for clean, substring of the finding,
#          taint passed to the scanner, end marker seen)
EXPECT = {
    "clean-stock-6.12.log": (None, None, ALLOWED, True),
    "clean-stock-6.1.log": (None, None, ALLOWED, True),
    "clean-debug-6.12.log": (None, None, 4096, True),     # no module signing: O only
    "kasan-uaf-debug-6.12.log": ("KASAN report",
                                 "BUG: KASAN: slab-use-after-free in vm_splat_read",
                                 4128, True),
    "kmemleak-debug-6.12.log": ("kmemleak", "unreferenced object 0xffff8880060c9800 (size 1024)",
                                4096, True),
    "lockdep-debug-6.12.log": ("lockdep report",
                               "WARNING: possible circular locking dependency detected",
                               4096, True),
    "false-positives.log": (None, None, ALLOWED, True),
    "panic-sysrq-6.12.log": ("kernel panic", "Kernel panic - not syncing: sysrq triggered crash",
                             None, False),
    "panic-sysrq-6.1.log": ("kernel panic", "Kernel panic - not syncing: sysrq triggered crash",
                            None, False),
    "oops-null-6.12.log": ("BUG report", "BUG: kernel NULL pointer dereference", None, False),
    "oops-null-6.1.log": ("BUG report", "BUG: kernel NULL pointer dereference", None, False),
    "oops-gpf-6.12.log": ("oops", "Oops: general protection fault", None, False),
    "int3-before-init-6.12.log": ("oops", "Oops: int3: 0000 [#1]", None, False),
    "gpf-6.1.log": ("general protection fault",
                    "general protection fault, probably for non-canonical", None, False),
    "kernel-bug-6.12.log": ("kernel BUG", "kernel BUG at ", None, False),
    "kernel-bug-6.1.log": ("kernel BUG", "kernel BUG at ", None, False),
    "invalid-opcode-6.1.log": ("invalid opcode", "invalid opcode: 0000 [#1]", None, False),
    "divide-error-6.1.log": ("divide error", "divide error: 0000 [#1]", None, False),
    "unable-to-handle.log": ("oops", "Unable to handle kernel NULL pointer", None, False),
    "warning-6.12.log": ("kernel warning", "WARNING: CPU: 0 PID: ", ALLOWED, True),
    "warning-6.1.log": ("kernel warning", "WARNING: CPU: ", ALLOWED, True),
    "interleaved.log": ("kernel warning", "WARNING: CPU: 1 PID: 177 at mm/gup.c:1325",
                        ALLOWED, True),
    "kasan-uaf.log": ("KASAN report", "BUG: KASAN: slab-use-after-free in vm_splat_read",
                      4128, True),
    "ubsan.log": ("UBSAN report", "UBSAN: shift-out-of-bounds in", ALLOWED, True),
    "lockdep-circular.log": ("lockdep report",
                             "WARNING: possible circular locking dependency detected",
                             4096, True),
    "hung-task-6.12.log": ("hung task", "INFO: task vm_splat_hung:", ALLOWED, True),
    "hung-task-6.1.log": ("hung task", "INFO: task vm_splat_hung:", ALLOWED, True),
    "rcu-stall-6.12.log": ("RCU stall", "rcu: INFO: rcu_preempt self-detected stall on CPU",
                           ALLOWED, True),
    "softlockup-6.12.log": ("soft lockup", "watchdog: BUG: soft lockup - CPU#", None, True),
    "kmemleak.log": ("kmemleak", "unreferenced object 0xffff888005a38000 (size 4096)",
                     4096, True),
    "bad-taint-6.12.log": ("bad taint", "U (user request)", 64, True),
    "missing-marker-6.12.log": ("missing end marker", "end-of-run marker", None, False),
}


def read(name):
    with open(os.path.join(FIXTURES, name), encoding="utf-8", errors="replace") as f:
        return f.readlines()


class Fixtures(unittest.TestCase):

    def test_every_fixture_has_an_expectation(self):
        logs = {f for f in os.listdir(FIXTURES) if f.endswith(".log")}
        self.assertEqual(sorted(logs - set(EXPECT)), [], "fixtures without expectation")
        self.assertEqual(sorted(set(EXPECT) - logs), [], "expectations without fixture")

    def test_fixtures(self):
        for name, (kind, text, taint, marker) in sorted(EXPECT.items()):
            with self.subTest(fixture=name):
                found = logscan.scan(read(name), taint=taint, marker_seen=marker)
                if kind is None:
                    self.assertEqual(found, [], f"{name} should be clean")
                    continue
                self.assertTrue(found, f"{name}: nothing found")
                self.assertEqual(found[0].kind, kind, found[0].message())
                self.assertIn(text, found[0].text)
                self.assertTrue(found[0].message().startswith(f"kernel: {kind}: "))

    def test_splat_logs_are_only_their_splat(self):
        # The run-level facts are what fail these two; their logs are clean.
        self.assertEqual(logscan.scan(read("bad-taint-6.12.log")), [])
        self.assertEqual(logscan.scan(read("missing-marker-6.12.log")), [])

    def test_clean_boots_have_no_kernel_lines_matching(self):
        for name in [n for n in EXPECT if n.startswith("clean-")]:
            with self.subTest(fixture=name):
                self.assertEqual(logscan.scan_lines(read(name)), [])


class Taint(unittest.TestCase):

    def test_decode(self):
        self.assertEqual(logscan.decode_taint(0), "")
        self.assertEqual(logscan.decode_taint(12288), "OE")
        self.assertEqual(logscan.decode_taint(1 | 512 | 262144), "PWN")

    def test_allowed(self):
        for v in (0, 4096, 8192, 12288, 262144, 12288 | 262144):
            self.assertIsNone(logscan.check_taint(v), v)

    def test_not_allowed(self):
        f = logscan.check_taint(12288 | 512)
        self.assertEqual(f.kind, "bad taint")
        self.assertIn("W (kernel warning)", f.text)
        self.assertIn("tainted=12800 (WOE)", f.text)
        f = logscan.check_taint(1 << 22)
        self.assertIn("unknown", f.text)


class Messages(unittest.TestCase):

    def msgs(self, line):
        return list(logscan.messages(line))

    def test_prefixes(self):
        self.assertEqual(self.msgs("[   12.345678] BUG: x")[0], (True, "BUG: x"))
        self.assertEqual(self.msgs("[   12.345678][  T123] BUG: x")[0], (True, "BUG: x"))
        self.assertEqual(self.msgs("[   12.345678][    C1] BUG: x")[0], (True, "BUG: x"))
        self.assertEqual(self.msgs("BUG: x")[0], (False, "BUG: x"))

    def test_record_in_the_middle_of_a_line(self):
        m = self.msgs("user text[    6.2] WARNING: CPU: 1 PID: 2 at x")
        self.assertIn((True, "WARNING: CPU: 1 PID: 2 at x"), m)

    def test_anchored(self):
        for line in ("[ 0.38] RETBleed: WARNING: Spectre v2 mitigation leaves CPU vulnerable",
                     "[ 1.00] foo: BUG: not at the start",
                     "[ 1.00] ACPI BIOS Error (bug): Could not resolve symbol",
                     "[ 1.00] warning: lower case",
                     "[ 1.00] Oopsie"):
            self.assertEqual(logscan.scan_lines([line]), [], line)

    def test_unstamped_text_is_not_kernel_text_in_a_stamped_log(self):
        log = ["[    0.000000] Linux version 6.12", "WARNING: typed by a user",
               "unreferenced object 0xffff888000000000 (size 8):"]
        found = logscan.scan_lines(log)
        self.assertEqual([f.kind for f in found], ["kmemleak"])

    def test_unstamped_log(self):
        log = ["Linux version 6.12", "WARNING: CPU: 0 PID: 1 at kernel/x.c:1 f+0x1/0x2"]
        self.assertEqual([f.kind for f in logscan.scan_lines(log)], ["kernel warning"])

    def test_ignore(self):
        log = ["[ 1.0] WARNING: CPU: 0 PID: 1 at drivers/known.c:12 probe+0x1/0x2"]
        self.assertEqual(len(logscan.scan_lines(log)), 1)
        self.assertEqual(logscan.scan_lines(log, ignore=[r"drivers/known\.c"]), [])

    def test_first_finding_wins(self):
        found = logscan.scan(read("kernel-bug-6.12.log"))
        kinds = [f.kind for f in found]
        self.assertEqual(kinds[0], "kernel BUG")
        self.assertIn("oops", kinds)          # the Oops line that follows
        self.assertIn("kernel panic", kinds)  # oops=panic


class Cli(unittest.TestCase):
    SCRIPT = os.path.join(os.path.dirname(HERE), "logscan.py")

    def run_cli(self, *args):
        return subprocess.run([sys.executable, self.SCRIPT, *args],
                              capture_output=True, text=True, timeout=60)

    def test_clean(self):
        p = self.run_cli(os.path.join(FIXTURES, "clean-stock-6.12.log"), "--taint", "12288")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def test_problem(self):
        p = self.run_cli(os.path.join(FIXTURES, "kasan-uaf.log"))
        self.assertEqual(p.returncode, 100)
        self.assertIn("kernel: KASAN report: BUG: KASAN: slab-use-after-free", p.stdout)
        self.assertEqual(len(p.stdout.splitlines()), 1)

    def test_taint_and_marker_options(self):
        log = os.path.join(FIXTURES, "clean-stock-6.12.log")
        p = self.run_cli(log, "--taint", "0x200")
        self.assertEqual(p.returncode, 100)
        self.assertIn("bad taint", p.stdout)
        p = self.run_cli(log, "--no-marker")
        self.assertEqual(p.returncode, 100)
        self.assertIn("missing end marker", p.stdout)

    def test_all(self):
        p = self.run_cli(os.path.join(FIXTURES, "kernel-bug-6.12.log"), "--all")
        self.assertEqual(p.returncode, 100)
        self.assertGreater(len(p.stdout.splitlines()), 1)

    def test_missing_file(self):
        p = self.run_cli(os.path.join(FIXTURES, "no-such.log"))
        self.assertEqual(p.returncode, 2)


if __name__ == "__main__":
    unittest.main()
