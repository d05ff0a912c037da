# SPDX-License-Identifier: GPL-2.0
"""Which accelerator a guest gets: KVM when it can really boot one, else TCG.

Opening /dev/kvm proves little: on some machines it is a paravirtual KVM
("kvm-pvm") that only runs specially built guests, and QEMU aborts in
kvm_buf_set_msrs() with -cpu host, or the guest dies with "KVM internal
error ... emulation failure".  So "auto" boots the kernel under test once
under KVM (no initramfs, short timeout) and uses KVM only when that kernel
got as far as looking for its root file system.  The answer is cached per
machine, keyed by the host's kernel release and QEMU's version, in
${XDG_CACHE_HOME:-~/.cache}/mlockdev/accel/.

Environment, for tests and odd machines:
  MLOCKDEV_QEMU        the QEMU binary (default qemu-system-x86_64)
  MLOCKDEV_KVM_DEVICE  the KVM device (default /dev/kvm)

See Documentation/vm-runner.rst, "KVM or TCG".
"""

import datetime
import hashlib
import json
import os
import re
import selectors
import signal
import subprocess
import time

QEMU_DEFAULT = "qemu-system-x86_64"
KVM_DEVICE_DEFAULT = "/dev/kvm"
# Seconds the probe may take.  Stock 6.12 gets to its root mount in 3-4 s
# even under TCG; the probe stops there.
PROBE_TIMEOUT = 45
# start_kernel()'s first line: the decompressor and early setup worked.
STARTED = re.compile(r"Linux version \d")
# Lines of the end of boot, after every initcall: with no initramfs the
# kernel panics looking for a root file system (or runs an init).
FINISHED = re.compile(r"Unable to mount root fs|Run /init as init process|"
                      r"No working init found|Freeing unused kernel")
# QEMU on stderr when KVM refuses the guest; QEMU then pauses, it does
# not exit.
KVM_INTERNAL = re.compile(r"KVM internal error\. Suberror: (\d+)")


class AccelError(Exception):
    """--accel kvm on a machine where KVM cannot be used (a set-up error)."""


class Decision:
    """The accelerator for a run and why; line is what to tell the user."""

    def __init__(self, accel, reason, cache=None, line=None):
        self.accel = accel
        self.reason = reason
        self.cache = cache
        self.line = line

    def __repr__(self):
        return f"Decision({self.accel!r}, {self.reason!r}, cache={self.cache!r})"


def qemu_binary():
    return os.environ.get("MLOCKDEV_QEMU") or QEMU_DEFAULT


def kvm_device():
    return os.environ.get("MLOCKDEV_KVM_DEVICE") or KVM_DEVICE_DEFAULT


def cache_dir():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(
        os.path.expanduser("~"), ".cache")
    return os.path.join(base, "mlockdev", "accel")


def host_release():
    return os.uname().release


def qemu_version(qemu):
    """The first line of 'qemu --version', or 'unknown'."""
    try:
        p = subprocess.run([qemu, "--version"], capture_output=True, text=True,
                           timeout=30)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    lines = [ln.strip() for ln in p.stdout.splitlines() if ln.strip()]
    return lines[0] if p.returncode == 0 and lines else "unknown"


def cache_file(release, version):
    """Where the answer for this host kernel and QEMU version is kept."""
    m = re.search(r"version (\S+)", version)
    num = m.group(1) if m else "unknown"
    h = hashlib.sha256(version.encode()).hexdigest()[:8]
    name = re.sub(r"[^A-Za-z0-9_.+-]", "_", f"kvm-{release}-qemu-{num}-{h}.json")
    return os.path.join(cache_dir(), name)


def open_error(dev):
    """None when dev opens read-write, else why not ('/dev/kvm: ...')."""
    try:
        fd = os.open(dev, os.O_RDWR | os.O_CLOEXEC)
    except OSError as e:
        return f"{dev}: {e.strerror}"
    os.close(fd)
    return None


def failure_reason(err, rc, started, timed_out, timeout):
    """Why a KVM boot did not get through, from QEMU's stderr and status."""
    m = re.search(r"(\w+): Assertion `[^`']*' failed", err)
    if m:
        return f"qemu aborted: {m.group(1)} assertion"
    m = KVM_INTERNAL.search(err)
    if m:
        what = " (emulation failure)" if "emulation failure" in err else ""
        return f"KVM internal error, suberror {m.group(1)}{what}"
    if rc is not None and rc < 0:
        try:
            name = signal.Signals(-rc).name
        except ValueError:
            name = f"signal {-rc}"
        return f"qemu killed by {name}"
    lines = [ln.strip() for ln in err.splitlines() if ln.strip()]
    if rc not in (None, 0):
        return f"qemu exited {rc}" + (f": {lines[-1]}" if lines else "")
    if timed_out:
        if started:
            return f"the kernel started but did not finish booting within {timeout:g} s"
        return f"no kernel output within {timeout:g} s"
    return "the guest stopped before the kernel printed 'Linux version'"


