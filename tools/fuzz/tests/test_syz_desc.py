#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Check tools/fuzz/syzkaller/dev_mlockdev.txt against the UAPI header.

A C program compiled against include/uapi/linux/mlockdev.h prints every
constant the description names, each struct's size and each field's offset
and size; the description's own layout (syzlang packs structs like C) must
agree, field by field, and cover every ioctl, field, mode flag and feature
bit of the header.  syzkaller takes the numbers from the header itself, so
what can drift is the description's shape: a field missing or moved, a
wrong type width, a new flag or ioctl not described.

    python3 tools/fuzz/tests/test_syz_desc.py [-v] [--desc FILE] [--header FILE]

Exit 0 when everything agrees, 1 with a list of differences, 2 when the
C compiler is missing or fails.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
DESC = os.path.join(TOP, "tools/fuzz/syzkaller/dev_mlockdev.txt")
HEADER = os.path.join(TOP, "include/uapi/linux/mlockdev.h")

INT_SIZES = {"int8": 1, "int16": 2, "int32": 4, "int64": 8}
RESOURCE_SIZES = {"fd_pidfd": 4, "fd": 4}
# Names the description may use that are not the header's.
SYSTEM_NAMES = {"AT_FDCWD"}


def parse_desc(text):
    """ioctls, structs (name -> [(field, type)]), flag sets, constants."""
    text = re.sub(r"#.*", "", text)
    ioctls = re.findall(
        r"^ioctl\$(\w+)\(fd \w+, cmd const\[(\w+)\], arg ptr\[(\w+), (\w+)\]\)",
        text, re.M)
    structs = {}
    for name, body in re.findall(r"^(\w+) \{\n(.*?)\n\}", text, re.M | re.S):
        fields = []
        for line in body.splitlines():
            line = line.strip()
            if line:
                field, typ = line.split(None, 1)
                fields.append((field, typ.strip()))
        structs[name] = fields
    flagsets = {n: [v.strip() for v in vals.split(",")]
                for n, vals in re.findall(r"^(\w+) = (.*)$", text, re.M)}
    names = set(re.findall(r"\b(?:MLOCKDEV|MCL)_[A-Z0-9_]+\b", text))
    return ioctls, structs, flagsets, names


def parse_header(text):
    """struct name -> field names in order; the header's macro names."""
    structs = {}
    for name, body in re.findall(r"^struct (\w+) \{\n(.*?)\n\};", text, re.M | re.S):
        structs[name] = re.findall(r"\s(\w+)(?:\[\w+\])?;", body)
    macros = re.findall(r"^#define (MLOCKDEV_\w+)", text, re.M)
    return structs, set(macros) - {"_UAPI_LINUX_MLOCKDEV_H"}


def c_facts(header, names, hstructs):
    """Compile and run a program printing constants and struct layouts."""
    lines = ["#include <stdio.h>", "#include <stddef.h>", "#include <sys/mman.h>",
             "#include <linux/ioctl.h>", '#include "%s"' % header,
             "int main(void) {"]
    for n in sorted(names):
        if re.match(r"MLOCKDEV_IOC_(?!MAGIC)", n):
            lines.append('printf("ioc %s %%u %%u %%u %%u\\n", _IOC_DIR(%s), _IOC_TYPE(%s), '
                         '_IOC_NR(%s), _IOC_SIZE(%s));' % ((n,) + (n,) * 4))
        elif n != "MLOCKDEV_DEVICE_NAME":
            lines.append('printf("const %s %%llu\\n", (unsigned long long)(%s));' % (n, n))
    for s, fields in hstructs.items():
        lines.append('printf("sizeof %s %%zu\\n", sizeof(struct %s));' % (s, s))
        for f in fields:
            lines.append('printf("field %s %s %%zu %%zu\\n", offsetof(struct %s, %s), '
                         'sizeof(((struct %s *)0)->%s));' % (s, f, s, f, s, f))
    lines += ["return 0;", "}"]
    with tempfile.TemporaryDirectory() as d:
        src, exe = os.path.join(d, "facts.c"), os.path.join(d, "facts")
        with open(src, "w") as f:
            f.write("\n".join(lines) + "\n")
        cc = os.environ.get("CC", "cc")
        r = subprocess.run([cc, "-Wall", "-o", exe, src], capture_output=True, text=True)
        if r.returncode:
            sys.stderr.write(r.stderr)
            sys.exit(2)
        out = subprocess.run([exe], capture_output=True, text=True, check=True).stdout
    facts = {"ioc": {}, "const": {}, "sizeof": {}, "field": {}}
    for line in out.splitlines():
        kind, name, *vals = line.split()
        if kind == "field":
            facts["field"][(name, vals[0])] = (int(vals[1]), int(vals[2]))
        elif kind == "ioc":
            facts["ioc"][name] = tuple(int(v) for v in vals)
        else:
            facts[kind][name] = int(vals[0])
    return facts


