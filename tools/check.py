#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""make check: set up, build, and run every suite on every supported kernel.

Phases, each timed:
  setup      tools/setup installs missing Debian packages
  kernels    tools/testkernel prepares stock-6.12, stock-6.1, debug-6.12,
             stock-7.2, stock-7.3, debug-7.3
  build      the module for each kernel (W=1, sparse), the selftests, the
             userspace tools; any compiler or sparse warning is a failure
  lint       checkpatch.pl --strict on the kernel code
  host       the tools' own tests that need no VM
  vm         the VM runner's own tests (boots stock-6.12)
  guest      per kernel, one VM: KUnit, kselftests, userspace, bench smoke

Prints a table kernel x suite -> passed / failed / skipped, every skip with
its reason, every failure with its cause, and exits 1 if anything failed.
See Documentation/testing.rst.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tools"))
import ktap  # noqa: E402

KERNELS = ["stock-6.12", "stock-6.1", "debug-6.12",
           "stock-7.2", "stock-7.3", "debug-7.3"]
# What "make check" runs unless told otherwise: every stock kernel and the
# debug kernel of the newest source.  debug-6.12 costs about 20 min to
# build cold and 25 min in its guest under TCG, which a cold run on two
# cores cannot afford inside CI's 90 minutes (Documentation/testing.rst,
# "Which kernels make check runs"); KERNELS=all adds it.
DEFAULT_KERNELS = [k for k in KERNELS if k != "debug-6.12"]
GUEST_DIR = "/opt/mlockdev"
# Under TCG, and several times slower with KASAN and lockdep.
GUEST_TIMEOUT = {"debug-6.12": 3600, "debug-7.3": 3600}
GUEST_TIMEOUT_DEFAULT = 1800
GUEST_MEM = 3072
# A module built for another kernel, for the "wrong kernel" error tests.
OTHER_KERNEL = {"stock-6.12": "stock-6.1", "stock-6.1": "stock-6.12",
                "debug-6.12": "stock-6.12",
                "stock-7.2": "stock-7.3", "stock-7.3": "stock-7.2",
                "debug-7.3": "stock-7.3"}
# Debian programs that call mlockall(), run under the preload shim.
GUEST_PROGRAMS = ["/usr/bin/cyclictest", "/usr/bin/signaltest"]


class Results:
    def __init__(self):
        self.rows = []          # (kernel, suite, Summary)
        self.phases = []        # (name, seconds, ok)
        self.notes = []         # lines worth repeating at the end

    def add(self, kernel, suite, summary):
        self.rows.append((kernel, suite, summary))

    def add_simple(self, kernel, suite, ok, why=""):
        s = ktap.Summary(seen_version=True)
        if ok:
            s.passed = 1
        else:
            s.failed = 1
            s.failures.append(f"{kernel} {suite}: {why}")
        self.add(kernel, suite, s)

    @property
    def failed(self):
        return sum(s.failed for _, _, s in self.rows) + \
            sum(1 for _, _, ok in self.phases if not ok)


def say(msg):
    print(msg, flush=True)


def run(cmd, log=None, cwd=TOP, env=None, stream=True, timeout=None):
    """Run cmd, tee its output to log (and the terminal); return rc, text."""
    say("+ " + " ".join(cmd))
    out = []
    try:
        p = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True,
                             errors="replace")
    except OSError as e:
        return 127, f"cannot run {cmd[0]}: {e}\n"
    start = time.monotonic()
    for line in p.stdout:
        out.append(line)
        if stream:
            sys.stdout.write(line)
            sys.stdout.flush()
        if timeout and time.monotonic() - start > timeout:
            p.kill()
            out.append(f"check.py: killed after {timeout} s\n")
            break
    rc = p.wait()
    text = "".join(out)
    if log:
        with open(log, "w") as f:
            f.write(text)
    return rc, text


def kernel_env(name):
    rc, text = run([os.path.join(TOP, "tools/testkernel"), "env", name],
                   stream=False)
    if rc:
        raise RuntimeError(text.strip())
    env = {}
    for line in text.splitlines():
        k, _, v = line.partition("=")
        env[k] = v.strip("'\"")
    return env


