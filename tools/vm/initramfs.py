# SPDX-License-Identifier: GPL-2.0
"""Build the guest's initramfs: cpio "newc" archives written from Python.

The guest root is described by a Tree (guest path -> entry).  Two trees are
written per run:

  * the *base* archive, cached per kernel and module set: busybox, kmod and
    its libraries, a subset of the kernel's modules with their modules.dep,
    /init and /etc;
  * the *run* archive: the command and its library closure, --add files,
    --module files and the run's configuration.

The kernel unpacks concatenated archives in order into the same rootfs, so
the run archive is appended to the base one.  A regular file in the run
archive replaces a busybox symlink of the same name (init/initramfs.c
clean_path() unlinks an entry of a different type with AT_SYMLINK_NOFOLLOW).
Paths are always canonicalised through the symlinks the tree already has
(e.g. /lib -> usr/lib on a merged-/usr host), so a later archive never
replaces a symlinked directory by a real one.
"""

import errno
import hashlib
import json
import os
import posixpath
import re
import shutil
import stat
import subprocess
import tempfile
import zlib


class BuildError(Exception):
    """A problem with the inputs: missing file, library or module."""


# --------------------------------------------------------------------------
# cpio newc writer

class CpioWriter:
    """Write a newc archive (the format the kernel's initramfs code reads)."""

    def __init__(self, fileobj, compress=True):
        self.f = fileobj
        self.z = zlib.compressobj(1, zlib.DEFLATED, 31) if compress else None
        self.ino = 1000
        self.nbytes = 0

    def _out(self, data):
        if self.z:
            data = self.z.compress(data)
        self.f.write(data)

    def _raw(self, data):
        self.nbytes += len(data)
        self._out(data)

    def _pad(self):
        if self.nbytes % 4:
            self._raw(b"\0" * (4 - self.nbytes % 4))

    def entry(self, name, mode, data=b"", mtime=0, rdev=(0, 0), size=None,
              chunks=None):
        name_b = name.encode() + b"\0"
        if size is None:
            size = len(data)
        self.ino += 1
        fields = [self.ino, mode, 0, 0, 1, int(mtime), size, 0, 0,
                  rdev[0], rdev[1], len(name_b), 0]
        hdr = b"070701" + b"".join(b"%08X" % v for v in fields)
        self._raw(hdr + name_b)
        self._pad()
        if chunks is not None:
            n = 0
            for c in chunks:
                n += len(c)
                self._raw(c)
            if n != size:
                raise BuildError(f"{name}: file changed while archiving")
        else:
            self._raw(data)
        self._pad()

    def close(self):
        self.entry("TRAILER!!!", 0)
        # Keep the next (appended) archive 512-byte aligned.
        if self.nbytes % 512:
            self._raw(b"\0" * (512 - self.nbytes % 512))
        if self.z:
            self.f.write(self.z.flush())


def _file_chunks(path, size=1 << 20):
    with open(path, "rb") as f:
        while True:
            b = f.read(size)
            if not b:
                return
            yield b


# --------------------------------------------------------------------------
# Guest tree

def is_elf(path):
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


def shebang(path):
    """The interpreter argv of a '#!' script, or None."""
    try:
        with open(path, "rb") as f:
            first = f.readline(256)
    except OSError:
        return None
    if not first.startswith(b"#!"):
        return None
    words = first[2:].decode(errors="replace").split()
    return words or None


