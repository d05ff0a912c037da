#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Count the results of a KTAP (or TAP 13/14) document.

Both producers mlockdev uses nest their results:

- kselftest's runner prints each test program's own TAP with every line
  prefixed by "# ", under a top-level "ok N selftests: coll: prog";
- KUnit indents a suite's cases by four spaces under the suite's result.

In KTAP a parent's result line comes after its children, so a result is a
leaf when no deeper result came since the previous result at its own level
or above.  Only leaves are counted; a parent that failed although none of
its children did (a crash after the last child) counts as one failure.  A
plan ("1..N") that was not fulfilled counts the missing results as
failures: the producer crashed or was killed.

Usage as a tool:  tools/ktap.py FILE [--name NAME]   (exit 1 on failure)
"""

import argparse
import json
import re
import sys
from dataclasses import dataclass, field

# Indentation units a producer may put in front of a nested line.
_PREFIX = re.compile(r"^((?:# |\s)*)(.*)$")
_RESULT = re.compile(r"^(not )?ok(?:\s+(\d+))?\s*(.*)$")
_PLAN = re.compile(r"^1\.\.(\d+)")
_VERSION = re.compile(r"^(KTAP version \d+|TAP version \d+)")
# The most diagnostic lines kept with a failure.
DIAGNOSTIC_LINES = 20
_DIRECTIVE = re.compile(r"\s#\s*(SKIP|TODO|XFAIL|TIMEOUT|ERROR)\b\s*(.*)$",
                        re.IGNORECASE)


@dataclass
class Case:
    """One counted result, for reports that list tests (JUnit)."""
    path: list          # names from the outermost parent down to the test
    status: str         # "passed", "failed" or "skipped"
    message: str = ""   # the skip reason or the failure's directive
    output: str = ""    # a failure's diagnostic lines, printed before it

    @property
    def name(self):
        return " / ".join(self.path)


@dataclass
class Summary:
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    failures: list = field(default_factory=list)
    skips: list = field(default_factory=list)
    seen_version: bool = False
    cases: list = field(default_factory=list)

    def add(self, other):
        self.passed += other.passed
        self.failed += other.failed
        self.skipped += other.skipped
        self.failures += other.failures
        self.skips += other.skips
        self.seen_version |= other.seen_version
        self.cases += other.cases

    @property
    def ok(self):
        return self.failed == 0 and self.seen_version

    def as_dict(self):
        return {"passed": self.passed, "failed": self.failed,
                "skipped": self.skipped, "failures": self.failures,
                "skips": self.skips}


@dataclass
class _Line:
    depth: int
    kind: str          # "result", "plan", "version"
    ok: bool = True
    name: str = ""
    directive: str = ""
    reason: str = ""
    count: int = 0
    cases: list = field(default_factory=list)   # the Cases it counted


def _tokenize(text):
    lines = []
    for raw in text.splitlines():
        m = _PREFIX.match(raw.rstrip("\r"))
        prefix, body = m.group(1), m.group(2)
        depth = len(prefix.replace("\t", "    "))
        if _VERSION.match(body):
            lines.append(_Line(depth, "version"))
            continue
        pm = _PLAN.match(body)
        if pm:
            lines.append(_Line(depth, "plan", count=int(pm.group(1))))
            continue
        rm = _RESULT.match(body)
        if rm:
            rest = rm.group(3)
            directive, reason = "", ""
            dm = _DIRECTIVE.search(" " + rest)
            if dm:
                directive = dm.group(1).upper()
                reason = dm.group(2).strip()
                rest = (" " + rest)[:dm.start()].strip()
            name = re.sub(r"^-\s*", "", rest).strip()
            lines.append(_Line(depth, "result", ok=not rm.group(1),
                               name=name, directive=directive,
                               reason=reason))
        elif body.strip():
            lines.append(_Line(depth, "text", name=body))
    return lines


def parse(text, name=""):
    """Return a Summary of the KTAP document in text."""
    summary = Summary()
    lines = _tokenize(text)
    summary.seen_version = any(ln.kind == "version" for ln in lines)
    # Results seen since the last result at or above each depth.
    deeper_since = []
    # Open plans: (depth, expected count, results seen at that depth).
    plans = []

    def count(case):
        summary.cases.append(case)
        return case

    def close_plans(depth):
        # A result at `depth` ends every plan opened deeper than it.
        missing, cases = 0, []
        while plans and plans[-1][0] > depth:
            d, expected, seen = plans.pop()
            if seen < expected:
                missing += expected - seen
                summary.failed += expected - seen
                why = (f"{expected - seen} of {expected} results "
                       f"missing (crashed or killed?)")
                summary.failures.append(f"{name}: {why}")
                # One case per missing result, as each counts as a failure.
                cases += [count(Case([f"(result {n} missing)"], "failed",
                                     why))
                          for n in range(seen + 1, expected + 1)]
        return missing, cases

    # Diagnostics since the previous result: what a failure explains itself
    # with (KUnit's EXPECTATION FAILED, the kselftest harness's asserts).
    text = []
    for ln in lines:
        if ln.kind == "plan":
            plans.append([ln.depth, ln.count, 0])
            continue
        if ln.kind == "text":
            text.append(ln.name)
            continue
        if ln.kind != "result":
            continue
        output, text = "\n".join(text[-DIAGNOSTIC_LINES:]), []
        missing, missing_cases = close_plans(ln.depth)
        if plans and plans[-1][0] == ln.depth:
            plans[-1][2] += 1
        children = [r for r in deeper_since if r.depth > ln.depth]
        deeper_since = [r for r in deeper_since if r.depth <= ln.depth]
        deeper_since.append(ln)
        label = f"{name}: {ln.name}" if name else ln.name
        if children:
            child_failed = missing > 0 or any(
                not c.ok and c.directive not in ("SKIP", "TODO", "XFAIL")
                for c in children)
            ln.cases = [c for r in children for c in r.cases] + missing_cases
            if not ln.ok and ln.directive != "SKIP" and not child_failed:
                summary.failed += 1
                summary.failures.append(label + " (failed after its subtests)")
                ln.cases.append(count(Case(["(after its subtests)"], "failed",
                                           "failed after its subtests")))
            # Children are named before their parent's result line.
            for c in ln.cases:
                c.path.insert(0, ln.name)
            continue
        if ln.directive == "SKIP":
            summary.skipped += 1
            summary.skips.append(f"{label}: {ln.reason or 'no reason given'}")
            case = Case([ln.name], "skipped", ln.reason or "no reason given")
        elif ln.directive in ("XFAIL", "TODO"):
            summary.passed += 1
            case = Case([ln.name], "passed")
        elif ln.ok and ln.directive not in ("TIMEOUT", "ERROR"):
            summary.passed += 1
            case = Case([ln.name], "passed")
        else:
            summary.failed += 1
            why = f" ({ln.directive} {ln.reason})".rstrip() \
                if ln.directive else ""
            summary.failures.append(label + why)
            case = Case([ln.name], "failed", why.strip(" ()") or "not ok",
                        output)
        ln.cases = [count(case)] + missing_cases
    close_plans(-1)
    if not summary.seen_version:
        summary.failures.append(f"{name}: no KTAP/TAP version line "
                                "(no output?)")
    return summary


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("file")
    ap.add_argument("--name", default="")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    with open(args.file, errors="replace") as f:
        s = parse(f.read(), args.name or args.file)
    if args.json:
        print(json.dumps(s.as_dict(), indent=2))
    else:
        print(f"passed {s.passed}, failed {s.failed}, skipped {s.skipped}")
        for f in s.failures:
            print("  FAIL", f)
        for k in s.skips:
            print("  SKIP", k)
    return 0 if s.ok else 1


if __name__ == "__main__":
    sys.exit(main())
