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
The run's directory build/check/<time>/ keeps every log, the KTAP of each
suite (ktap/) and the same results as JUnit XML (junit.xml).  Guests of
different kernels run side by side with -j N (default: as many as the
machine's cores and memory allow).  See Documentation/testing.rst.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tools"))
import ktap  # noqa: E402
import results_junit  # noqa: E402

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
# What one guest needs of the host for --jobs auto: its vCPUs (tools/vm/run
# gives it 2) and its memory (GUEST_MEM) plus QEMU's and the host's share.
CORES_PER_GUEST = 2
MEM_PER_GUEST_KIB = 4 << 20


class Results:
    def __init__(self):
        self.rows = []          # (kernel, suite, Summary)
        self.junit_rows = []    # the same rows with their time and kernel log
        self.phases = []        # (name, seconds, ok)
        self.notes = []         # lines worth repeating at the end

    def add(self, kernel, suite, summary, seconds=0.0, log=""):
        self.rows.append((kernel, suite, summary))
        self.junit_rows.append(results_junit.Row(kernel, suite, summary,
                                                 seconds, log))

    def add_simple(self, kernel, suite, ok, why="", seconds=0.0, log=""):
        s = ktap.Summary(seen_version=True)
        if ok:
            s.passed = 1
        else:
            s.failed = 1
            s.failures.append(f"{kernel} {suite}: {why}")
        self.add(kernel, suite, s, seconds, log)

    @property
    def failed(self):
        return sum(s.failed for _, _, s in self.rows) + \
            sum(1 for _, _, ok in self.phases if not ok)


# Guests running side by side write whole lines, one at a time.
_output = threading.Lock()


def say(msg, prefix=""):
    with _output:
        for line in msg.split("\n"):
            print(prefix + line)
        sys.stdout.flush()


def guest_jobs_auto(cpus=None, mem_available_kib=None):
    """How many guests this machine runs at once: one per 2 cores and
    4 GiB available, at least one."""
    if cpus is None:
        try:
            cpus = len(os.sched_getaffinity(0))
        except (AttributeError, OSError):
            cpus = os.cpu_count() or 1
    if mem_available_kib is None:
        mem_available_kib = mem_available()
    by_mem = mem_available_kib // MEM_PER_GUEST_KIB \
        if mem_available_kib is not None else 1
    return max(1, min(cpus // CORES_PER_GUEST, by_mem))


def mem_available():
    """MemAvailable of /proc/meminfo in KiB, or None."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def parse_jobs(value):
    if value == "auto":
        return value
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(
            f"--jobs wants a positive number or auto, not {value!r}")
    return n


def run(cmd, log=None, cwd=TOP, env=None, stream=True, timeout=None,
        prefix=""):
    """Run cmd, tee its output to log (and the terminal, each line after
    prefix); return rc, text."""
    say("+ " + " ".join(cmd), prefix)
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
            with _output:
                sys.stdout.write(prefix + line)
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
    def __init__(self, args, logdir=None):
        self.args = args
        self.kernels = args.kernels
        self.res = Results()
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
        self.logdir = logdir or os.path.join(TOP, "build", "check", stamp)
        os.makedirs(self.logdir, exist_ok=True)
        self.kenv = {}
        self.modules = {}       # kernel -> dir holding the built .ko files

    def log(self, name):
        return os.path.join(self.logdir, name)

    def keep_ktap(self, kernel, suite, text):
        d = self.log("ktap")
        os.makedirs(d, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{kernel}-{suite}")
        with open(os.path.join(d, name + ".ktap"), "w") as f:
            f.write(text)

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
        ok &= self.build_fuzz()
        return ok

    def build_fuzz(self):
        rc, text = run(["make", "-C", "tools/fuzz"],
                       self.log("build-fuzz.log"), stream=False)
        self.res.add_simple("host", "build: tools/fuzz", rc == 0,
                            f"make exited {rc}: {text.strip()[-300:]}")
        return rc == 0

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
        def unittests(pattern):
            return ["python3", "-m", "unittest", "discover", "-s",
                    "tools/tests", "-p", pattern]
        tests = [
            ("host: ktap parser", unittests("test_ktap.py")),
            ("host: junit writer", unittests("test_results_junit.py")),
            ("host: CI workflow", unittests("test_ci_workflow.py")),
            ("host: syzkaller description",
             ["python3", "tools/fuzz/tests/test_syz_desc.py"]),
            ("host: parallel guests", unittests("test_check_jobs.py")),
            ("host: vm log scanner", ["make", "-C", "tools/vm", "check"]),
            ("host: testkernel config check",
             ["sh", "tools/testkernel.d/test-check-config.sh"]),
            ("host: build-module sparse check",
             ["sh", "tools/testkernel.d/test-sparse-check.sh"]),
            ("host: libmlockdev", ["make", "-C", "tools/libmlockdev", "check"]),
            ("host: mlockdevctl", ["make", "-C", "tools/mlockdevctl", "check"]),
            ("host: dkms", ["bash", "tools/packaging/test-dkms.sh"]),
            ("host: packages", ["bash", "tools/packaging/test-deb.sh"]),
        ]
        for name, cmd in tests:
            self.record_command("host", name, cmd)

    def record_command(self, kernel, name, cmd, timeout=None):
        logname = re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{kernel}-{name}") + ".log"
        start = time.monotonic()
        rc, text = run(cmd, self.log(logname), stream=False, timeout=timeout)
        secs = time.monotonic() - start
        s = ktap.parse(text, name)
        if s.seen_version:
            self.keep_ktap(kernel, name, text)
            if rc and not s.failed:
                s.failed += 1
                s.failures.append(f"{name}: exited {rc} ({self.log(logname)})")
                s.cases.append(ktap.Case([name], "failed", f"exited {rc}"))
            self.res.add(kernel, name, s, secs)
        else:
            self.res.add_simple(kernel, name, rc == 0,
                                f"exited {rc}; see {self.log(logname)}", secs)

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
        # A minute of the fuzzer (Documentation/fuzzing.rst), 64- and 32-bit.
        for prog in ("mlockdev-fuzz", "mlockdev-fuzz_32"):
            path = os.path.join(TOP, "tools", "fuzz", prog)
            if os.path.isfile(path):
                args += ["--add", f"{path}:{GUEST_DIR}/fuzz/{prog}"]
        # The ABI 1.1 differential families in part on the debug kernels
        # (mlockdev_diff_test.c, "MLOCKDEV_DIFF_QUICK"): whole, they would
        # take half of a cold run's budget there.
        if kernel.startswith("debug-"):
            args += ["--env", "MLOCKDEV_DIFF_QUICK=1"]
        other = self.modules.get(OTHER_KERNEL.get(kernel, ""))
        if other:
            args += ["--add", f"{other}/mlockdev.ko:{GUEST_DIR}/ko-other/mlockdev.ko",
                     "--env", f"MLOCKDEV_OTHER_KO={GUEST_DIR}/ko-other/mlockdev.ko"]
        return args

    # invariants last: nothing the run locked may be left behind.
    GUEST_SUITES = ["kunit", "kselftest", "userspace", "bench", "fuzz",
                    "invariants"]

    def run_guest(self, kernel, prefix=""):
        """Boot kernel's guest and run every suite; return rc, text, secs."""
        args = self.guest_args(kernel) + [
            "--", f"{GUEST_DIR}/guest-suites.sh"] + self.GUEST_SUITES
        start = time.monotonic()
        rc, text = run(args, self.log(f"guest-{kernel}.log"), prefix=prefix)
        return rc, text, time.monotonic() - start

    def guest(self):
        runnable = [k for k in self.kernels if k in self.modules]
        jobs = self.args.jobs
        if jobs == "auto":
            jobs = guest_jobs_auto()
        jobs = max(1, min(jobs, len(runnable)))
        if jobs > 1:
            say(f"check.py: {jobs} guests at a time; each line starts with "
                f"its kernel's name")
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            # Prefixed only when lines of several guests can interleave.
            runs = {k: pool.submit(self.run_guest, k,
                                   f"[{k}] " if jobs > 1 else "")
                    for k in runnable}
            # Recorded in the kernels' order, whichever guest ends first.
            for k in self.kernels:
                if k not in runs:
                    self.res.add_simple(k, "guest", False,
                                        "module did not build")
                    continue
                rc, text, secs = runs[k].result()
                self.record_guest(k, rc, text, self.GUEST_SUITES, secs)

    def record_guest(self, kernel, rc, text, expected, seconds=0.0):
        console = os.path.join(self.log(f"vm-{kernel}"), "console.log")
        sections = re.findall(
            r"^MLOCKDEV-SUITE-BEGIN (\S+)\n(.*?)^MLOCKDEV-SUITE-END \1 rc=(\d+)",
            text, re.S | re.M)
        for name, body, src in sections:
            s = ktap.parse(body, f"{kernel} {name}")
            self.keep_ktap(kernel, name, body)
            self.res.add(kernel, name, s, log=console)
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
                                verdict or f"runner exited {rc}", seconds,
                                console)
        else:
            self.res.add_simple(kernel, "vm", True, seconds=seconds)
        names = [name for name, _, _ in sections]
        for suite in expected:
            if not any(n == suite or n.startswith(suite + ":") for n in names):
                self.res.add_simple(kernel, suite, False,
                                    "suite produced no output (guest crashed "
                                    "or hung?): " + (verdict or f"rc {rc}"),
                                    log=console)

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
        results_junit.write(self.log("junit.xml"), self.res.junit_rows,
                            self.res.phases)
        total = self.res.failed
        say(f"\nLogs: {os.path.relpath(self.logdir, TOP)} (KTAP in ktap/, "
            "JUnit in junit.xml)")
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
    ap.add_argument("-j", "--jobs", type=parse_jobs, default="auto",
                    help="guests of different kernels run at once (default "
                    "auto: one per 2 cores and 4 GiB available, at least 1)")
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
