# SPDX-License-Identifier: GPL-2.0
"""tools/vm/run: boot a test kernel in QEMU and run one command in it.

See Documentation/vm-runner.rst.  Host side only; the guest side is
tools/vm/guest/init.
"""

import argparse
import base64
import datetime
import io
import json
import os
import re
import secrets
import selectors
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import accel as accel_mod             # noqa: E402
import initramfs                     # noqa: E402
import logscan                        # noqa: E402
from initramfs import BuildError     # noqa: E402

EXIT_KERNEL = 100
EXIT_TIMEOUT = 124
EXIT_SETUP = 125
EXIT_INTERRUPTED = 130

QBOOT = "/usr/share/qemu/qboot.rom"
# Under TCG: a model without la57 (5-level paging makes every page walk one
# level longer) and with the features the Debian kernels like; measured in
# Documentation/vm-runner.rst.
TCG_CPU = "max,la57=off"
DEFAULT_KERNEL = "stock-6.12"
# Modules every base image carries (not loaded) so tests can modprobe them,
# when the kernel has them (a custom kernel may have neither).
DEFAULT_MODULES = ["zram", "kunit"]
# Bump when the layout of the base archive changes.
BASE_FORMAT = 3
GUEST_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
KMOD_TOOLS = {"modprobe": "/usr/sbin", "insmod": "/usr/sbin", "rmmod": "/usr/sbin",
              "depmod": "/usr/sbin", "modinfo": "/usr/sbin", "lsmod": "/usr/bin"}


class SetupError(Exception):
    pass


def log(msg):
    print(f"mlockdev-vm: {msg}", file=sys.stderr, flush=True)


def repo_root():
    try:
        out = subprocess.run(["git", "-C", HERE, "rev-parse", "--show-toplevel"],
                             capture_output=True, text=True, timeout=30)
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return os.path.dirname(os.path.dirname(HERE))


# --------------------------------------------------------------------------
# Kernels

KVARS = ["MLOCKDEV_KERNEL_NAME", "MLOCKDEV_KERNEL_FLAVOR", "MLOCKDEV_KERNEL_IMAGE",
         "MLOCKDEV_KDIR", "MLOCKDEV_KERNEL_RELEASE", "MLOCKDEV_MODULES_ROOT",
         "MLOCKDEV_KERNEL_CONFIG", "MLOCKDEV_SOURCE_TREE"]


def _source_env(text):
    """Evaluate testkernel's shell-sourceable output the way a shell would."""
    script = 'eval "$1" || exit 1; for v in ' + " ".join(KVARS) + \
        '; do eval "printf \'%s=%s\\0\' $v \\"\\${$v-}\\""; done'
    p = subprocess.run(["sh", "-c", script, "sh", text], capture_output=True, timeout=30)
    if p.returncode:
        raise SetupError("cannot evaluate 'testkernel env' output: "
                         + p.stderr.decode(errors="replace").strip())
    env = {}
    for item in p.stdout.split(b"\0"):
        if b"=" in item:
            k, v = item.split(b"=", 1)
            env[k.decode()] = v.decode()
    return env


def image_release(path):
    """Kernel release from a bzImage's setup header (kernel_version field)."""
    try:
        with open(path, "rb") as f:
            hdr = f.read(0x210)
            if len(hdr) < 0x210 or hdr[0x202:0x206] != b"HdrS":
                return None
            off = int.from_bytes(hdr[0x20E:0x210], "little")
            if not off:
                return None
            f.seek(off + 0x200)
            s = f.read(256).split(b"\0")[0].decode(errors="replace")
            return s.split()[0] if s else None
    except OSError:
        return None


def resolve_kernel(args, root):
    tk = os.path.join(root, "tools", "testkernel")
    env_k = os.environ.get("KERNEL", "") if not (args.kernel or args.kernel_image) else ""
    if env_k and not os.path.isfile(env_k) and "/" not in env_k:
        args.kernel, env_k = env_k, ""      # KERNEL=stock-6.1 names a kernel
    if args.kernel_image or env_k:
        image = args.kernel_image or env_k
        kdir = args.kdir or os.environ.get("KDIR") or ""
        mroot = args.modules_root if args.modules_root is not None else \
            os.environ.get("MODULES_ROOT", "")
        if not os.path.isfile(image):
            raise SetupError(f"kernel image {image}: no such file")
        if kdir and not os.path.isdir(kdir):
            raise SetupError(f"KDIR {kdir}: no such directory")
        if os.access(tk, os.X_OK) and kdir:
            cmd = [tk, "env", "--image", os.path.abspath(image), "--kdir", os.path.abspath(kdir)]
            if mroot:
                cmd += ["--modules-root", os.path.abspath(mroot)]
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
            if p.returncode:
                raise SetupError(f"{' '.join(cmd)} failed: {p.stderr.strip()}")
            return _source_env(p.stdout)
        # No testkernel (or no KDIR): work it out here.
        rel = ""
        if kdir and os.path.exists(os.path.join(kdir, "include/config/kernel.release")):
            with open(os.path.join(kdir, "include/config/kernel.release")) as f:
                rel = f.read().strip()
        rel = rel or image_release(image) or ""
        if not rel:
            raise SetupError(f"cannot tell the release of {image}; give --kdir")
        cfg = os.path.join(kdir, ".config") if kdir else ""
        return {"MLOCKDEV_KERNEL_NAME": "custom", "MLOCKDEV_KERNEL_FLAVOR": "custom",
                "MLOCKDEV_KERNEL_IMAGE": os.path.abspath(image),
                "MLOCKDEV_KDIR": os.path.abspath(kdir) if kdir else "",
                "MLOCKDEV_KERNEL_RELEASE": rel,
                "MLOCKDEV_MODULES_ROOT": os.path.abspath(mroot) if mroot else "",
                "MLOCKDEV_KERNEL_CONFIG": cfg if cfg and os.path.exists(cfg) else "",
                "MLOCKDEV_SOURCE_TREE": ""}
    name = args.kernel or DEFAULT_KERNEL
    if not os.access(tk, os.X_OK):
        raise SetupError(f"{tk} not found: cannot get kernel '{name}' "
                         "(use --kernel-image/--kdir for your own kernel)")
    # prepare may download or build for minutes; its output is progress,
    # shown unless --quiet (then only when it fails).
    if args.quiet:
        p = subprocess.run([tk, "prepare", name], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT)
        if p.returncode:
            sys.stderr.buffer.write(p.stdout)
    else:
        p = subprocess.run([tk, "prepare", name], stdout=sys.stderr, stderr=sys.stderr)
    if p.returncode:
        raise SetupError(f"tools/testkernel prepare {name} failed (exit {p.returncode})")
    p = subprocess.run([tk, "env", name], capture_output=True, text=True, timeout=120)
    if p.returncode:
        raise SetupError(f"tools/testkernel env {name} failed: {p.stderr.strip()}")
    return _source_env(p.stdout)


_MAGIC = [(b"\xfd7zXZ\x00", "xz"), (b"\x5d\x00\x00", "lzma"), (b"\x1f\x8b", "gzip"),
          (b"\x28\xb5\x2f\xfd", "zstd")]