def probe(qemu, qemu_args, timeout=PROBE_TIMEOUT):
    """Boot under KVM: (True, what happened) or (False, why not).

    qemu_args are the machine, kernel and console options; they must send
    the console to stdout (-serial stdio).  QEMU is stopped as soon as the
    answer is known.
    """
    cmd = [qemu] + list(qemu_args) + ["-accel", "kvm", "-cpu", "host"]
    t0 = time.monotonic()
    try:
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, start_new_session=True)
    except OSError as e:
        raise AccelError(f"cannot run {qemu}: {e.strerror}")
    sel = selectors.DefaultSelector()
    bufs = {p.stdout: b"", p.stderr: b""}
    for f in bufs:
        os.set_blocking(f.fileno(), False)
        sel.register(f, selectors.EVENT_READ)
    started = finished = timed_out = False
    try:
        while sel.get_map():
            left = t0 + timeout - time.monotonic()
            if left <= 0:
                timed_out = True
                break
            for key, _ in sel.select(timeout=min(left, 0.5)):
                try:
                    chunk = os.read(key.fileobj.fileno(), 65536)
                except BlockingIOError:
                    continue
                if not chunk:
                    sel.unregister(key.fileobj)
                    continue
                bufs[key.fileobj] += chunk
            out = bufs[p.stdout].decode(errors="replace")
            started = bool(STARTED.search(out))
            finished = started and bool(FINISHED.search(out))
            if finished or KVM_INTERNAL.search(bufs[p.stderr].decode(errors="replace")):
                break
    finally:
        sel.close()
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        rc = p.wait()
        for f in bufs:
            f.close()
    secs = time.monotonic() - t0
    if finished:
        return True, f"a guest kernel booted under KVM in {secs:.1f} s"
    rc = None if timed_out or rc == -signal.SIGKILL else rc
    err = bufs[p.stderr].decode(errors="replace")
    return False, failure_reason(err, rc, started, timed_out, timeout)


def read_cache(path):
    """The cached answer (a dict with 'kvm' and 'reason'), or None."""
    try:
        with open(path) as f:
            d = json.load(f)
    except (OSError, ValueError):
        return None
    if not isinstance(d, dict) or not isinstance(d.get("kvm"), bool):
        return None
    return d


def write_cache(path, kvm, reason, release, version, qemu):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    d = {"kvm": kvm, "reason": reason, "host_release": release,
         "qemu": qemu, "qemu_version": version,
         "decided": datetime.datetime.now(datetime.timezone.utc)
         .strftime("%Y-%m-%dT%H:%M:%SZ")}
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w") as f:
        json.dump(d, f, indent=1)
        f.write("\n")
    os.replace(tmp, path)


def this_machine():
    """(QEMU binary, host release, QEMU version, cache file) for the key."""
    qemu = qemu_binary()
    release = host_release()
    version = qemu_version(qemu)
    return qemu, release, version, cache_file(release, version)


def tcg_line(reason, path):
    return (f"KVM cannot boot a guest here ({reason}); using TCG "
            f"(cached in {path}; ACCEL=kvm to force)")


def decide(mode, qemu_args, timeout=PROBE_TIMEOUT):
    """The Decision for --accel MODE (auto, kvm or tcg).

    qemu_args boot the kernel under test for the probe (see probe()).
    Raises AccelError for "kvm" when the device cannot be opened.
    """
    if mode == "tcg":
        return Decision("tcg", "--accel tcg")
    dev = kvm_device()
    err = open_error(dev)
    if mode == "kvm":
        if err:
            raise AccelError(f"--accel kvm: {err}, so KVM cannot be used on this "
                             "machine; use --accel tcg or --accel auto "
                             "(make ... ACCEL=tcg or ACCEL=auto)")
        return Decision("kvm", "--accel kvm")
    if err:
        return Decision("tcg", f"no usable KVM ({err})",
                        line=f"no usable KVM ({err}); using TCG")
    qemu, release, version, path = this_machine()
    cached = read_cache(path)
    if cached is not None:
        if cached["kvm"]:
            return Decision("kvm", f"KVM boots a guest here (cached in {path})",
                            cache=path)
        reason = cached.get("reason") or "probe failed"
        return Decision("tcg", reason, cache=path, line=tcg_line(reason, path))
    ok, reason = probe(qemu, qemu_args, timeout)
    write_cache(path, ok, reason, release, version, qemu)
    if ok:
        return Decision("kvm", reason, cache=path,
                        line=f"KVM works here ({reason}); using KVM (cached in {path})")
    return Decision("tcg", reason, cache=path, line=tcg_line(reason, path))


def record_failure(reason):
    """A real boot under KVM failed before the kernel printed anything:
    remember that KVM does not work here; returns the cache file."""
    qemu, release, version, path = this_machine()
    write_cache(path, False, reason, release, version, qemu)
    return path


def kernel_printed(console_lines):
    """Did the kernel print anything at all (a timestamped record, or its
    banner)?  The runner always boots with printk.time=1."""
    for ln in console_lines:
        if STARTED.search(ln) or re.match(r"\s*\[\s*\d+\.\d+\]", ln):
            return True
    return False
