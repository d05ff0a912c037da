# SPDX-License-Identifier: GPL-2.0
"""Unit tests for tools/ktap.py: run with python3 -m unittest."""

import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import ktap  # noqa: E402

KSELFTEST_OK = """\
TAP version 13
1..1
# timeout set to 300
# selftests: mlockdev: mlockdev_abi_test
# TAP version 13
# 1..3
# # Starting 3 tests from 1 test cases.
# #  RUN           global.opens ...
# #            OK  global.opens
# ok 1 global.opens
# ok 2 global.version
# ok 3 global.hugetlb # SKIP no hugepages reserved
# # PASSED: 3 / 3 tests passed.
# # Totals: pass:2 fail:0 xfail:0 xpass:0 skip:1 error:0
ok 1 selftests: mlockdev: mlockdev_abi_test
"""

KUNIT = """\
KTAP version 1
1..1
    KTAP version 1
    # Subtest: mlockdev_abi
    # module: mlockdev_kunit
    1..3
    ok 1 abi_reserved_zero_accepts_zero
    not ok 2 abi_version_fills_answer
    ok 3 abi_ioctl_errors # SKIP no user memory
# mlockdev_abi: pass:1 fail:1 skip:1 total:3
not ok 1 mlockdev_abi
"""


class KtapTest(unittest.TestCase):
    def test_kselftest_nested_counts_leaves(self):
        s = ktap.parse(KSELFTEST_OK, "k")
        self.assertEqual((s.passed, s.failed, s.skipped), (2, 0, 1))
        self.assertTrue(s.ok)
        self.assertIn("no hugepages reserved", s.skips[0])

    def test_kunit_indented(self):
        s = ktap.parse(KUNIT, "u")
        self.assertEqual((s.passed, s.failed, s.skipped), (1, 1, 1))
        self.assertFalse(s.ok)
        self.assertIn("abi_version_fills_answer", s.failures[0])

    def test_truncated_plan_is_failure(self):
        text = "TAP version 13\n1..4\nok 1 a\nok 2 b\n"
        s = ktap.parse(text, "t")
        self.assertEqual((s.passed, s.failed), (2, 2))
        self.assertIn("missing", s.failures[0])

    def test_nested_truncation_is_failure(self):
        # The test program died after one of its three results.
        text = ("TAP version 13\n1..1\n# TAP version 13\n# 1..3\n"
                "# ok 1 a\nnot ok 1 selftests: m: prog # exit=139\n")
        s = ktap.parse(text, "t")
        self.assertEqual(s.passed, 1)
        self.assertEqual(s.failed, 2)
        self.assertFalse(s.ok)

    def test_parent_failed_without_failing_child(self):
        text = ("TAP version 13\n1..1\n# TAP version 13\n# 1..1\n"
                "# ok 1 a\nnot ok 1 selftests: m: prog # TIMEOUT 300 seconds\n")
        s = ktap.parse(text, "t")
        self.assertEqual((s.passed, s.failed), (1, 1))

    def test_timeout_and_error_directives_fail(self):
        text = "KTAP version 1\n1..2\nnot ok 1 a # TIMEOUT\nok 2 b # ERROR x\n"
        s = ktap.parse(text)
        self.assertEqual(s.failed, 2)

    def test_xfail_counts_as_pass(self):
        text = "KTAP version 1\n1..1\nok 1 a # XFAIL known\n"
        self.assertEqual(ktap.parse(text).passed, 1)

    def test_no_output_is_failure(self):
        s = ktap.parse("kernel noise only\n", "empty")
        self.assertFalse(s.ok)

    def test_noise_lines_ignored(self):
        text = ("[   12.3] random kernel line\nKTAP version 1\n1..1\n"
                "[   12.4] ok this is not a result\nok 1 a\n")
        s = ktap.parse(text)
        self.assertEqual((s.passed, s.failed), (1, 0))

    def test_skip_without_reason_is_reported(self):
        s = ktap.parse("KTAP version 1\n1..1\nok 1 a # SKIP\n")
        self.assertEqual(s.skipped, 1)
        self.assertIn("no reason", s.skips[0])

    def test_cases_match_counts_and_name_parents(self):
        truncated = "KTAP version 1\n1..3\nok 1 first\n"
        for doc in (KUNIT, KSELFTEST_OK, truncated):
            s = ktap.parse(doc)
            by = [c.status for c in s.cases]
            self.assertEqual((by.count("passed"), by.count("failed"),
                              by.count("skipped")),
                             (s.passed, s.failed, s.skipped))
        self.assertEqual(s.cases[-1].name, "(result 3 missing)")
        s = ktap.parse(KUNIT)
        self.assertEqual(s.cases[1].name,
                         "mlockdev_abi / abi_version_fills_answer")
        s = ktap.parse(KSELFTEST_OK)
        self.assertEqual(s.cases[-1].message, "no hugepages reserved")


if __name__ == "__main__":
    unittest.main()