class Tree:
    """A guest filesystem: canonical guest path -> entry tuple.

    Entries: ("d", mode), ("f", hostpath, mode), ("b", bytes, mode),
    ("l", target), ("c", major, minor, mode).  `base` is the manifest of an
    archive that is unpacked before this one: it is consulted for path
    resolution and existence but never written again.
    """

    def __init__(self, base=None):
        self.base = base or {}
        self.entries = {}
        self.elves = []          # host paths of ELF files added (for ldd)

    # -- lookup -----------------------------------------------------------
    def get(self, path):
        e = self.entries.get(path)
        if e is None:
            e = self.base.get(path)
            if e is not None:
                e = tuple(e)
        return e

    def canon(self, path):
        """Resolve symlinks in the parent components of a guest path."""
        parts = [p for p in posixpath.normpath("/" + path).split("/") if p]
        hops = 0
        cur = ""
        i = 0
        while i < len(parts) - 1:
            nxt = cur + "/" + parts[i]
            e = self.get(nxt)
            if e and e[0] == "l":
                hops += 1
                if hops > 40:
                    raise BuildError(f"{path}: too many symlink levels in guest")
                t = e[1] if e[1].startswith("/") else cur + "/" + e[1]
                rest = parts[i + 1:]
                parts = [p for p in posixpath.normpath("/" + t).split("/") if p] + rest
                cur, i = "", 0
                continue
            cur = nxt
            i += 1
        return cur + "/" + parts[-1] if parts else "/"

    def exists(self, path):
        """Does the guest path exist (following symlinks, like stat)?"""
        for _ in range(40):
            c = self.canon(path)
            e = self.get(c)
            if e is None:
                return False
            if e[0] != "l":
                return True
            t = e[1]
            path = t if t.startswith("/") else posixpath.dirname(c) + "/" + t
        return False

    # -- adding -----------------------------------------------------------
    def mkdirs(self, path, mode=0o755):
        c = self.canon(path)
        if c == "/":
            return c
        parent = posixpath.dirname(c)
        self.mkdirs(parent)
        c = self.canon(c)     # parent may have been a symlink after all
        e = self.get(c)
        if e is None:
            self.entries[c] = ("d", mode)
        elif e[0] == "l":
            return self.mkdirs(self.canon(posixpath.join(posixpath.dirname(c), e[1])))
        elif e[0] != "d":
            raise BuildError(f"guest path {c} is a file, cannot be a directory")
        return c

    def _put(self, path, entry):
        c = self.canon(path)
        self.mkdirs(posixpath.dirname(c))
        c = self.canon(path)
        old = self.get(c)
        if old is not None and old[0] == "d" and entry[0] != "d":
            raise BuildError(f"guest path {c} is a directory")
        if old is not None and old[0] == "d" and entry[0] == "d":
            return c
        self.entries[c] = entry
        return c

    def add_bytes(self, path, data, mode=0o644):
        if isinstance(data, str):
            data = data.encode()
        return self._put(path, ("b", data, mode))

    def add_symlink(self, path, target):
        old = self.get(self.canon(path))
        if old is not None and old[0] == "l" and old[1] == target:
            return
        self._put(path, ("l", target))

    def add_dir(self, path, mode=0o755):
        return self.mkdirs(path, mode)

    def add_chardev(self, path, major, minor, mode=0o600):
        self._put(path, ("c", major, minor, mode))

    def add_file(self, path, host, mode=None):
        st = os.stat(host)
        if not stat.S_ISREG(st.st_mode):
            raise BuildError(f"{host}: not a regular file")
        if mode is None:
            mode = stat.S_IMODE(st.st_mode)
        c = self.canon(path)
        old = self.base.get(c)
        if old and old[0] == "f" and len(old) > 1 and old[1] == host \
                and c not in self.entries:
            return c                     # the base archive has this very file
        c = self._put(path, ("f", host, mode))
        if is_elf(host):
            self.elves.append(host)
        return c

    def copy_host(self, host, recursive=True):
        """Copy a host path to the same guest path, symlinks and all.

        Every symlink met on the way (e.g. /lib -> usr/lib, or
        /usr/sbin/modprobe -> /bin/kmod) is reproduced in the guest, so the
        guest sees the same absolute paths as the host.
        """
        host = posixpath.normpath(os.path.abspath(host))
        parts = [p for p in host.split("/") if p]
        cur = ""
        for i, comp in enumerate(parts):
            nxt = cur + "/" + comp
            try:
                st = os.lstat(nxt)
            except OSError as e:
                raise BuildError(f"{host}: {e.strerror}") from None
            if stat.S_ISLNK(st.st_mode):
                target = os.readlink(nxt)
                self.add_symlink(nxt, target)
                t = target if target.startswith("/") else cur + "/" + target
                rest = "/".join(parts[i + 1:])
                return self.copy_host(posixpath.normpath(t + ("/" + rest if rest else "")),
                                      recursive)
            if i == len(parts) - 1:
                if stat.S_ISDIR(st.st_mode):
                    self._copy_tree(nxt, nxt, recursive)
                else:
                    self.add_file(nxt, nxt)
                return nxt
            self.mkdirs(nxt)
            cur = nxt
        return "/"

    def _copy_tree(self, host, guest, recursive=True):
        self.add_dir(guest, stat.S_IMODE(os.stat(host).st_mode))
        if not recursive:
            return
        for name in sorted(os.listdir(host)):
            h = os.path.join(host, name)
            g = guest.rstrip("/") + "/" + name
            st = os.lstat(h)
            if stat.S_ISLNK(st.st_mode):
                self.add_symlink(g, os.readlink(h))
            elif stat.S_ISDIR(st.st_mode):
                self._copy_tree(h, g)
            elif stat.S_ISREG(st.st_mode):
                self.add_file(g, h)
            # sockets, fifos and devices are skipped

    def add_host_as(self, host, guest):
        """Copy host path (followed) to an arbitrary guest path."""
        if not os.path.exists(host):
            raise BuildError(f"{host}: no such file or directory")
        if os.path.isdir(host):
            self._copy_tree(os.path.realpath(host), guest)
        else:
            self.add_file(guest, os.path.realpath(host))

    # -- output -----------------------------------------------------------
    def manifest(self):
        m = dict(self.base)
        for p, e in self.entries.items():
            if e[0] == "f":
                m[p] = ["f", e[1]]       # host source, to skip re-adding it
            elif e[0] == "b":
                m[p] = ["b"]
            else:
                m[p] = list(e)
        return m

    def write(self, fileobj, compress=True):
        w = CpioWriter(fileobj, compress)
        for path in sorted(self.entries, key=lambda p: p.split("/")):
            e = self.entries[path]
            name = path.lstrip("/")
            if e[0] == "d":
                w.entry(name, stat.S_IFDIR | e[1])
            elif e[0] == "l":
                w.entry(name, stat.S_IFLNK | 0o777, e[1].encode())
            elif e[0] == "b":
                w.entry(name, stat.S_IFREG | e[2], e[1])
            elif e[0] == "c":
                w.entry(name, stat.S_IFCHR | e[3], rdev=(e[1], e[2]))
            elif e[0] == "f":
                st = os.stat(e[1])
                w.entry(name, stat.S_IFREG | e[2], mtime=st.st_mtime,
                        size=st.st_size, chunks=_file_chunks(e[1]))
        w.close()
        return w.nbytes