class Check:
    def __init__(self, args):
        self.args = args
        self.kernels = args.kernels
        self.res = Results()
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
        self.logdir = os.path.join(TOP, "build", "check", stamp)
        os.makedirs(self.logdir, exist_ok=True)
        self.kenv = {}
        self.modules = {}       # kernel -> dir holding the built .ko files

    def log(self, name):
        return os.path.join(self.logdir, name)

    def phase(self, name, fn):
        if name in self.args.skip:
            say(f"=== phase {name}: skipped (--skip {name})")
            return
        say(f"=== phase {name}")
        start = time.monotonic()
        try:
            ok = fn() is not False
        except RuntimeError as e:
            say(f"check.py: phase {name} failed: {e}")
            self.res.notes.append(f"phase {name}: {e}")
            ok = False
        secs = time.monotonic() - start
        self.res.phases.append((name, secs, ok))
        say(f"=== phase {name}: {'ok' if ok else 'FAILED'} in {secs:.0f} s")

    # --- phases ----------------------------------------------------------

    def setup(self):
        rc, text = run([os.path.join(TOP, "tools/setup")], self.log("setup.log"))
        if rc:
            raise RuntimeError("tools/setup failed: " + text.strip()[-300:])

    def prepare_kernels(self):
        rc, text = run([os.path.join(TOP, "tools/testkernel"), "prepare"] +
                       self.kernels, self.log("kernels.log"))
        if rc:
            raise RuntimeError("tools/testkernel prepare failed; see "
                               + self.log("kernels.log"))
        for k in self.kernels:
            self.kenv[k] = kernel_env(k)

    def build_module(self, kernel):
        rc, text = run([os.path.join(TOP, "tools/build-module"), kernel],
                       self.log(f"build-module-{kernel}.log"), stream=False)
        warnings = [ln for ln in text.splitlines()
                    if re.search(r": (warning|error):|^WARNING:|^ERROR:", ln)]
        ok = rc == 0 and not warnings
        why = f"make exited {rc}" if rc else ""
        if warnings:
            why = f"{len(warnings)} warning(s), first: {warnings[0]}"
        self.res.add_simple(kernel, "build: module W=1 C=1", ok, why)
        if rc == 0:
            self.modules[kernel] = text.strip().splitlines()[-1]
        return ok

    def build(self):
        ok = True
        for k in self.kernels:
            ok &= self.build_module(k)
        ok &= self.build_selftests()
        ok &= self.build_userspace()
        ok &= self.build_bench()
        return ok

    def build_bench(self):
        rc, text = run(["make", "-C", "tools/bench"],
                       self.log("build-bench.log"), stream=False)
        self.res.add_simple("host", "build: tools/bench", rc == 0,
                            f"make exited {rc}: {text.strip()[-300:]}")
        return rc == 0

    def build_selftests(self):
        inst = os.path.join(TOP, "build", "selftests")
        if os.path.isdir(inst):
            shutil.rmtree(inst)
        # M32=y: a missing 32-bit toolchain fails instead of dropping _32.
        rc, text = run(["make", "-C", "selftests", "M32=y", "all", "install",
                        f"INSTALL_PATH={inst}"],
                       self.log("build-selftests.log"), stream=False)
        self.res.add_simple("host", "build: selftests", rc == 0,
                            f"make exited {rc}: {text.strip()[-300:]}")
        return rc == 0

    def build_userspace(self):
        root = os.path.join(TOP, "build", "userspace")
        if os.path.isdir(root):
            shutil.rmtree(root)
        ok = True
        for d in ("tools/libmlockdev", "tools/mlockdevctl"):
            if not os.path.isfile(os.path.join(TOP, d, "Makefile")):
                continue
            rc, text = run(["make", "-C", d, "install", "PREFIX=/usr/local",
                            f"DESTDIR={root}"],
                           self.log(f"build-{os.path.basename(d)}.log"),
                           stream=False)
            self.res.add_simple("host", f"build: {d}", rc == 0,
                                f"make exited {rc}: {text.strip()[-300:]}")
            ok &= rc == 0
        return ok

    def lint(self):
        tree = subprocess.run([os.path.join(TOP, "tools/testkernel"),
                               "source-tree"], capture_output=True,
                              text=True).stdout.strip()
        checkpatch = os.path.join(tree, "scripts", "checkpatch.pl")
        if not os.path.isfile(checkpatch):
            raise RuntimeError("no checkpatch.pl (tools/testkernel "
                               "source-tree failed)")
        files = subprocess.run(
            ["git", "ls-files", "kernel/*.c", "kernel/*.h",
             "kernel/tests/*.c", "include/uapi/linux/*.h"],
            cwd=TOP, capture_output=True, text=True).stdout.split()
        rc, text = run(["perl", checkpatch, "--strict", "--no-tree",
                        "--terse", "--show-types", "-f"] + files,
                       self.log("checkpatch.log"), stream=False)
        problems = [ln for ln in text.splitlines()
                    if re.search(r": (ERROR|WARNING|CHECK):", ln)]
        self.res.add_simple("host", "lint: checkpatch --strict",
                            rc == 0 and not problems,
                            (problems[0] if problems else f"exit {rc}"))

    def host_tests(self):
        tests = [
            ("host: ktap parser", ["python3", "-m", "unittest", "discover",
                                   "-s", "tools/tests", "-p", "test_*.py"]),
            ("host: vm log scanner", ["make", "-C", "tools/vm", "check"]),
            ("host: testkernel config check",
             ["sh", "tools/testkernel.d/test-check-config.sh"]),
            ("host: build-module sparse check",
             ["sh", "tools/testkernel.d/test-sparse-check.sh"]),
            ("host: libmlockdev", ["make", "-C", "tools/libmlockdev", "check"]),
            ("host: mlockdevctl", ["make", "-C", "tools/mlockdevctl", "check"]),
        ]
        for name, cmd in tests:
            self.record_command("host", name, cmd)

    def record_command(self, kernel, name, cmd, timeout=None):
        logname = re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{kernel}-{name}") + ".log"
        rc, text = run(cmd, self.log(logname), stream=False, timeout=timeout)
        s = ktap.parse(text, name)
        if s.seen_version:
            if rc and not s.failed:
                s.failed += 1
                s.failures.append(f"{name}: exited {rc} ({self.log(logname)})")
            self.res.add(kernel, name, s)
        else:
            self.res.add_simple(kernel, name, rc == 0,
                                f"exited {rc}; see {self.log(logname)}")

    def vm_tests(self):
        self.record_command("stock-6.12", "vm: runner self-test",
                            ["sh", "tools/vm/tests/test_run.sh",
                             "--accel", self.args.accel, "stock-6.12"])

    def guest_args(self, kernel):
        mod = self.modules[kernel]
        args = [os.path.join(TOP, "tools/vm/run"), "--kernel", kernel,
                "--accel", self.args.accel,
                "--module", os.path.join(mod, "mlockdev.ko"),
                "--mem", str(GUEST_MEM),
                "--timeout", str(GUEST_TIMEOUT.get(kernel,
                                                   GUEST_TIMEOUT_DEFAULT)),
                "--log-dir", self.log(f"vm-{kernel}"),
                # memfd_secret(2) is off by default on 6.1; the diff
                # suite's secretmem scenarios need it.
                "--append", "secretmem.enable=1",
                "--add", f"{TOP}/tools/guest-suites.sh:{GUEST_DIR}/guest-suites.sh",
                "--add", f"{TOP}/build/selftests:{GUEST_DIR}/ksft"]
        kunit = os.path.join(mod, "mlockdev_kunit.ko")
        if os.path.isfile(kunit):
            args += ["--add", f"{kunit}:{GUEST_DIR}/mlockdev_kunit.ko"]
        # The userspace suite: installed tools, their guest tests, programs.
        args += ["--add", f"{TOP}/build/userspace/usr/local:/usr/local",
                 "--add", f"{TOP}/tools/mlockdevctl/tests:{GUEST_DIR}/userspace",
                 "--add", f"{mod}/mlockdev.ko:{GUEST_DIR}/ko/mlockdev.ko",
                 "--env", f"MLOCKDEV_KO={GUEST_DIR}/ko/mlockdev.ko"]
        for prog in GUEST_PROGRAMS:
            args += ["--add", prog]
        # The benchmark's smoke run (static binary).
        args += ["--add", f"{TOP}/tools/bench/mlockdev-bench:"
                 f"{GUEST_DIR}/bench/mlockdev-bench"]
        other = self.modules.get(OTHER_KERNEL.get(kernel, ""))
        if other:
            args += ["--add", f"{other}/mlockdev.ko:{GUEST_DIR}/ko-other/mlockdev.ko",
                     "--env", f"MLOCKDEV_OTHER_KO={GUEST_DIR}/ko-other/mlockdev.ko"]
        return args

    def guest(self):
        for k in self.kernels:
            if k not in self.modules:
                self.res.add_simple(k, "guest", False, "module did not build")
                continue
            # invariants last: nothing the run locked may be left behind.
            suites = ["kunit", "kselftest", "userspace", "bench",
                      "invariants"]
            args = self.guest_args(k) + [
                "--", f"{GUEST_DIR}/guest-suites.sh"] + suites
            rc, text = run(args, self.log(f"guest-{k}.log"))
            self.record_guest(k, rc, text, suites)

    def record_guest(self, kernel, rc, text, expected):
        sections = re.findall(
            r"^MLOCKDEV-SUITE-BEGIN (\S+)\n(.*?)^MLOCKDEV-SUITE-END \1 rc=(\d+)",
            text, re.S | re.M)
        for name, body, src in sections:
            s = ktap.parse(body, f"{kernel} {name}")
            self.res.add(kernel, name, s)
            # kselftest nests the test's own "# " lines one level deeper.
            for m in re.finditer(r"^[# ]*(mlockdev-diff: scenarios=.*)$",
                                 body, re.M):
                self.res.notes.append(f"{kernel}: {m.group(1)}")
        verdict = ""
        vfile = os.path.join(self.log(f"vm-{kernel}"), "verdict.txt")
        if os.path.isfile(vfile):
            with open(vfile) as f:
                verdict = f.read().strip()
        if rc in (100, 124, 125):
            self.res.add_simple(kernel, "vm", False,
                                verdict or f"runner exited {rc}")
        else:
            self.res.add_simple(kernel, "vm", True)
        names = [name for name, _, _ in sections]
        for suite in expected:
            if not any(n == suite or n.startswith(suite + ":") for n in names):
                self.res.add_simple(kernel, suite, False,
                                    "suite produced no output (guest crashed "
                                    "or hung?): " + (verdict or f"rc {rc}"))

    # --- report -------------------------------------------------------------

    def report(self):
        say("")
        say(f"{'kernel':<12} {'suite':<36} {'passed':>7} {'failed':>7} "
            f"{'skipped':>8}")
        say("-" * 74)
        for k, suite, s in self.res.rows:
            say(f"{k:<12} {suite:<36} {s.passed:>7} {s.failed:>7} "
                f"{s.skipped:>8}")
        say("")
        say("Phases: " + ", ".join(f"{n} {t:.0f} s{'' if ok else ' FAILED'}"
                                   for n, t, ok in self.res.phases))
        skips = [k for _, _, s in self.res.rows for k in s.skips]
        fails = [f for _, _, s in self.res.rows for f in s.failures]
        if skips:
            say("\nSkipped (never counted as passed):")
            for k in skips:
                say("  " + k)
        if self.res.notes:
            say("\nNotes:")
            for n in self.res.notes:
                say("  " + n)
        if fails:
            say("\nFailures:")
            for f in fails:
                say("  " + f)
        with open(self.log("summary.json"), "w") as f:
            json.dump({"rows": [[k, n, s.as_dict()] for k, n, s in self.res.rows],
                       "phases": self.res.phases, "notes": self.res.notes},
                      f, indent=1)
        total = self.res.failed
        say(f"\nLogs: {os.path.relpath(self.logdir, TOP)}")
        say("make check: " + ("PASSED" if not total else
                              f"FAILED ({total} failure(s))"))
        return 0 if not total else 1

    def main(self):
        self.phase("setup", self.setup)
        self.phase("kernels", self.prepare_kernels)
        if not self.kenv:
            return self.report()
        self.phase("build", self.build)
        self.phase("lint", self.lint)
        self.phase("host", self.host_tests)
        self.phase("vm", self.vm_tests)
        self.phase("guest", self.guest)
        return self.report()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kernels", default="default",
                    help="comma-separated names, 'default' (every kernel "
                    "but debug-6.12) or 'all' (the six)")
    ap.add_argument("--skip", action="append", default=[],
                    help="skip a phase (repeatable)")
    ap.add_argument("--accel", choices=("auto", "kvm", "tcg"), default="auto",
                    help="passed to every VM (tools/vm/run --accel; "
                    "default auto)")
    ap.add_argument("--only", action="append", default=[],
                    help="run only these phases (repeatable; kernels is "
                    "always run, it finds the kernels)")
    args = ap.parse_args()
    if args.only:
        phases = ["setup", "kernels", "build", "lint", "host", "vm", "guest"]
        args.skip = [p for p in phases
                     if p not in args.only and p != "kernels"]
    names = [k for k in args.kernels.split(",") if k]
    args.kernels = []
    for k in names:
        group = {"default": DEFAULT_KERNELS, "all": KERNELS}.get(k, [k])
        args.kernels += [g for g in group if g not in args.kernels]
    return Check(args).main()


if __name__ == "__main__":
    sys.exit(main())