def bzimage_payload(path):
    """(compression, compressed vmlinux) of a bzImage, or (None, None)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return None, None
    if len(data) < 0x250 or data[0x202:0x206] != b"HdrS":
        return None, None
    if int.from_bytes(data[0x206:0x208], "little") < 0x208:
        return None, None            # boot protocol < 2.08: no payload fields
    setup_sects = data[0x1F1] or 4
    off = (setup_sects + 1) * 512 + int.from_bytes(data[0x248:0x24C], "little")
    length = int.from_bytes(data[0x24C:0x250], "little")
    payload = data[off:off + length]
    for magic, name in _MAGIC:
        if payload.startswith(magic):
            return name, payload
    return None, None


def pvh_image(kinfo, cfg, cache_dir, mode):
    """The kernel to give QEMU: the bzImage, or its vmlinux for PVH boot.

    QEMU loads an ELF vmlinux with a PVH note straight into guest memory,
    skipping the real-mode setup and the decompressor.  Under TCG the
    decompressor is slow for xz: ~15 s for Debian's 6.1 kernel, against ~2 s
    for the zstd 6.12 one.  "auto" therefore uses PVH for xz/lzma kernels
    built with CONFIG_PVH=y; the vmlinux is extracted once and cached.
    """
    image = kinfo["MLOCKDEV_KERNEL_IMAGE"]
    if mode == "off":
        return image
    if cfg.get("CONFIG_PVH") != "y":
        if mode == "on":
            raise SetupError("--pvh on: the kernel has no CONFIG_PVH=y")
        return image
    comp, payload = bzimage_payload(image)
    if comp is None:
        if mode == "on":
            raise SetupError(f"--pvh on: {image} is not a bzImage with a known payload")
        return image
    if mode == "auto" and comp not in ("xz", "lzma"):
        return image
    key = initramfs.digest(initramfs.file_fingerprint(image))
    safe = re.sub(r"[^A-Za-z0-9_.+-]", "_", kinfo.get("MLOCKDEV_KERNEL_RELEASE", "k"))
    out = os.path.join(cache_dir, f"vmlinux-{safe}-{key}")
    if os.path.exists(out):
        try:
            os.utime(out)
        except OSError:
            pass
        return out
    t0 = time.monotonic()
    try:
        if comp in ("xz", "lzma"):
            import lzma
            fmt = lzma.FORMAT_XZ if comp == "xz" else lzma.FORMAT_ALONE
            elf = lzma.LZMADecompressor(format=fmt).decompress(payload)
        elif comp == "gzip":
            import zlib
            elf = zlib.decompressobj(31).decompress(payload)
        else:
            # Kbuild appends the 4-byte decompressed size, which the zstd
            # tool takes for a broken frame (lzma and zlib just stop).
            p = subprocess.run(["zstd", "-dc"], input=payload[:-4], capture_output=True,
                               timeout=300)
            if p.returncode:
                raise ValueError(p.stderr.decode(errors="replace").strip())
            elf = p.stdout
    except (ValueError, OSError, EOFError, subprocess.SubprocessError) as e:
        if mode == "on":
            raise SetupError(f"--pvh on: cannot decompress {image}: {e}")
        return image
    if not elf.startswith(b"\x7fELF"):
        if mode == "on":
            raise SetupError(f"--pvh on: {image} payload is not an ELF vmlinux")
        return image
    os.makedirs(cache_dir, exist_ok=True)
    tmp = f"{out}.tmp{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(elf)
    os.replace(tmp, out)
    log(f"extracted {os.path.basename(out)} for PVH boot ({comp}, "
        f"{len(elf) >> 20} MiB) in {time.monotonic() - t0:.1f} s")
    return out


def kernel_config(kinfo):
    cfg = {}
    path = kinfo.get("MLOCKDEV_KERNEL_CONFIG")
    if path and os.path.exists(path):
        with open(path, errors="replace") as f:
            for line in f:
                m = re.match(r"(CONFIG_\w+)=(.*)", line)
                if m:
                    cfg[m.group(1)] = m.group(2)
    return cfg


# --------------------------------------------------------------------------
# Initramfs

def busybox_path():
    for p in ("/usr/bin/busybox", "/bin/busybox"):
        if os.path.exists(p) and initramfs.is_elf(p):
            return p
    raise SetupError("busybox not found (install busybox-static: tools/setup)")


def busybox_applets(bb):
    p = subprocess.run([bb, "--list"], capture_output=True, text=True, timeout=30)
    if p.returncode:
        raise SetupError(f"{bb} --list failed")
    return sorted(set(p.stdout.split()) - {"busybox"})


def build_base(kinfo, cache_dir, modules):
    """Return (path of the cached base archive, its manifest)."""
    bb = busybox_path()
    kmod = shutil.which("kmod") or "/usr/bin/kmod"
    if not os.path.exists(kmod):
        raise SetupError("kmod not found (install kmod: tools/setup)")
    with open(os.path.join(HERE, "guest", "init"), "rb") as f:
        init = f.read()
    rel = kinfo["MLOCKDEV_KERNEL_RELEASE"]
    km = initramfs.KernelModules(rel, kinfo.get("MLOCKDEV_MODULES_ROOT"),
                                 kinfo.get("MLOCKDEV_KDIR"))
    names = km.closure(modules, DEFAULT_MODULES)
    # The builder's own code is part of the key: changing it rebuilds.
    code = []
    for n in ("runner.py", "initramfs.py"):
        with open(os.path.join(HERE, n), "rb") as f:
            code.append(initramfs.digest(f.read().decode(errors="replace")))
    key = initramfs.digest(BASE_FORMAT, code, init.decode(errors="replace"), rel,
                           initramfs.file_fingerprint(bb), initramfs.file_fingerprint(kmod),
                           initramfs.file_fingerprint("/bin/sh"),
                           [initramfs.file_fingerprint(l) for l in initramfs.ldd(kmod)],
                           sorted(names),
                           [initramfs.file_fingerprint(km.files[n][0]) for n in sorted(names)],
                           sorted(initramfs.file_fingerprint(p)
                                  for p in km.extra_files.values()))
    safe = re.sub(r"[^A-Za-z0-9_.+-]", "_", rel)
    path = os.path.join(cache_dir, f"base-{safe}-{key}.cpio.gz")
    mpath = path[:-len(".cpio.gz")] + ".json"
    if os.path.exists(path) and os.path.exists(mpath):
        with open(mpath) as f:
            manifest = json.load(f)
        try:
            os.utime(path)       # last use, for prune_cache()
        except OSError:
            pass
        return path, manifest, names
    t0 = time.monotonic()
    tree = initramfs.Tree()
    # Reproduce the host's merged-/usr (or not) top level, so that library
    # paths from ldd resolve the same way in the guest.
    for top in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        p = "/" + top
        if os.path.islink(p):
            tree.add_symlink(p, os.readlink(p))
        elif os.path.isdir(p) and top in ("bin", "sbin", "lib"):
            tree.add_dir(p)
    for d in ("/dev", "/proc", "/sys", "/tmp", "/run", "/root", "/etc", "/out", "/mnt",
              "/usr/bin", "/usr/sbin", "/usr/lib", "/var", "/home"):
        tree.add_dir(d, 0o1777 if d == "/tmp" else (0o700 if d == "/root" else 0o755))
    tree.add_symlink("/var/tmp", "../tmp")
    tree.add_symlink("/var/run", "../run")
    tree.add_chardev("/dev/console", 5, 1)
    tree.add_chardev("/dev/null", 1, 3, 0o666)
    tree.add_chardev("/dev/ttyS0", 4, 64)
    # busybox: the binary at its host path, a private applet directory for
    # /init, and the applets on the normal PATH for commands and users.
    tree.copy_host(bb)
    bbc = tree.canon(bb)
    applets = busybox_applets(bb)
    for a in applets:
        if a not in KMOD_TOOLS:      # /init loads modules with kmod
            tree.add_symlink(f"/usr/lib/mlockdev-vm/bb/{a}", bbc)
    tree.add_symlink("/usr/lib/mlockdev-vm/bb/sh", bbc)
    # /bin/sh is the host's shell (dash on Debian), not busybox: this
    # busybox is built with FEATURE_SH_STANDALONE/PREFER_APPLETS, so its sh
    # and env run their own applets before searching PATH, and a script's
    # "modprobe" or "stat" would not be kmod's or the host's.
    tree.copy_host("/bin/sh")
    for a in applets:
        if a in KMOD_TOOLS or a in ("linuxrc", "init") or tree.exists(f"/usr/bin/{a}"):
            continue
        tree.add_symlink(f"/usr/bin/{a}", bbc)
    # kmod, for .ko.xz/.ko.zst and modprobe with dependencies
    tree.copy_host(kmod)
    kmodc = tree.canon(os.path.realpath(kmod))
    for tool, d in KMOD_TOOLS.items():
        tree.add_symlink(f"{d}/{tool}", kmodc)
    initramfs.add_closures(tree)
    tree.add_bytes("/init", init, 0o755)
    tree.add_bytes("/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"
                   "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n")
    tree.add_bytes("/etc/group", "root:x:0:\ntty:x:5:\nnogroup:x:65534:\n")
    tree.add_bytes("/etc/shadow", "root::0::::::\nnobody:*:0::::::\n", 0o600)
    tree.add_bytes("/etc/nsswitch.conf", "passwd: files\ngroup: files\nshadow: files\n"
                   "hosts: files\n")
    tree.add_bytes("/etc/hosts", "127.0.0.1 localhost mlockdev-vm\n")
    tree.add_bytes("/etc/hostname", "mlockdev-vm\n")
    tree.add_symlink("/etc/mtab", "/proc/self/mounts")
    tree.add_dir("/etc/mlockdev-vm")
    if names:
        km.add_to(tree, names)
    else:
        tree.add_dir(f"/lib/modules/{rel}")
    os.makedirs(cache_dir, exist_ok=True)
    tmp = path + f".tmp{os.getpid()}"
    with open(tmp, "wb") as f:
        tree.write(f, compress=True)
    manifest = tree.manifest()
    with open(mpath + f".tmp{os.getpid()}", "w") as f:
        json.dump(manifest, f)
    os.replace(mpath + f".tmp{os.getpid()}", mpath)
    os.replace(tmp, path)
    prune_cache(cache_dir)
    log(f"built base initramfs {os.path.basename(path)} "
        f"({os.path.getsize(path) // 1024} KiB, modules: {' '.join(names) or 'none'}) "
        f"in {time.monotonic() - t0:.1f} s")
    return path, manifest, names


def prune_cache(cache_dir, max_age=2 * 86400):
    """Drop cached archives and vmlinux files unused for max_age seconds
    (every change to the runner or its inputs makes a new base archive)."""
    now = time.time()
    for n in os.listdir(cache_dir):
        if not re.match(r"(base-.*\.(cpio\.gz|json)|vmlinux-.*)$", n) or ".tmp" in n:
            continue
        p = os.path.join(cache_dir, n)
        try:
            ref = p[:-len(".json")] + ".cpio.gz" if n.endswith(".json") else p
            if now - os.stat(ref if os.path.exists(ref) else p).st_mtime > max_age:
                os.unlink(p)
        except OSError:
            pass


def sh_quote(s):
    return shlex.quote(s)


def add_command(tree, argv0):
    """Bring the command (and a script's interpreter) from the host.

    Returns the argv[0] to run in the guest.
    """
    host = None
    if "/" in argv0:
        if os.path.exists(argv0):
            host = os.path.abspath(argv0)
            if not argv0.startswith("/"):
                argv0 = host
    else:
        host = shutil.which(argv0)
    if host and not os.path.isdir(host):
        tree.copy_host(host)
        add_interpreter(tree, host)
    return argv0


def add_interpreter(tree, host):
    sb = initramfs.shebang(host)
    if not sb:
        return
    interp = sb[0]
    if os.path.basename(interp) == "env" and len(sb) > 1:
        prog = [w for w in sb[1:] if not w.startswith("-")]
        if prog and not tree.exists(interp):
            tree.copy_host(interp)
        interp = shutil.which(prog[0]) if prog else None
        if not interp:
            return
    if not tree.exists(interp) and os.path.exists(interp):
        tree.copy_host(interp)


def add_terminfo(tree, term):
    """The terminfo entry of the host's terminal, for an interactive shell."""
    if not term or "/" in term:
        return
    for d in ("/etc/terminfo", "/lib/terminfo", "/usr/share/terminfo"):
        p = os.path.join(d, term[0], term)
        if os.path.exists(p):
            tree.copy_host(p)
            return


def build_run(tree, args, argv, kinfo, run_id, extra_env):
    """Fill the per-run tree; returns nothing, raises BuildError."""
    # --add first: a GUESTPATH may be where the command lives.
    for spec in args.add:
        if ":" in spec:
            hostp, guestp = spec.split(":", 1)
        else:
            hostp, guestp = spec, None
        if not os.path.exists(hostp):
            raise BuildError(f"--add {spec}: {hostp}: no such file or directory")
        if guestp:
            if not guestp.startswith("/"):
                raise BuildError(f"--add {spec}: guest path must be absolute")
        g = os.path.normpath(guestp or os.path.abspath(hostp))
        if re.match(r"/(proc|sys|dev)(/|$)", g):
            raise BuildError(f"--add {spec}: {g} is hidden by a mount in the guest")
        if guestp:
            tree.add_host_as(hostp, guestp)
        else:
            tree.copy_host(hostp)
    # Scripts among the added files bring their interpreters.
    for p, e in list(tree.entries.items()):
        if e[0] == "f" and os.access(e[1], os.X_OK):
            add_interpreter(tree, e[1])
    argv = list(argv)
    # The command comes from the host unless an --add put it there.
    if not ("/" in argv[0] and tree.canon(argv[0]) in tree.entries):
        argv[0] = add_command(tree, argv[0])
    loads = []
    for kind, val, params in args.loads:
        words = " ".join(sh_quote(p) for p in params.split())
        if kind == "insmod":
            tree.copy_host(val)
            loads.append(f"\tvm_insmod {sh_quote(os.path.abspath(val))} {words} || return 1\n")
        else:
            loads.append(f"\tvm_modprobe {sh_quote(val)} {words} || return 1\n")
    # Files are copied, not run: module ELF files need no library closure.
    tree.elves = [e for e in tree.elves if not re.search(r"\.ko(\.\w+)?$", e)]
    extra_dirs = initramfs.add_closures(tree)
    env = {
        "PATH": GUEST_PATH,
        "HOME": "/root",
        "USER": "root",
        "LOGNAME": "root",
        "SHELL": "/bin/sh",
        "TERM": os.environ.get("TERM", "linux") if args.interactive else "dumb",
        "MLOCKDEV_OUT": "/out",
        "MLOCKDEV_VM": "1",
        "MLOCKDEV_KERNEL_NAME": kinfo.get("MLOCKDEV_KERNEL_NAME", ""),
        "MLOCKDEV_KERNEL_FLAVOR": kinfo.get("MLOCKDEV_KERNEL_FLAVOR", ""),
        "MLOCKDEV_KERNEL_RELEASE": kinfo.get("MLOCKDEV_KERNEL_RELEASE", ""),
    }
    if args.interactive:
        env["PS1"] = r"mlockdev-vm:\w# "
        add_terminfo(tree, env["TERM"])
    if extra_dirs:
        env["LD_LIBRARY_PATH"] = ":".join(sorted(extra_dirs))
    env.update(extra_env)
    conf = [
        "# Generated by tools/vm/run for one run; sourced by /init.\n",
        f"VM_ID={sh_quote(run_id)}\n",
        f"VM_CWD={sh_quote(args.cwd)}\n",
        f"VM_INTERACTIVE={1 if args.interactive else 0}\n",
        f"VM_OUTDIR={1 if args.outdir else 0}\n",
        f"VM_KMEMLEAK={args.kmemleak}\n",
        f"VM_KMEMLEAK_WAIT={int(args.kmemleak_wait)}\n",
        "vm_load_modules() {\n", *loads, "\treturn 0\n}\n",
        # env here is busybox's; it execs /bin/sh by absolute path, and
        # /bin/sh then looks CMD up in PATH like any shell would, keeping
        # argv[0] exactly as given.
        "vm_run() {\n\t\"$@\" env -i " +
        " ".join(sh_quote(f"{k}={v}") for k, v in env.items()) +
        " /bin/sh -c 'exec \"$@\"' sh \\\n\t\t" +
        " ".join(sh_quote(a) for a in argv) + "\n}\n",
    ]
    if args.interactive:
        cols, rows = shutil.get_terminal_size((80, 24))
        conf.append(f"VM_STTY='rows {rows} cols {cols}'\n")
    tree.add_bytes("/etc/mlockdev-vm/run.conf", "".join(conf))
    return argv


# --------------------------------------------------------------------------
# QEMU

def probe_args(args, kinfo):
    """QEMU options for accel_mod.probe(): the same machine booting the kernel
    under test with no initramfs (it panics looking for a root file system,
    after every initcall), console on stdout."""
    return ["-M", "q35", "-nodefaults", "-display", "none", "-no-reboot",
            "-bios", QBOOT, "-m", "512", "-smp", str(args.smp),
            "-kernel", kinfo["MLOCKDEV_KERNEL_IMAGE"],
            "-append", "console=ttyS0,115200 panic=-1 printk.time=1 loglevel=7",
            "-serial", "stdio"]


def choose_accel(args, kinfo, mode):
    """accel.decide() for this run, its one line said; a SetupError when
    --accel kvm cannot work."""
    try:
        dec = accel_mod.decide(mode, probe_args(args, kinfo))
    except accel_mod.AccelError as e:
        raise SetupError(str(e))
    if dec.line:
        log(dec.line)
    return dec


# Under TCG the guest's clock is the host's, but its CPUs are 10-50x slower
# and starve when the host is loaded: a non-preemptible loop that takes 1 s
# normally (jitterentropy's self test at boot) was measured at 33 s on a
# loaded host and reported as a soft lockup.  Longer thresholds under TCG
# only; --append can set them back (the last occurrence wins).
TCG_CMDLINE = ["watchdog_thresh=30", "rcupdate.rcu_cpu_stall_timeout=60"]


def kernel_cmdline(args, cfg, accel):
    parts = ["console=ttyS0,115200", "panic=-1", "oops=panic", "printk.time=1",
             f"loglevel={args.loglevel}", "rdinit=/init", "8250.nr_uarts=4"]
    if accel == "tcg":
        parts += TCG_CMDLINE
    if cfg.get("CONFIG_DEBUG_KMEMLEAK") == "y":
        parts.append("kmemleak=on")
    if args.append:
        parts += shlex.split(args.append)
    return " ".join(parts)


def qemu_command(args, kernel, initrd, cmdline, socks, logdir, accel):
    cmd = [accel_mod.qemu_binary(), "-M", "q35", "-nodefaults", "-nographic", "-no-reboot",
           "-bios", QBOOT, "-m", str(args.mem), "-smp", str(args.smp)]
    if accel == "kvm":
        cmd += ["-accel", "kvm", "-cpu", args.cpu or "host"]
    else:
        cmd += ["-accel", "tcg,thread=multi", "-cpu", args.cpu or TCG_CPU]
    cmd += ["-kernel", kernel, "-initrd", initrd,
            "-append", cmdline]
    if args.interactive:
        cmd += ["-chardev", "stdio,id=con,mux=on,signal=off,logfile="
                + os.path.join(logdir, "console.raw"),
                "-serial", "chardev:con", "-mon", "chardev=con,mode=readline",
                "-chardev", "file,id=data,path=" + socks[1],
                "-serial", "chardev:data",
                "-chardev", "file,id=out,path=" + socks[2],
                "-serial", "chardev:out"]
    else:
        for i, name in enumerate(("con", "data", "out")):
            cmd += ["-chardev", f"socket,id={name},path={socks[i]}",
                    "-serial", f"chardev:{name}"]
    return cmd


class DataStream:
    """ttyS1: the command's output with control lines cut out."""

    SENT = b"\nMLOCKDEV-VM-"

    def __init__(self, run_id, sink):
        self.id = run_id.encode()
        self.sink = sink          # callable(bytes)
        self.buf = b""
        self.exit = None          # (rc, taint)
        self.setup_error = None
        self.start_uptime = None
        self.start_time = None
        self.exit_time = None

    def _control(self, line):
        words = line.split()
        if not words or (b"id=" + self.id) not in words:
            return False
        what = words[0][len(b"MLOCKDEV-VM-"):]
        text = line.decode(errors="replace")
        if what == b"EXIT":
            m = re.search(r"rc=(\d+) taint=(\d+)", text)
            if m:
                self.exit = (int(m.group(1)), int(m.group(2)))
                self.exit_time = time.monotonic()
        elif what == b"START":
            m = re.search(r"uptime=([\d.]+)", text)
            self.start_uptime = float(m.group(1)) if m else None
            self.start_time = time.monotonic()
        elif what == b"SETUP-ERROR":
            self.setup_error = re.sub(r"^\S+ id=\S+ ?", "", text)
        return True

    def feed(self, data):
        self.buf += data
        out = bytearray()
        while True:
            i = self.buf.find(self.SENT)
            if i < 0:
                keep = 0
                for k in range(min(len(self.SENT) - 1, len(self.buf)), 0, -1):
                    if self.SENT.startswith(self.buf[-k:]):
                        keep = k
                        break
                out += self.buf[:len(self.buf) - keep]
                self.buf = self.buf[len(self.buf) - keep:]
                break
            j = self.buf.find(b"\n", i + 1)
            if j < 0:
                out += self.buf[:i]
                self.buf = self.buf[i:]
                break
            if self._control(self.buf[i + 1:j]):
                out += self.buf[:i]
                self.buf = self.buf[j + 1:]
            else:
                out += self.buf[:i + 1]
                self.buf = self.buf[i + 1:]
        if out:
            self.sink(bytes(out))

    def close(self):
        if self.buf:
            self.sink(self.buf)
            self.buf = b""


class ConsoleStream:
    """ttyS0: kernel console, saved with CRs dropped, optionally echoed."""

    def __init__(self, path, echo):
        self.f = open(path, "wb")
        self.echo = echo
        self.tail = []
        self.partial = b""

    def feed(self, data):
        data = data.replace(b"\r\n", b"\n")
        self.f.write(data)
        self.f.flush()
        if self.echo:
            sys.stderr.buffer.write(data)
            sys.stderr.buffer.flush()
        lines = (self.partial + data).split(b"\n")
        self.partial = lines.pop()
        self.tail = (self.tail + lines)[-40:]

    def close(self):
        if self.partial:
            self.tail = (self.tail + [self.partial])[-40:]
        self.f.close()

    def last_lines(self, n=15):
        return [l.decode(errors="replace").replace("\r", "") for l in self.tail[-n:]]


def _qemu_child_setup():
    """In the QEMU child: own session (no terminal signals), and die with
    the runner, however the runner dies (PR_SET_PDEATHSIG)."""
    os.setsid()
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)   # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class Interrupted(Exception):
    pass