# --------------------------------------------------------------------------
# Shared-library closure

_ldd_cache = {}


def system_lib_dirs():
    """The dynamic loader's built-in search path (no ld.so.cache in guest)."""
    dirs = []
    for ld in ("/lib64/ld-linux-x86-64.so.2",):
        try:
            out = subprocess.run([ld, "--help"], capture_output=True,
                                 text=True, timeout=20).stdout
        except (OSError, subprocess.SubprocessError):
            continue
        for line in out.splitlines():
            m = re.match(r"\s+(/\S+) \(system search path\)", line)
            if m:
                dirs.append(m.group(1).rstrip("/"))
    return dirs or ["/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu",
                    "/lib", "/usr/lib"]


def ldd(path):
    """Host paths of the shared libraries (and loader) an ELF file needs."""
    path = os.path.realpath(path)
    if path in _ldd_cache:
        return _ldd_cache[path]
    try:
        p = subprocess.run(["ldd", path], capture_output=True, text=True,
                           timeout=60, env=dict(os.environ, LC_ALL="C"))
    except (OSError, subprocess.SubprocessError) as e:
        raise BuildError(f"ldd {path}: {e}") from None
    libs = []
    missing = []
    for line in p.stdout.splitlines():
        line = line.strip()
        m = re.match(r"(\S+) => (.*?)(?: \(0x[0-9a-f]+\))?$", line)
        if m:
            if m.group(2) == "not found":
                missing.append(m.group(1))
            elif m.group(2).startswith("/"):
                libs.append(m.group(2))
            continue
        m = re.match(r"(/\S+) \(0x[0-9a-f]+\)$", line)
        if m:
            libs.append(m.group(1))
    if missing:
        raise BuildError(f"{path}: shared libraries not found on the host: "
                         + ", ".join(missing))
    _ldd_cache[path] = libs
    return libs


