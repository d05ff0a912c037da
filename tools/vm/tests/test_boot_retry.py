# SPDX-License-Identifier: GPL-2.0
"""Unit tests of runner.failed_before_init(): which kernel findings make the
runner boot once more (only those before /init, when nothing of ours ran)."""

import os
import sys
import types
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "fixtures")
sys.path.insert(0, os.path.dirname(HERE))

import runner  # noqa: E402


def args(loglevel=7):
    return types.SimpleNamespace(loglevel=loglevel, ignore_log=[])


class FailedBeforeInit(unittest.TestCase):
    def check(self, name, want, loglevel=7):
        got = runner.failed_before_init(args(loglevel), os.path.join(FIXTURES, name))
        self.assertEqual(want, got, name)

    def test_int3_oops_during_boot_is_retried(self):
        self.check("int3-before-init-6.12.log", True)

    def test_without_init_line_at_low_loglevel_nothing_is_retried(self):
        # "Run /init" is KERN_INFO: not printed at loglevel 4, so unknown.
        self.check("int3-before-init-6.12.log", False, loglevel=4)

    def test_findings_after_init_are_not_retried(self):
        for name in ("warning-6.12.log", "oops-null-6.12.log", "kernel-bug-6.1.log",
                     "panic-sysrq-6.12.log", "hung-task-6.12.log",
                     "kasan-uaf-debug-6.12.log", "lockdep-debug-6.12.log"):
            self.check(name, False)

    def test_clean_log_is_not_retried(self):
        self.check("clean-stock-6.12.log", False)


if __name__ == "__main__":
    unittest.main()