def _raise_interrupted(signum, frame):
    raise Interrupted(signal.Signals(signum).name)


def kvm_internal_error(qlog_path, seen):
    """QEMU's "KVM internal error" message once it is in qemu.log, else
    None; seen is a one-element list holding the size already read."""
    try:
        size = os.path.getsize(qlog_path)
    except OSError:
        return None
    if size == seen[0]:
        return None
    seen[0] = size
    with open(qlog_path, errors="replace") as f:
        text = f.read()
    return text if accel_mod.KVM_INTERNAL.search(text) else None


def run_qemu_batch(cmd, socks, logdir, args, data, console, outport, watch_kvm=False):
    """Run QEMU, pump the three serial ports; returns (status, qemu rc).

    With watch_kvm, a "KVM internal error" from QEMU ends the run at once
    (status "kvm-error"): QEMU pauses the guest then, it does not exit.
    """
    sel = selectors.DefaultSelector()
    listeners = []
    for i, path in enumerate(socks):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(path)
        s.listen(1)
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, ("listen", i))
        listeners.append(s)
    events = {}

    def on_console(b):
        events.setdefault("first_console_s", round(time.monotonic() - t0, 2))
        console.feed(b)

    handlers = [on_console, data.feed, outport.write]
    qlog = open(os.path.join(logdir, "qemu.log"), "wb")
    qlog_seen = [0]
    t0 = time.monotonic()
    try:
        qemu = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=qlog,
                                stderr=subprocess.STDOUT, preexec_fn=_qemu_child_setup)
    except OSError as e:
        raise SetupError(f"cannot start {cmd[0]}: {e.strerror}")
    deadline = t0 + args.timeout if args.timeout else None
    status = "exited"
    open_conns = 0
    exited_at = None
    marker_at = None
    old_handlers = {sig: signal.signal(sig, _raise_interrupted)
                    for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        while True:
            now = time.monotonic()
            if deadline and now >= deadline:
                status = "timeout"
                break
            for key, _ in sel.select(timeout=0.2):
                kind, i = key.data
                if kind == "listen":
                    try:
                        conn, _ = key.fileobj.accept()
                    except BlockingIOError:
                        continue
                    conn.setblocking(False)
                    sel.register(conn, selectors.EVENT_READ, ("conn", i))
                    open_conns += 1
                    continue
                try:
                    chunk = key.fileobj.recv(65536)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    chunk = b""
                if not chunk:
                    sel.unregister(key.fileobj)
                    key.fileobj.close()
                    open_conns -= 1
                    continue
                handlers[i](chunk)
            if data.exit and marker_at is None:
                marker_at = time.monotonic()
            if watch_kvm and kvm_internal_error(qlog.name, qlog_seen):
                status = "kvm-error"
                break
            if qemu.poll() is not None:
                if exited_at is None:
                    exited_at = time.monotonic()
                    events["qemu_exit_s"] = round(exited_at - t0, 2)
                # Drain what QEMU wrote before exiting.
                if open_conns <= 0 or time.monotonic() - exited_at > 5:
                    break
            elif marker_at and time.monotonic() - marker_at > 60:
                status = "stuck-after-exit"
                break
    except (KeyboardInterrupt, Interrupted) as e:
        status = "interrupted"
        log(f"interrupted ({e or 'SIGINT'}), stopping QEMU")
    finally:
        for sig, h in old_handlers.items():
            signal.signal(sig, h)
        if qemu.poll() is None:
            try:
                os.killpg(qemu.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                qemu.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(qemu.pid, signal.SIGKILL)
                qemu.wait()
        for key in list(sel.get_map().values()):
            try:
                key.fileobj.close()
            except OSError:
                pass
        sel.close()
        qlog.close()
    if data.start_time:
        events["command_start_s"] = round(data.start_time - t0, 2)
    if data.exit_time:
        events["end_marker_s"] = round(data.exit_time - t0, 2)
    args.events = events
    return status, qemu.returncode, time.monotonic() - t0


def run_qemu_interactive(cmd, socks, logdir, args, data, console, outport):
    t0 = time.monotonic()
    try:
        qemu = subprocess.Popen(cmd)
    except OSError as e:
        raise SetupError(f"cannot start {cmd[0]}: {e.strerror}")
    status = "exited"
    try:
        qemu.wait(timeout=args.timeout or None)
    except subprocess.TimeoutExpired:
        status = "timeout"
        qemu.terminate()
        try:
            qemu.wait(timeout=5)
        except subprocess.TimeoutExpired:
            qemu.kill()
            qemu.wait()
    except KeyboardInterrupt:
        qemu.kill()
        qemu.wait()
        status = "timeout"
    elapsed = time.monotonic() - t0
    raw = os.path.join(logdir, "console.raw")
    if os.path.exists(raw):
        with open(raw, "rb") as f:
            console.feed(f.read())
        os.unlink(raw)
    for path, sink in ((socks[1], data.feed), (socks[2], outport.write)):
        if os.path.exists(path):
            with open(path, "rb") as f:
                sink(f.read())
    return status, qemu.returncode, elapsed


def extract_outdir(raw_path, run_id, outdir):
    """Decode the tar that /init sent on ttyS2 into outdir."""
    with open(raw_path, "rb") as f:
        raw = f.read().replace(b"\r", b"")
    begin = f"MLOCKDEV-VM-OUT-BEGIN id={run_id}\n".encode()
    end = f"\nMLOCKDEV-VM-OUT-END id={run_id}".encode()
    i = raw.find(begin)
    j = raw.find(end, i + 1)
    if i < 0 or j < 0:
        return "no /out archive received from the guest"
    try:
        blob = base64.b64decode(b"".join(raw[i + len(begin):j].split()), validate=True)
    except ValueError as e:
        return f"/out archive is corrupt: {e}"
    os.makedirs(outdir, exist_ok=True)
    try:
        with tarfile.open(fileobj=io.BytesIO(blob)) as tf:
            try:
                tf.extractall(outdir, filter="data")
            except TypeError:       # Python without extraction filters
                tf.extractall(outdir)
    except (tarfile.TarError, OSError) as e:
        return f"cannot unpack /out archive: {e}"
    return None


# --------------------------------------------------------------------------
# Command line

class LoadAction(argparse.Action):
    def __call__(self, parser, ns, value, option_string=None):
        loads = getattr(ns, "loads", None) or []
        # "PATH.ko a=1 b=2": parameters after the path, as for insmod;
        # a path that exists as given is taken whole (spaces and all).
        if option_string == "--module" and os.path.isfile(value):
            what, params = value, ""
        else:
            parts = value.strip().split(None, 1)
            if not parts:
                parser.error(f"{option_string}: empty argument")
            what, params = parts[0], (parts[1] if len(parts) > 1 else "")
        loads.append(("insmod" if option_string == "--module" else "modprobe",
                      what, params))
        ns.loads = loads


def parse_args(argv):
    ap = argparse.ArgumentParser(
        prog="tools/vm/run",
        usage="tools/vm/run [options] -- CMD [ARGS...]",
        description="Boot a test kernel under QEMU with a busybox initramfs, "
        "load modules, run CMD as root and report a verdict.  Exit status: "
        "CMD's own status when the kernel stayed clean, 100 kernel problem, "
        "124 timeout, 125 set-up error.",
        epilog="See Documentation/vm-runner.rst.")
    k = ap.add_argument_group("kernel")
    k.add_argument("--kernel", metavar="NAME",
                   help=f"kernel from tools/testkernel (default {DEFAULT_KERNEL}, "
                   "or $KERNEL/$KDIR when set)")
    k.add_argument("--kernel-image", metavar="PATH", help="your own bzImage")
    k.add_argument("--kdir", metavar="PATH", help="its build tree")
    k.add_argument("--modules-root", metavar="DIR",
                   help="directory holding lib/modules/RELEASE/ (optional)")
    g = ap.add_argument_group("guest contents")
    g.add_argument("--module", metavar="'PATH.ko [PARAM=V...]'", dest="loads",
                   action=LoadAction, default=[],
                   help="copy in and insmod before CMD (repeatable, in order)")
    g.add_argument("--modprobe", metavar="'NAME [PARAM=V...]'", dest="loads",
                   action=LoadAction,
                   help="modprobe a module of the kernel's own tree before CMD "
                   "(repeatable, in order with --module)")
    g.add_argument("--add", metavar="HOSTPATH[:GUESTPATH]", action="append", default=[],
                   help="copy a file or directory into the guest (repeatable)")
    g.add_argument("--cwd", metavar="DIR", default="/", help="guest working directory")
    g.add_argument("--env", metavar="K=V", action="append", default=[],
                   help="environment variable for CMD (repeatable)")
    g.add_argument("--outdir", metavar="DIR",
                   help="copy what CMD writes under /out ($MLOCKDEV_OUT) back to DIR")
    m = ap.add_argument_group("machine")
    m.add_argument("--timeout", type=float, default=None,
                   help="wall-clock limit for the whole VM in seconds "
                   "(default 600; none in interactive mode)")
    m.add_argument("--mem", type=int, default=2048, metavar="MiB")
    m.add_argument("--smp", type=int, default=2, metavar="N")
    m.add_argument("--accel", choices=("auto", "kvm", "tcg"), default="auto",
                   help="auto (default): kvm when KVM can boot a guest here (probed "
                   "once per host kernel and QEMU version, cached), else tcg")
    m.add_argument("--cpu", help=f"QEMU -cpu model (default: host with KVM, {TCG_CPU} with TCG)")
    m.add_argument("--append", metavar="ARGS", help="extra kernel command line arguments")
    m.add_argument("--pvh", choices=("auto", "on", "off"), default="auto",
                   help="boot the vmlinux inside the bzImage directly (PVH entry); "
                   "auto: for xz-compressed kernels with CONFIG_PVH (stock-6.1)")
    m.add_argument("--loglevel", type=int, default=7, help="console loglevel (default 7)")
    m.add_argument("--kmemleak", choices=("full", "strict", "off"), default="full",
                   help="on kmemleak kernels: final scans, boot objects told apart by "
                   "allocation time (full, default); also scan+clear at boot "
                   "(strict, slower); nothing (off)")
    m.add_argument("--kmemleak-wait", type=float, default=6,
                   help="seconds to let objects age before the final kmemleak scan")
    o = ap.add_argument_group("output")
    o.add_argument("--log-dir", metavar="DIR",
                   help="artifacts (default build/vm-logs/<UTC time>-<kernel>/)")
    o.add_argument("--quiet", action="store_true", help="do not stream CMD's output")
    o.add_argument("--verbose", action="store_true", help="also stream the kernel console")
    o.add_argument("--ignore-log", metavar="REGEX", action="append", default=[],
                   help="console lines to disregard when scanning (repeatable)")
    o.add_argument("--interactive", action="store_true",
                   help="console on this terminal, CMD (default sh) on it; no timeout")
    if "--" in argv:
        i = argv.index("--")
        opts, cmd = argv[:i], argv[i + 1:]
    else:
        opts, cmd = argv, []
    args = ap.parse_args(opts)
    if not cmd and not args.interactive:
        ap.error("no command given (tools/vm/run [options] -- CMD [ARGS...])")
    if args.interactive and not cmd:
        try:
            cmd = [busybox_path(), "sh"]     # ash: line editing, job control
        except SetupError:
            cmd = ["/bin/sh"]
    if args.timeout is None:
        args.timeout = 0 if args.interactive else 600
    if args.kernel and args.kernel_image:
        ap.error("--kernel and --kernel-image are exclusive")
    if args.kernel_image and not args.kdir and not args.modules_root:
        pass  # release is read from the image; modules then come from nowhere
    for kv in args.env:
        if "=" not in kv or kv.startswith("="):
            ap.error(f"--env {kv}: expected K=V")
    if not args.cwd.startswith("/"):
        ap.error("--cwd must be an absolute guest path")
    return args, cmd


def new_log_dir(root, kname):
    base = os.path.join(root, "build", "vm-logs")
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    kname = re.sub(r"[^A-Za-z0-9_.+-]", "_", kname)
    for n in range(1, 1000):
        d = os.path.join(base, f"{stamp}-{kname}" + (f"-{n}" if n > 1 else ""))
        try:
            os.makedirs(d)
            return d
        except FileExistsError:
            continue
    raise SetupError("cannot create a log directory")


# --------------------------------------------------------------------------

def qemu_log(console_path):
    """qemu.log next to console_path, as text ("" when missing)."""
    try:
        with open(os.path.join(os.path.dirname(console_path), "qemu.log"),
                  errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def kvm_boot_failure(accel, status, qrc, data, console_path, args):
    """Why a boot under KVM failed before the kernel printed anything, or
    None: then nothing of the kernel ran, so it is KVM's failure (seen: QEMU
    aborting in kvm_buf_set_msrs(), "KVM internal error" in the
    decompressor), never the test's."""
    if accel != "kvm" or data.exit or status == "interrupted":
        return None
    with open(console_path, encoding="utf-8", errors="replace") as f:
        if accel_mod.kernel_printed(f):
            return None
    rc = qrc if status == "exited" else None      # else QEMU was killed
    return accel_mod.failure_reason(qemu_log(console_path), rc, False,
                                    status == "timeout", args.timeout)


def qemu_error(logdir):
    """The last line QEMU printed (its error message when it failed)."""
    try:
        with open(os.path.join(logdir, "qemu.log"), errors="replace") as f:
            lines = [l.strip() for l in f if l.strip()]
    except OSError:
        return ""
    return lines[-1] if lines else ""


def verdict_for(args, status, qrc, data, console_path, console, elapsed):
    """(exit code, STATUS word, cause, detail lines)."""
    with open(console_path, encoding="utf-8", errors="replace") as f:
        lines = f.readlines()
    taint = data.exit[1] if data.exit else None
    marker = data.exit is not None
    findings = logscan.scan(lines, taint=taint, marker_seen=True, ignore=args.ignore_log)
    log_findings = [f for f in findings if f.lineno]
    if status == "interrupted":
        also = f" (console already had: {log_findings[0].message()})" if log_findings else ""
        return (EXIT_INTERRUPTED, "INTERRUPTED",
                "the runner was interrupted; QEMU killed" + also,
                ["last console lines:"] + console.last_lines())
    if status == "kvm-error":
        why = accel_mod.failure_reason(qemu_log(console_path), None, True, False, 0)
        return (EXIT_SETUP, "SETUP", f"{why}: QEMU stopped the guest, see qemu.log",
                ["last console lines:"] + console.last_lines())
    if log_findings:
        f = log_findings[0]
        extra = ""
        if status == "timeout":
            extra = f" (the guest then hung: no end marker after {args.timeout:g} s)"
        return (EXIT_KERNEL, "KERNEL", f.message() + extra,
                logscan.context(lines, f))
    if status == "timeout":
        return (EXIT_TIMEOUT, "TIMEOUT",
                f"guest hung: no end marker after {args.timeout:g} s",
                ["last console lines:"] + console.last_lines())
    if data.setup_error:
        return (EXIT_SETUP, "SETUP", "guest set-up failed: " + data.setup_error, [])
    if not marker:
        if qrc not in (0, None) and not lines:
            why = qemu_error(os.path.dirname(console_path))
            return (EXIT_SETUP, "SETUP", f"QEMU failed to start (exit {qrc})"
                    + (f": {why}" if why else ", see qemu.log"), [])
        if qrc not in (0, None):
            return (EXIT_SETUP, "SETUP", f"QEMU exited with status {qrc} "
                    "before the end marker, see qemu.log", console.last_lines())
        if args.interactive:
            return (EXIT_INTERRUPTED, "INTERRUPTED",
                    "QEMU quit before the guest finished (Ctrl-A x?)", [])
        f = logscan.scan([], marker_seen=False)[0]
        return (EXIT_KERNEL, "KERNEL", f.message(),
                ["last console lines:"] + console.last_lines())
    for f in findings:
        if f.kind == "bad taint":
            return (EXIT_KERNEL, "KERNEL", f.message(), [])
    rc = data.exit[0]
    if rc == 0:
        return (0, "PASS", "command exited 0", [])
    note = ""
    if rc in (EXIT_KERNEL, EXIT_TIMEOUT, EXIT_SETUP):
        note = " (the command's own status, not a runner verdict)"
    return (rc, "FAIL", f"command exited with status {rc}{note}", [])


def failed_before_init(args, console_path):
    """Did the kernel report its first problem before it started /init?

    Then no module of ours was loaded and no command ran: the finding is
    about the test kernel or the emulator (seen: an int3 oops in
    sched_clock_cpu() while a static key was patched during SMP bring-up,
    under QEMU TCG), not about the code under test.  Without the "Run
    /init" line (console loglevel below 6) nothing can be said: False.
    """
    with open(console_path, encoding="utf-8", errors="replace") as f:
        lines = f.readlines()
    found = [f for f in logscan.scan(lines, marker_seen=True, ignore=args.ignore_log)
             if f.lineno]
    if not found:
        return False
    init = next((i + 1 for i, ln in enumerate(lines)
                 if "Run /init as init process" in ln), None)
    if init is None:
        return args.loglevel >= 6
    return found[0].lineno < init


def keep_attempt(logdir):
    """Move a failed boot's logs to boot-attempt-N/ (the first free N);
    return (that directory, the attempt's verdict)."""
    n = 1
    while os.path.exists(os.path.join(logdir, f"boot-attempt-{n}")):
        n += 1
    kept = os.path.join(logdir, f"boot-attempt-{n}")
    os.makedirs(kept)
    for name in os.listdir(logdir):
        if not name.startswith("boot-attempt-"):
            shutil.move(os.path.join(logdir, name), kept)
    with open(os.path.join(kept, "verdict.txt")) as f:
        verdict = f.read().strip()
    return kept, verdict


def run_json(logdir):
    try:
        with open(os.path.join(logdir, "run.json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def run_with_retries(args, cmd, kinfo, root, logdir):
    """run(), booted again when the boot failed before anything of ours ran:

    - under KVM (--accel auto) before the kernel printed anything: again
      under TCG, and KVM is marked unusable in the cache;
    - once, when the kernel's first problem came before /init.
    """
    mode, notes, init_retried = args.accel, [], False
    code = run(args, cmd, kinfo, root, logdir)
    while True:
        kvm_fail = run_json(logdir).get("kvm_boot_failure")
        if kvm_fail and mode == "auto":
            path = accel_mod.record_failure(kvm_fail)
            kept, _ = keep_attempt(logdir)
            note = (f"the KVM boot failed before the kernel printed anything "
                    f"({kvm_fail}); booted again under TCG, logs in {kept}; "
                    f"KVM is not tried again here (cached in {path})")
            mode = "tcg"
        elif (code == EXIT_KERNEL and not args.interactive and not init_retried and
              failed_before_init(args, os.path.join(logdir, "console.log"))):
            kept, verdict = keep_attempt(logdir)
            note = (f"the first boot failed before /init started ({verdict}); "
                    f"booted once more, logs in {kept}")
            init_retried = True
        else:
            return code
        log("note: " + note)
        notes.append(note)
        code = run(args, cmd, kinfo, root, logdir, notes=notes, accel_mode=mode)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args, cmd = parse_args(argv)
    root = repo_root()
    logdir = None
    try:
        # The log directory exists before anything can fail.
        if args.kernel_image or (not args.kernel and os.environ.get("KERNEL", "").count("/")):
            kname = "custom"
        else:
            kname = args.kernel or os.environ.get("KERNEL") or DEFAULT_KERNEL
        logdir = os.path.abspath(args.log_dir) if args.log_dir else new_log_dir(root, kname)
        os.makedirs(logdir, exist_ok=True)
        kinfo = resolve_kernel(args, root)
        return run_with_retries(args, cmd, kinfo, root, logdir)
    except (SetupError, BuildError, OSError) as e:
        msg = str(e)
        log(f"SETUP {EXIT_SETUP}: {msg}")
        if logdir and os.path.isdir(logdir):
            # The usual artifacts, even though QEMU never ran.
            for name, text in (("console.log", ""), ("output.log", ""),
                               ("qemu-cmdline.txt", f"# QEMU not started: {msg}\n"),
                               ("verdict.txt", f"SETUP {EXIT_SETUP}: {msg}\n")):
                p = os.path.join(logdir, name)
                if name == "verdict.txt" or not os.path.exists(p):
                    with open(p, "w") as f:
                        f.write(text)
            log(f"logs: {logdir}")
        return EXIT_SETUP


def run(args, cmd, kinfo, root, logdir, notes=(), accel_mode=None):
    """Boot once; accel_mode overrides --accel (the retry under TCG)."""
    kname = kinfo.get("MLOCKDEV_KERNEL_NAME") or "custom"
    image = kinfo.get("MLOCKDEV_KERNEL_IMAGE", "")
    if not image or not os.path.isfile(image):
        raise SetupError(f"kernel image '{image}' not found")
    qemu = accel_mod.qemu_binary()
    if not shutil.which(qemu):
        raise SetupError(f"{qemu} not found (install qemu-system-x86: tools/setup)")
    if not os.path.exists(QBOOT):
        raise SetupError(f"{QBOOT} not found (install qemu-system-data: tools/setup)")
    for kind, val, _ in args.loads:
        if kind == "insmod" and not os.path.isfile(val):
            raise SetupError(f"--module {val}: no such file")
    dec = choose_accel(args, kinfo, accel_mode or args.accel)
    if accel_mode == "tcg" and args.accel == "auto":
        dec.reason = "retried under TCG: the KVM boot failed before the kernel printed anything"
    accel = dec.accel
    cfg = kernel_config(kinfo)
    t0 = time.monotonic()
    cache = os.path.join(root, "build", "vm-cache")
    km_names = [v for k, v, _ in args.loads if k == "modprobe"]
    base, manifest, modnames = build_base(kinfo, cache, km_names)
    run_id = secrets.token_hex(6)
    tree = initramfs.Tree(base=manifest)
    extra_env = dict(kv.split("=", 1) for kv in args.env)
    guest_argv = build_run(tree, args, cmd, kinfo, run_id, extra_env)
    tmpd = tempfile.mkdtemp(prefix="mlockdev-vm.")
    try:
        initrd = os.path.join(tmpd, "initrd")
        with open(initrd, "wb") as out:
            with open(base, "rb") as b:
                shutil.copyfileobj(b, out)
            # Per-run part: small, but may hold large binaries; gzip -1 keeps
            # the guest's copy small at little cost.
            compress = cfg.get("CONFIG_RD_GZIP", "y") == "y"
            tree.write(out, compress=compress)
        prep = time.monotonic() - t0
        cmdline = kernel_cmdline(args, cfg, accel)
        if args.interactive:
            socks = [None, os.path.join(tmpd, "data.raw"), os.path.join(tmpd, "out.raw")]
        else:
            socks = [os.path.join(tmpd, n) for n in ("con.sock", "data.sock", "out.sock")]
        kernel = pvh_image(kinfo, cfg, cache, args.pvh)
        qcmd = qemu_command(args, kernel, initrd, cmdline, socks, logdir, accel)
        with open(os.path.join(logdir, "qemu-cmdline.txt"), "w") as f:
            f.write(" ".join(shlex.quote(a) for a in qcmd) + "\n")
        with open(os.path.join(logdir, "command.txt"), "w") as f:
            f.write(" ".join(shlex.quote(a) for a in guest_argv) + "\n")
        out_f = open(os.path.join(logdir, "output.log"), "wb")
        stream = not args.quiet and not args.interactive

        def sink(b):
            out_f.write(b)
            out_f.flush()
            if stream:
                sys.stdout.buffer.write(b)
                sys.stdout.buffer.flush()

        data = DataStream(run_id, sink)
        console = ConsoleStream(os.path.join(logdir, "console.log"),
                                args.verbose and not args.interactive)
        out_raw = open(os.path.join(tmpd, "out.raw") if not args.interactive
                       else os.devnull, "wb")
        if not args.quiet:
            log(f"{kname} ({kinfo.get('MLOCKDEV_KERNEL_RELEASE')}), {accel}, "
                f"{args.smp} CPUs, {args.mem} MiB; image ready in {prep:.1f} s")
        if args.interactive:
            log("interactive: exit the shell to power off, or Ctrl-A x to kill QEMU")
            status, qrc, elapsed = run_qemu_interactive(qcmd, socks, logdir, args,
                                                        data, console, out_raw)
        else:
            status, qrc, elapsed = run_qemu_batch(qcmd, socks, logdir, args,
                                                  data, console, out_raw,
                                                  watch_kvm=accel == "kvm")
        data.close()
        console.close()
        out_f.close()
        out_raw.close()
        notes = list(notes)
        if args.outdir and data.exit:
            err = extract_outdir(os.path.join(tmpd, "out.raw"), run_id, args.outdir)
            if err:
                notes.append(err)
        if status == "stuck-after-exit":
            notes.append("QEMU did not exit within 60 s of the end marker; killed")
        code, word, cause, detail = verdict_for(args, status, qrc, data,
                                                os.path.join(logdir, "console.log"),
                                                console, elapsed)
        if code == 0 and args.outdir and notes:
            # The command passed but its results did not come back.
            code, word, cause = EXIT_SETUP, "SETUP", f"--outdir: {notes[0]}"
        kvm_fail = kvm_boot_failure(accel, status, qrc, data,
                                    os.path.join(logdir, "console.log"), args)
        if kvm_fail:
            todo = ("booting again under TCG" if (accel_mode or args.accel) == "auto"
                    else "use --accel tcg or --accel auto (make ... ACCEL=tcg "
                    "or ACCEL=auto)")
            code, word, cause, detail = (EXIT_SETUP, "SETUP", f"KVM could not boot "
                                         f"the guest ({kvm_fail}): {todo}", [])
        boot = None
        if data.start_uptime is not None:
            boot = data.start_uptime
        timing = {"prepare_s": round(prep, 2), "vm_wall_s": round(elapsed, 2),
                  "guest_uptime_at_command_s": boot}
        if data.start_time and data.exit_time:
            timing["command_wall_s"] = round(data.exit_time - data.start_time, 2)
        timing.update(getattr(args, "events", {}))
        line = f"{word} {code}: {cause}"
        with open(os.path.join(logdir, "verdict.txt"), "w") as f:
            f.write(line + "\n")
        with open(os.path.join(logdir, "run.json"), "w") as f:
            json.dump({"exit": code, "status": word, "cause": cause,
                       "kernel": {k: v for k, v in kinfo.items()},
                       "command": guest_argv, "accel": accel,
                       "accel_reason": dec.reason, "accel_cache": dec.cache,
                       "kvm_boot_failure": kvm_fail,
                       "taint": data.exit[1] if data.exit else None,
                       "command_rc": data.exit[0] if data.exit else None,
                       "timing": timing, "notes": notes}, f, indent=1)
        for n in notes:
            log(f"note: {n}")
        for d in detail:
            print(f"  | {d}", file=sys.stderr)
        t = f"boot {boot:.1f} s, " if boot is not None else ""
        log(f"{line} [{t}VM {elapsed:.1f} s]")
        log(f"logs: {logdir}")
        return code
    finally:
        shutil.rmtree(tmpd, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