def type_layout(typ, structs, consts):
    """(size, alignment) of a syzlang type, or raise ValueError."""
    m = re.match(r"(\w+)(?:\[(.*)\])?$", typ)
    if not m:
        raise ValueError("cannot read type %r" % typ)
    base, args = m.group(1), m.group(2)
    if base in INT_SIZES:
        return INT_SIZES[base], INT_SIZES[base]
    if base in RESOURCE_SIZES:
        return RESOURCE_SIZES[base], RESOURCE_SIZES[base]
    if base in ("const", "flags", "bytesize", "len"):
        width = args.rsplit(",", 1)[1].strip()
        return INT_SIZES[width], INT_SIZES[width]
    if base == "array":
        elem, count = [a.strip() for a in args.rsplit(",", 1)]
        n = int(count) if count.isdigit() else consts[count]
        size, align = type_layout(elem, structs, consts)
        return size * n, align
    if base in structs:
        return struct_layout(base, structs, consts)[:2]
    raise ValueError("unknown type %r" % typ)


def struct_layout(name, structs, consts):
    """(size, alignment, [(field, offset, size)]) with C's natural alignment."""
    off, align, out = 0, 1, []
    for field, typ in structs[name]:
        size, a = type_layout(typ, structs, consts)
        off = (off + a - 1) // a * a
        out.append((field, off, size))
        off += size
        align = max(align, a)
    return (off + align - 1) // align * align, align, out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--desc", default=DESC)
    ap.add_argument("--header", default=HEADER)
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    with open(args.desc) as f:
        ioctls, structs, flagsets, names = parse_desc(f.read())
    with open(args.header) as f:
        hstructs, hmacros = parse_header(f.read())
    # Only names that exist: an unknown one is reported below, not a C error.
    known = hmacros | {n for n in names if n.startswith("MCL_")}
    facts = c_facts(os.path.abspath(args.header), known, hstructs)
    consts = dict(facts["const"])
    errors, checked = [], 0

    def expect(ok, msg):
        nonlocal checked
        checked += 1
        if not ok:
            errors.append(msg)
        elif args.verbose:
            print("ok  " + msg)

    # Every name the description uses is the header's (or the system's).
    for n in sorted(names):
        expect(n in hmacros or n.startswith("MCL_") or n in SYSTEM_NAMES,
               "%s is defined by the header" % n)
    # Every ioctl: described once, its struct the size the number encodes,
    # its direction the pointer's.
    hioctls = {n for n in hmacros if n.startswith("MLOCKDEV_IOC_") and n != "MLOCKDEV_IOC_MAGIC"}
    described = {cmd for _, cmd, _, _ in ioctls}
    for n in sorted(hioctls):
        expect(n in described, "ioctl %s is described" % n)
    for call, cmd, direction, sname in ioctls:
        expect(call == cmd, "ioctl$%s uses cmd %s" % (call, cmd))
        if cmd not in facts["ioc"]:
            errors.append("%s: not an ioctl number of the header" % cmd)
            continue
        d, t, nr, size = facts["ioc"][cmd]
        expect(t == consts["MLOCKDEV_IOC_MAGIC"], "%s has type %#x" % (cmd, t))
        # _IOC_WRITE (1): the caller writes, the kernel reads: ptr[in].
        want = {1: "in", 2: "out", 3: "inout"}.get(d, "?")
        expect(direction == want, "%s (dir %d) is ptr[%s], described ptr[%s]"
               % (cmd, d, want, direction))
        if sname not in structs:
            errors.append("%s: struct %s is not described" % (cmd, sname))
            continue
        ssize = struct_layout(sname, structs, consts)[0]
        expect(ssize == size, "%s: %s is %d bytes, the number encodes %d (nr %d)"
               % (cmd, sname, ssize, size, nr))
    # Every struct: the header's fields, in order, at the header's offsets.
    for sname in sorted(structs):
        if sname not in hstructs:
            errors.append("struct %s is not in the header" % sname)
            continue
        size, _, fields = struct_layout(sname, structs, consts)
        expect(size == facts["sizeof"][sname], "sizeof(struct %s) = %d, described %d"
               % (sname, facts["sizeof"][sname], size))
        expect([f for f, _, _ in fields] == hstructs[sname],
               "struct %s has the header's fields %s, described %s"
               % (sname, hstructs[sname], [f for f, _, _ in fields]))
        for field, off, fsize in fields:
            if (sname, field) in facts["field"]:
                hoff, hsize = facts["field"][(sname, field)]
                expect((off, fsize) == (hoff, hsize),
                       "%s.%s at %d, %d bytes; described at %d, %d bytes"
                       % (sname, field, hoff, hsize, off, fsize))
    for sname in sorted(hstructs):
        expect(sname in structs, "struct %s is described" % sname)
    # Every flag of the header is in its flag set.
    groups = {"mlockdev_mode_flags": "MLOCKDEV_LOCK_", "mlockdev_features": "MLOCKDEV_FEAT_"}
    for fset, prefix in groups.items():
        for n in sorted(m for m in hmacros if m.startswith(prefix)):
            expect(n in flagsets.get(fset, []), "%s is in %s" % (n, fset))
    print("test_syz_desc: %d checks, %d failed (%s)" % (checked, len(errors),
          os.path.relpath(args.desc, TOP)))
    for e in errors:
        print("FAIL " + e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
