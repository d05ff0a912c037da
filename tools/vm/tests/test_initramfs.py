#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Unit tests of the runner's host-side pieces that need no VM.

cpio output (checked with the cpio tool when installed), guest path
resolution, the serial data stream parser and option parsing.
"""

import io
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import initramfs  # noqa: E402
import runner     # noqa: E402


class TreeTest(unittest.TestCase):

    def test_canon_follows_parent_symlinks(self):
        t = initramfs.Tree()
        t.add_dir("/usr/lib")
        t.add_symlink("/lib", "usr/lib")
        t.add_symlink("/usr/lib/x", "/opt/y")
        self.assertEqual(t.canon("/lib/libc.so.6"), "/usr/lib/libc.so.6")
        self.assertEqual(t.canon("/lib/x/z"), "/opt/y/z")
        self.assertEqual(t.canon("/lib"), "/lib")      # last component kept

    def test_base_manifest_is_used_not_written(self):
        base = initramfs.Tree()
        base.add_symlink("/lib", "usr/lib")
        base.add_bytes("/usr/lib/a", b"a")
        run = initramfs.Tree(base=base.manifest())
        run.add_bytes("/lib/b", b"b")
        self.assertIn("/usr/lib/b", run.entries)
        self.assertNotIn("/lib", run.entries)          # symlink not re-emitted
        self.assertNotIn("/usr/lib", run.entries)      # parent exists in base
        self.assertTrue(run.exists("/lib/a"))

    def test_file_over_directory_is_refused(self):
        t = initramfs.Tree()
        t.add_dir("/a/b")
        with self.assertRaises(initramfs.BuildError):
            t.add_bytes("/a/b", b"x")

    def test_copy_host_reproduces_symlinks(self):
        with tempfile.TemporaryDirectory() as d:
            os.makedirs(os.path.join(d, "real"))
            with open(os.path.join(d, "real", "f"), "w") as f:
                f.write("x")
            os.symlink("real", os.path.join(d, "link"))
            t = initramfs.Tree()
            got = t.copy_host(os.path.join(d, "link", "f"))
            self.assertEqual(got, os.path.join(d, "real", "f"))
            self.assertEqual(t.get(os.path.join(d, "link")), ("l", "real"))
            self.assertEqual(t.get(got)[0], "f")


@unittest.skipUnless(shutil.which("cpio"), "cpio not installed")
class CpioTest(unittest.TestCase):

    def test_archive_lists_and_extracts(self):
        t = initramfs.Tree()
        t.add_bytes("/etc/hello", b"hello\n", 0o640)
        t.add_symlink("/etc/link", "hello")
        t.add_chardev("/dev/console", 5, 1)
        for compress in (False, True):
            with self.subTest(compress=compress):
                buf = io.BytesIO()
                t.write(buf, compress=compress)
                data = buf.getvalue()
                if compress:
                    data = zlib.decompress(data, 31)
                self.assertEqual(len(data) % 512, 0)
                p = subprocess.run(["cpio", "-itv"], input=data, capture_output=True)
                out = p.stdout.decode()
                self.assertIn("etc/hello", out)
                self.assertIn("etc/link -> hello", out)
                self.assertIn("dev/console", out)
                with tempfile.TemporaryDirectory() as d:
                    subprocess.run(["cpio", "-id", "--quiet"], input=data, cwd=d,
                                   check=True, capture_output=True)
                    with open(os.path.join(d, "etc/hello"), "rb") as f:
                        self.assertEqual(f.read(), b"hello\n")
                    self.assertEqual(os.stat(os.path.join(d, "etc/hello")).st_mode & 0o777,
                                     0o640)


class DataStreamTest(unittest.TestCase):

    def feed(self, chunks, run_id="abc123"):
        out = bytearray()
        ds = runner.DataStream(run_id, out.extend)
        for c in chunks:
            ds.feed(c)
        ds.close()
        return bytes(out), ds

    def test_markers_are_cut_out(self):
        out, ds = self.feed([b"\nMLOCKDEV-VM-START id=abc123 uptime=5.10\n",
                             b"hello\nworld\n",
                             b"\nMLOCKDEV-VM-EXIT rc=3 taint=12288 id=abc123\n"])
        self.assertEqual(out, b"hello\nworld\n")
        self.assertEqual(ds.exit, (3, 12288))
        self.assertEqual(ds.start_uptime, 5.10)

    def test_split_anywhere(self):
        stream = (b"\nMLOCKDEV-VM-START id=abc123 uptime=1\nno newline at end"
                  b"\nMLOCKDEV-VM-EXIT rc=0 taint=0 id=abc123\n")
        for cut in range(1, len(stream)):
            out, ds = self.feed([stream[:cut], stream[cut:]])
            self.assertEqual(out, b"no newline at end", cut)
            self.assertEqual(ds.exit, (0, 0), cut)

    def test_foreign_marker_is_output(self):
        fake = b"\nMLOCKDEV-VM-EXIT rc=0 taint=0 id=other\n"
        out, ds = self.feed([b"x", fake])
        self.assertIsNone(ds.exit)
        self.assertEqual(out, b"x" + fake)

    def test_setup_error(self):
        out, ds = self.feed([b"\nMLOCKDEV-VM-SETUP-ERROR id=abc123 insmod x failed: bad\n"])
        self.assertEqual(ds.setup_error, "insmod x failed: bad")
        self.assertEqual(out, b"")


class OptionsTest(unittest.TestCase):

    def test_module_params_and_order(self):
        args, cmd = runner.parse_args(["--modprobe", "kunit", "--module",
                                       "/x/m.ko a=1 b=2", "--", "echo", "a b"])
        self.assertEqual(args.loads, [("modprobe", "kunit", ""),
                                      ("insmod", "/x/m.ko", "a=1 b=2")])
        self.assertEqual(cmd, ["echo", "a b"])
        self.assertEqual(args.timeout, 600)

    def test_command_required(self):
        with self.assertRaises(SystemExit):
            runner.parse_args(["--quiet"])

    def test_interactive_defaults(self):
        args, cmd = runner.parse_args(["--interactive"])
        self.assertEqual(args.timeout, 0)
        self.assertTrue(cmd)

    def test_image_release(self):
        self.assertIsNone(runner.image_release(__file__))


if __name__ == "__main__":
    unittest.main()