def add_closures(tree):
    """Add the library closure of every ELF file added to the tree so far.

    Returns the set of library directories outside the loader's default
    search path (the guest has no ld.so.cache; the caller puts those on
    LD_LIBRARY_PATH).
    """
    sysdirs = set(system_lib_dirs())
    extra = set()
    done = set()
    while tree.elves:
        host = tree.elves.pop()
        if host in done:
            continue
        done.add(host)
        for lib in ldd(host):
            d = posixpath.dirname(lib)
            loader = re.match(r"ld-linux.*\.so|ld64\.so", posixpath.basename(lib))
            m = re.match(r"(.*)/glibc-hwcaps/[^/]+$", d)
            if m:
                # The guest CPU may not have this ISA level: add the
                # baseline variant too when the host has one.
                base = m.group(1) + "/" + posixpath.basename(lib)
                if os.path.exists(base) and not tree.exists(base):
                    tree.copy_host(base)
                d = m.group(1)
            if not loader and d not in sysdirs and os.path.realpath(d) not in sysdirs:
                extra.add(d)
            if not tree.exists(lib):
                tree.copy_host(lib)
            else:
                done.add(os.path.realpath(lib))
    return extra


# --------------------------------------------------------------------------
# Kernel modules

def _modname(filename):
    n = posixpath.basename(filename)
    n = re.sub(r"\.ko(\.(xz|gz|zst))?$", "", n)
    return n.replace("-", "_")


