#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Write make check's results as JUnit XML, for CI test reporters.

One <testsuite> per kernel x suite, one <testcase> per counted KTAP
result (tools/ktap.py's Summary.cases), a skip as <skipped message=REASON>,
a failure as <failure message=...> whose text is the message plus, where
the harness kept one, an excerpt of the guest's kernel log.  The layout is
the one GitLab, Jenkins and GitHub reporters (dorny, mikepenz, EnricoMi)
read: a <testsuites> root; name, tests, failures, errors, skipped and time
on every testsuite; name, classname and time on every testcase.

Usage as a tool:  tools/results_junit.py KTAP-FILE... -o OUT.xml
(each file is one suite, named after the file).
"""

import argparse
import os
import re
import sys
import time
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ktap  # noqa: E402

# Lines of a kernel log that start the excerpt worth showing.
_SPLAT = re.compile(r"BUG:|WARNING:|Oops|KASAN|UBSAN|general protection|"
                    r"Kernel panic|Call Trace:|possible .*locking|"
                    r"unreferenced object|hung_task|soft lockup|RCU stall")
EXCERPT_LINES = 40
# XML 1.0 cannot carry most control characters, even escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(s):
    return _NOT_XML.sub("?", str(s))


def kernel_log_excerpt(path, lines=EXCERPT_LINES):
    """The first kernel splat in the log at path, else its last lines."""
    try:
        with open(path, errors="replace") as f:
            log = f.read().splitlines()
    except OSError:
        return ""
    for i, line in enumerate(log):
        if _SPLAT.search(line):
            start = max(0, i - 5)
            return "\n".join(log[start:start + lines])
    return "\n".join(log[-lines:])


def _classname(kernel, suite):
    # Jenkins splits a classname at dots into package and class: keep the
    # kernel's version dot out of it so that each kernel is one package.
    clean = re.sub(r"[^A-Za-z0-9_:-]+", "_", suite).strip("_") or "suite"
    return f"{kernel.replace('.', '_')}.{clean}"


class Row:
    """One kernel x suite of a run: its Summary and what explains it."""

    def __init__(self, kernel, suite, summary, seconds=0.0, log=""):
        self.kernel = kernel
        self.suite = suite
        self.summary = summary
        self.seconds = seconds
        self.log = log          # a kernel log whose excerpt goes with failures


def _cases(row):
    s = row.summary
    if s.cases:
        return [(c.name, c.status, c.message, c.output) for c in s.cases]
    # A row counted without KTAP (a build, a command's exit status), or a
    # KTAP document that produced no result at all.
    if s.failed or not s.seen_version and not s.passed:
        why = "; ".join(s.failures) or "failed"
        return [(row.suite, "failed", why, "")]
    if s.skipped and not s.passed:
        return [(row.suite, "skipped", "; ".join(s.skips), "")]
    return [(row.suite, "passed", "", "")]


def build(rows, phases=(), timestamp=None):
    """Return the ElementTree of rows (Row) and phases (name, secs, ok)."""
    stamp = timestamp or time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
    root = ET.Element("testsuites", name="make check")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    total_time = 0.0
    groups = [(r.kernel, r.suite, r.seconds, r.log, _cases(r)) for r in rows]
    if phases:
        groups.append(("check.py", "phases", sum(t for _, t, _ in phases),
                       "", [(n, "passed" if ok else "failed",
                             "" if ok else "phase failed; see the log", "", t)
                            for n, t, ok in phases]))
    for kernel, suite, seconds, log, cases in groups:
        ts = ET.SubElement(root, "testsuite", name=_text(f"{kernel} {suite}"),
                           timestamp=stamp, hostname=os.uname().nodename)
        counts = {"failed": 0, "skipped": 0}
        excerpt = None
        for case in cases:
            name, status, message, output = case[:4]
            # A lone case stands for the whole row and takes its time.
            secs = case[4] if len(case) > 4 else \
                (seconds if len(cases) == 1 else 0.0)
            tc = ET.SubElement(ts, "testcase", name=_text(name),
                               classname=_classname(kernel, suite),
                               time=f"{secs:.3f}")
            if status == "skipped":
                counts["skipped"] += 1
                ET.SubElement(tc, "skipped", message=_text(message))
            elif status == "failed":
                counts["failed"] += 1
                f = ET.SubElement(tc, "failure", message=_text(message),
                                  type="failure")
                if excerpt is None:
                    excerpt = kernel_log_excerpt(log) if log else ""
                body = message
                if output:
                    body += f"\n\n{output}"
                if excerpt:
                    body += (f"\n\n--- kernel log ({os.path.basename(log)}), "
                             f"excerpt ---\n{excerpt}")
                f.text = _text(body)
        ts.set("tests", str(len(cases)))
        ts.set("failures", str(counts["failed"]))
        ts.set("errors", "0")
        ts.set("skipped", str(counts["skipped"]))
        ts.set("time", f"{seconds:.3f}")
        totals["tests"] += len(cases)
        totals["failures"] += counts["failed"]
        totals["skipped"] += counts["skipped"]
        total_time += seconds
    for k, v in totals.items():
        root.set(k, str(v))
    root.set("time", f"{total_time:.3f}")
    ET.indent(root)
    return ET.ElementTree(root)


def write(path, rows, phases=(), timestamp=None):
    build(rows, phases, timestamp).write(path, encoding="utf-8",
                                         xml_declaration=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("files", nargs="+", help="KTAP files, one suite each")
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--kernel", default="host")
    args = ap.parse_args()
    rows = []
    for path in args.files:
        suite = os.path.splitext(os.path.basename(path))[0]
        with open(path, errors="replace") as f:
            rows.append(Row(args.kernel, suite, ktap.parse(f.read(), suite)))
    write(args.output, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
