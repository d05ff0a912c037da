# SPDX-License-Identifier: GPL-2.0
"""Tests for tools/results_junit.py: the JUnit XML CI reporters read."""

import os
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import ktap  # noqa: E402
import results_junit  # noqa: E402

# Pass, fail, skip, KUnit's nesting, kselftest's nesting, names that need
# escaping (&, <, quotes, ]]>, a control character, non-ASCII).
KUNIT = """\
KTAP version 1
1..2
    KTAP version 1
    # Subtest: mlockdev_abi
    1..3
    ok 1 abi_zero
    # abi_version: EXPECTATION FAILED at kernel/tests/abi.c:42
    not ok 2 abi_version <&> "quoted" 'single' ]]> \x01 é
    ok 3 abi_errors # SKIP no user memory & no <pages>
not ok 1 mlockdev_abi
ok 2 mlockdev_plain
"""

KSELFTEST = """\
TAP version 13
1..2
# selftests: mlockdev: mlockdev_abi_test
# TAP version 13
# 1..2
# ok 1 global.opens
# ok 2 global.hugetlb # SKIP no hugepages reserved
ok 1 selftests: mlockdev: mlockdev_abi_test
# selftests: mlockdev: mlockdev_diff_test
# TAP version 13
# 1..1
# not ok 1 diff.fork # TIMEOUT 300 s
not ok 2 selftests: mlockdev: mlockdev_diff_test
"""

CONSOLE = """\
[    1.0] Linux version 6.12.118
[    2.0] mlockdev: loaded
[    3.0] BUG: KASAN: slab-use-after-free in mlockdev_populate+0x42
[    3.1] Call Trace:
"""


def problems(path):
    """What a GitLab, Jenkins or GitHub JUnit reporter would trip over."""
    found = []
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        return [f"not well-formed XML: {e}"]
    if root.tag != "testsuites":
        found.append(f"root is <{root.tag}>, not <testsuites>")
    totals = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    suites = root.findall("testsuite")
    if not suites:
        found.append("no <testsuite>")
    for ts in suites:
        where = f"testsuite {ts.get('name')!r}"
        for attr in ("name", "tests", "failures", "errors", "skipped",
                     "time"):
            if ts.get(attr) is None:
                found.append(f"{where}: no {attr}")
        cases = ts.findall("testcase")
        counted = {
            "tests": len(cases),
            "failures": sum(1 for c in cases if c.find("failure") is not None),
            "errors": sum(1 for c in cases if c.find("error") is not None),
            "skipped": sum(1 for c in cases if c.find("skipped") is not None),
        }
        for attr, n in counted.items():
            if ts.get(attr) != str(n):
                found.append(f"{where}: {attr}={ts.get(attr)} but {n} "
                             "testcases say so")
            totals[attr] += n
        try:
            float(ts.get("time", "x"))
        except ValueError:
            found.append(f"{where}: time is not a number")
        for tc in cases:
            for attr in ("name", "classname", "time"):
                if not tc.get(attr):
                    found.append(f"{where}: a testcase without {attr}")
            try:
                float(tc.get("time", "x"))
            except ValueError:
                found.append(f"{where}: testcase time is not a number")
            outcome = [c.tag for c in tc if c.tag in ("failure", "error",
                                                      "skipped")]
            if len(outcome) > 1:
                found.append(f"{where}: testcase with {outcome}")
            for c in tc:
                if c.tag in ("failure", "skipped") and c.get("message") is None:
                    found.append(f"{where}: <{c.tag}> without message")
    for attr, n in totals.items():
        if root.get(attr) is not None and root.get(attr) != str(n):
            found.append(f"testsuites: {attr}={root.get(attr)}, suites "
                         f"add up to {n}")
    return found


class JUnitTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)
        self.console = os.path.join(self.dir.name, "console.log")
        with open(self.console, "w") as f:
            f.write(CONSOLE)
        self.path = os.path.join(self.dir.name, "junit.xml")
        build_ok = ktap.Summary(seen_version=True, passed=1)
        build_bad = ktap.Summary(seen_version=True, failed=1,
                                 failures=["stock-6.12 build: 2 warnings"])
        self.rows = [
            results_junit.Row("debug-7.3", "kunit", ktap.parse(KUNIT, "k"),
                              12.5, self.console),
            results_junit.Row("stock-6.12", "kselftest",
                              ktap.parse(KSELFTEST, "s"), 30.0, self.console),
            results_junit.Row("stock-6.12", "build: module W=1 C=1",
                              build_ok, 4.0),
            results_junit.Row("stock-6.1", "build: module W=1 C=1",
                              build_bad, 3.0),
        ]
        results_junit.write(self.path, self.rows,
                            [("setup", 1.0, True), ("guest", 99.0, False)])
        self.root = ET.parse(self.path).getroot()

    def suite(self, name):
        return self.root.find(f"testsuite[@name='{name}']")

    def test_reporters_conventions(self):
        self.assertEqual(problems(self.path), [])

    def test_one_testsuite_per_row_and_phases(self):
        names = [ts.get("name") for ts in self.root.findall("testsuite")]
        self.assertEqual(names, ["debug-7.3 kunit", "stock-6.12 kselftest",
                                 "stock-6.12 build: module W=1 C=1",
                                 "stock-6.1 build: module W=1 C=1",
                                 "check.py phases"])

    def test_counts_match_ktap(self):
        for row in self.rows:
            ts = self.suite(f"{row.kernel} {row.suite}")
            s = row.summary
            self.assertEqual(int(ts.get("tests")),
                             max(1, s.passed + s.failed + s.skipped))
            self.assertEqual(int(ts.get("failures")), s.failed)
            self.assertEqual(int(ts.get("skipped")), s.skipped)
        self.assertEqual(self.root.get("tests"), "11")
        self.assertEqual(self.root.get("failures"), "4")

    def test_nested_names_and_escaping(self):
        names = [tc.get("name") for tc in self.suite("debug-7.3 kunit")]
        self.assertEqual(names[0], "mlockdev_abi / abi_zero")
        self.assertTrue(names[1].startswith(
            "mlockdev_abi / abi_version <&> \"quoted\" 'single' ]]> ? é"))
        self.assertEqual(names[3], "mlockdev_plain")
        with open(self.path, "rb") as f:
            raw = f.read()
        self.assertNotIn(b"\x01", raw)
        self.assertIn("é".encode(), raw)
        classes = {tc.get("classname") for tc in self.suite("debug-7.3 kunit")}
        self.assertEqual(classes, {"debug-7_3.kunit"})

    def test_skip_reason(self):
        tc = self.suite("debug-7.3 kunit")[2]
        self.assertEqual(tc.find("skipped").get("message"),
                         "no user memory & no <pages>")

    def test_failure_message_and_kernel_log(self):
        kunit = self.suite("debug-7.3 kunit").find("testcase/failure")
        self.assertIn("EXPECTATION FAILED at kernel/tests/abi.c:42",
                      kunit.text)
        fail = self.suite("stock-6.12 kselftest").find("testcase/failure")
        self.assertEqual(fail.get("message"), "TIMEOUT 300 s")
        self.assertIn("BUG: KASAN: slab-use-after-free", fail.text)
        self.assertIn("kernel log (console.log)", fail.text)
        build = self.suite("stock-6.1 build: module W=1 C=1")
        self.assertIn("2 warnings",
                      build.find("testcase/failure").get("message"))
        self.assertEqual(build.find("testcase").get("time"), "3.000")

    def test_failed_phase(self):
        phases = self.suite("check.py phases")
        self.assertEqual(phases.get("failures"), "1")
        self.assertIsNotNone(phases.find("testcase[@name='guest']/failure"))

    def test_validator_catches_a_bad_file(self):
        bad = os.path.join(self.dir.name, "bad.xml")
        with open(bad, "w") as f:
            f.write('<testsuite name="x" tests="2" failures="0" errors="0" '
                    'skipped="0" time="1"><testcase name="a" time="0"/>'
                    '</testsuite>')
        self.assertEqual(len(problems(bad)), 3)   # root, count, classname


if __name__ == "__main__":
    unittest.main()