class KernelModules:
    """The modules of one kernel, installed (MODULES_ROOT) or in a KDIR."""

    def __init__(self, release, modules_root=None, kdir=None):
        self.release = release
        self.dir = None
        self.files = {}          # name -> (host path, path under lib/modules/REL)
        self.builtin = set()
        self.extra_files = {}    # file name -> host path (modules.order etc)
        if modules_root:
            d = os.path.join(modules_root, "lib/modules", release)
            if os.path.isdir(d):
                self.dir = d
        if self.dir:
            for root, dirs, names in os.walk(self.dir):
                dirs.sort()
                for n in sorted(names):
                    if re.search(r"\.ko(\.(xz|gz|zst))?$", n):
                        h = os.path.join(root, n)
                        self.files.setdefault(_modname(n), (h, os.path.relpath(h, self.dir)))
            for n in ("modules.order", "modules.builtin", "modules.builtin.modinfo"):
                p = os.path.join(self.dir, n)
                if os.path.exists(p):
                    self.extra_files[n] = p
        elif kdir and os.path.exists(os.path.join(kdir, "modules.order")):
            with open(os.path.join(kdir, "modules.order")) as f:
                for line in f:
                    rel = line.strip()
                    if not rel:
                        continue
                    rel = re.sub(r"\.(o|ko)$", "", rel) + ".ko"
                    rel = re.sub(r"^kernel/", "", rel)
                    h = os.path.join(kdir, rel)
                    if os.path.exists(h):
                        self.files.setdefault(_modname(rel), (h, "kernel/" + rel))
            for n in ("modules.builtin", "modules.builtin.modinfo"):
                p = os.path.join(kdir, n)
                if os.path.exists(p):
                    self.extra_files[n] = p
        bi = self.extra_files.get("modules.builtin")
        if bi:
            with open(bi) as f:
                self.builtin = {_modname(l.strip()) for l in f if l.strip()}

    def has(self, name):
        n = name.replace("-", "_")
        return n in self.files or n in self.builtin

    def _info(self, path, field):
        try:
            p = subprocess.run(["modinfo", "-F", field, path], capture_output=True,
                               text=True, timeout=60)
        except (OSError, subprocess.SubprocessError) as e:
            raise BuildError(f"modinfo {path}: {e}") from None
        if p.returncode:
            raise BuildError(f"modinfo {path}: {p.stderr.strip()}")
        return p.stdout

    def closure(self, names, optional=()):
        """Module names needed to modprobe `names` (deps and softdeps).

        Missing `names` raise BuildError; missing `optional` ones are
        skipped.  Built-in modules need no file and are left out.
        """
        out = []
        seen = set()

        def visit(n, required):
            n = n.replace("-", "_")
            if n in seen:
                return
            seen.add(n)
            if n not in self.files:
                if n in self.builtin:
                    return
                if required:
                    raise BuildError(
                        f"module '{n}' does not exist for kernel {self.release}"
                        + ("" if self.files else
                           " (no module tree: MODULES_ROOT is empty and KDIR has no modules.order)"))
                return
            path = self.files[n][0]
            deps = self._info(path, "depends").strip()
            for d in filter(None, deps.split(",")):
                visit(d, True)
            for line in self._info(path, "softdep").splitlines():
                for w in line.split():
                    if not w.endswith(":"):
                        visit(w, False)
            out.append(n)

        for n in names:
            visit(n, True)
        for n in optional:
            visit(n, False)
        return out

    def add_to(self, tree, names):
        """Put modules `names` and a matching depmod index into the tree."""
        guest_dir = f"/lib/modules/{self.release}"
        with tempfile.TemporaryDirectory(prefix="mlockdev-vm-depmod.") as tmp:
            d = os.path.join(tmp, "lib/modules", self.release)
            os.makedirs(d)
            for n, p in self.extra_files.items():
                shutil.copy(p, os.path.join(d, n))
            if "modules.order" not in self.extra_files:
                with open(os.path.join(d, "modules.order"), "w") as f:
                    for n in names:
                        f.write(re.sub(r"\.ko(\..*)?$", ".ko", self.files[n][1]) + "\n")
            for n in names:
                host, rel = self.files[n]
                dst = os.path.join(d, rel)
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                shutil.copy(host, dst)
            p = subprocess.run(["depmod", "-b", tmp, self.release],
                               capture_output=True, text=True, timeout=120)
            if p.returncode:
                raise BuildError(f"depmod failed: {p.stderr.strip()}")
            tree.add_dir(guest_dir)
            for root, dirs, files in os.walk(d):
                dirs.sort()
                for fn in sorted(files):
                    h = os.path.join(root, fn)
                    rel = os.path.relpath(h, d)
                    # Read now: the temporary directory goes away.
                    with open(h, "rb") as f:
                        tree.add_bytes(guest_dir + "/" + rel, f.read())


# --------------------------------------------------------------------------
# Helpers for callers

def digest(*items):
    h = hashlib.sha256()
    for it in items:
        h.update(json.dumps(it, sort_keys=True, default=str).encode())
        h.update(b"\0")
    return h.hexdigest()[:16]


def file_fingerprint(path):
    try:
        st = os.stat(path)
    except OSError as e:
        if e.errno == errno.ENOENT:
            return None
        raise
    return [os.path.realpath(path), st.st_size, int(st.st_mtime)]
