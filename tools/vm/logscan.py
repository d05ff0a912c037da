#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Scan a guest's kernel console log for signs of a kernel problem.

Used by tools/vm/run after every boot, and usable on its own:

    tools/vm/logscan.py console.log [--taint N] [--no-marker] [--ignore RE] [--all]

Exit status: 0 when the log is clean, 100 when a problem was found, 2 on
usage errors.  The first problem is printed as one line, e.g.

    kernel: KASAN report: BUG: KASAN: slab-use-after-free in foo+0x12/0x40

Only the kernel console (ttyS0) is meant to be scanned, never the output of
the command under test: a test that prints "BUG:" itself must not fail.

Matching is done on the *message* of each printk record, i.e. after the
"[   12.345678]" timestamp and the optional "[    T123]" caller id, and the
splat headers are anchored at the start of the message.  This is what keeps
boot chatter such as "RETBleed: WARNING: Spectre v2 mitigation leaves CPU
vulnerable ..." or "ACPI: ... (bug) ..." from being taken for a WARN() splat.
When user space writes to the console without a trailing newline, a kernel
record can start in the middle of a line; every timestamp found inside a line
therefore starts a new message too.
"""

import argparse
import re
import sys
from dataclasses import dataclass

# Taint bits, in the order of kernel/panic.c:taint_flags[].
TAINT_LETTERS = "PFSRMBUDAWCIOELKXTN"
TAINT_NAMES = [
    "proprietary module", "forced module load", "CPU out of spec",
    "forced rmmod", "machine check", "bad page", "user request", "kernel died",
    "ACPI table overridden", "kernel warning", "staging driver",
    "firmware workaround", "out-of-tree module", "unsigned module",
    "soft lockup", "live patch", "auxiliary", "randstruct plugin", "test module",
]
# Loading an out-of-tree (O, 4096), unsigned (E, 8192) or test (N, 262144)
# module is expected in this project; every other taint is a failure.
TAINT_ALLOWED = (1 << 12) | (1 << 13) | (1 << 18)

EXIT_KERNEL = 100

# printk prefix: "[   12.345678]" then optionally "[    T123]" / "[     C1]"
# (CONFIG_PRINTK_CALLER).  The timestamp alone is also used to split lines.
_TS = r"\[\s*\d+\.\d+\]"
_PREFIX_RE = re.compile(r"^\s*(?:<\d+>)?(?:" + _TS + r")?(?:\[\s*[TC]\d+\])?\s?")
_TS_RE = re.compile(_TS)

# (kind, regex matched at the start of a message).  Order only matters for
# the kind reported when two patterns match the same message: the more
# specific ones come first.
_PATTERNS = [
    ("kernel panic", r"Kernel panic - not syncing"),
    ("KASAN report", r"BUG: KASAN: "),
    ("KFENCE report", r"BUG: KFENCE: "),
    ("KCSAN report", r"BUG: KCSAN: "),
    ("soft lockup", r"(?:watchdog: )?BUG: soft lockup"),
    ("hard lockup", r"(?:NMI )?(?:watchdog: )?Watchdog detected hard LOCKUP"),
    ("BUG report", r"BUG: "),
    ("kernel BUG", r"kernel BUG at "),
    ("UBSAN report", r"UBSAN: "),
    ("oops", r"Oops(?::|\b)"),
    ("general protection fault", r"general protection fault"),
    ("oops", r"Unable to handle kernel "),
    ("invalid opcode", r"invalid opcode: "),
    ("divide error", r"divide error: "),
    ("lockdep report", r"WARNING: (?:possible circular locking dependency"
     r"|possible recursive locking|inconsistent lock state"
     r"|possible irq lock inversion|.*-safe -> .*-unsafe lock order"
     r"|suspicious RCU usage|bad unlock balance|held lock freed"
     r"|lock held when returning to user space|Nested lock was not taken"
     r"|bad contention detected|chain_key collision|.* still has locks held)"),
    ("lockdep report", r"INFO: trying to register non-static key"),
    ("kernel warning", r"WARNING: "),
    ("hung task", r"INFO: task \S.* blocked for more than \d+ seconds"),
    ("RCU stall", r"(?:rcu: )?INFO: \S+ (?:self-)?detected stalls?\b"),
    ("RCU stall", r"(?:rcu: )?INFO: \S+ detected expedited stalls"),
    ("kmemleak", r"unreferenced object 0x[0-9a-f]+"),
]
_COMPILED = [(kind, re.compile(rx)) for kind, rx in _PATTERNS]


@dataclass
class Finding:
    kind: str          # e.g. "KASAN report", "bad taint", "missing end marker"
    text: str          # the matching message (or a description)
    lineno: int = 0    # 1-based line in the log, 0 when not from a line

    def message(self):
        return f"kernel: {self.kind}: {self.text}"


def messages(line):
    """Yield (stamped, text) for each printk message in one console line.

    stamped tells whether the message carried a printk timestamp.
    """
    m = _PREFIX_RE.match(line)
    yield bool(_TS_RE.search(m.group(0))), line[m.end():]
    # A record that started mid-line (after unterminated user output).
    for ts in _TS_RE.finditer(line, max(m.end(), 1)):
        rest = line[ts.end():]
        mm = re.match(r"(?:\[\s*[TC]\d+\])?\s?", rest)
        yield True, rest[mm.end():]


def is_stamped(lines, probe=400):
    """Does this log come from a kernel printing timestamps?"""
    for line in lines[:probe]:
        if _PREFIX_RE.match(line) and _TS_RE.match(line.lstrip()):
            return True
    return False


def classify(message):
    """Return the kind of problem a message reports, or None."""
    for kind, rx in _COMPILED:
        if rx.match(message):
            return kind
    return None


def decode_taint(value):
    """'OE' for 12288; letters of all bits set in value."""
    out = []
    for bit, letter in enumerate(TAINT_LETTERS):
        if value & (1 << bit):
            out.append(letter)
    unknown = value >> len(TAINT_LETTERS)
    if unknown:
        out.append(f"?({unknown << len(TAINT_LETTERS):#x})")
    return "".join(out)


def check_taint(value):
    """A Finding for a taint outside TAINT_ALLOWED, else None."""
    bad = value & ~TAINT_ALLOWED
    if not bad:
        return None
    names = [f"{TAINT_LETTERS[b]} ({TAINT_NAMES[b]})"
             for b in range(len(TAINT_LETTERS)) if bad & (1 << b)]
    if bad >> len(TAINT_LETTERS):
        names.append(f"unknown bits {bad >> len(TAINT_LETTERS) << len(TAINT_LETTERS):#x}")
    return Finding("bad taint",
                   f"tainted={value} ({decode_taint(value)}), not allowed: "
                   + ", ".join(names))


def scan_lines(lines, ignore=()):
    """Return the list of Findings in a list of console lines.

    When the log has printk timestamps (the runner always boots with
    printk.time=1), only timestamped messages count as kernel messages:
    text that user space wrote to the console (an interactive session,
    /init's own lines) cannot fake a splat.  The kmemleak report, which
    /init copies from debugfs to the console, is the one exception.
    """
    lines = [l.rstrip("\r\n").replace("\r", "") for l in lines]
    strict = is_stamped(lines)
    ign = [re.compile(rx) for rx in ignore]
    found = []
    for n, line in enumerate(lines, 1):
        if any(rx.search(line) for rx in ign):
            continue
        for stamped, msg in messages(line):
            kind = classify(msg)
            if kind and (stamped or not strict or kind == "kmemleak"):
                found.append(Finding(kind, msg.strip(), n))
                break
    return found


def scan(lines, taint=None, marker_seen=True, ignore=()):
    """Scan console lines plus the end-of-run facts.

    Returns all findings, first the log ones in log order, then the taint,
    then a missing end marker.  The first element is the verdict's cause.
    """
    found = scan_lines(lines, ignore)
    if taint is not None:
        t = check_taint(taint)
        if t:
            found.append(t)
    if not marker_seen:
        found.append(Finding("missing end marker",
                             "the guest stopped without printing the end-of-run"
                             " marker (crash, reboot or triple fault)"))
    return found


def scan_file(path, **kw):
    with open(path, encoding="utf-8", errors="replace") as f:
        return scan(f, **kw)


def context(lines, finding, after=25):
    """The lines of the splat starting at a finding, for humans."""
    if not finding.lineno:
        return []
    return [l.rstrip("\r\n") for l in lines[finding.lineno - 1:finding.lineno - 1 + after]]


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Scan a kernel console log for panics, oopses, BUG/WARNING "
        "splats, lockdep, KASAN/UBSAN, hung tasks, RCU stalls, soft lockups, "
        "kmemleak reports and bad taints.  Exit 0 when clean, 100 otherwise.")
    ap.add_argument("log", help="console log (ttyS0) of one boot")
    ap.add_argument("--taint", type=lambda s: int(s, 0),
                    help="final /proc/sys/kernel/tainted value to check")
    ap.add_argument("--no-marker", action="store_true",
                    help="the run ended without its end-of-run marker")
    ap.add_argument("--ignore", action="append", default=[], metavar="REGEX",
                    help="skip console lines matching REGEX (repeatable)")
    ap.add_argument("--all", action="store_true",
                    help="print every finding, not only the first")
    args = ap.parse_args(argv)
    try:
        with open(args.log, encoding="utf-8", errors="replace") as f:
            lines = f.readlines()
    except OSError as e:
        print(f"logscan: {e}", file=sys.stderr)
        return 2
    found = scan(lines, taint=args.taint, marker_seen=not args.no_marker,
                 ignore=args.ignore)
    if not found:
        print("clean: no kernel problem found")
        return 0
    for f in (found if args.all else found[:1]):
        where = f"{args.log}:{f.lineno}: " if f.lineno else ""
        print(f"{where}{f.message()}")
    return EXIT_KERNEL


if __name__ == "__main__":
    sys.exit(main())
