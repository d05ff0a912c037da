# SPDX-License-Identifier: GPL-2.0
"""Unit tests of the KVM-or-TCG decision (tools/vm/accel.py) and of the
runner's retry under TCG, driven by tests/fake-qemu and a fake /dev/kvm
(a regular file: the decision only opens it).  No VM is booted."""

import json
import os
import shutil
import sys
import tempfile
import time
import types
import unittest
from unittest import mock

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import accel  # noqa: E402
import runner  # noqa: E402

FAKE_QEMU = os.path.join(HERE, "fake-qemu")
ASSERTION = ("qemu-system-x86_64: ../../target/i386/kvm/kvm.c:3183: kvm_buf_set_msrs: "
             "Assertion `ret == cpu->kvm_msr_buf->nmsrs' failed.\n")


class FakeMachine(unittest.TestCase):
    """A temporary cache, fake QEMU and fake KVM device for every test."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="test_accel.")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.dev = os.path.join(self.tmp, "kvm")
        with open(self.dev, "w"):
            pass
        self.qlog = os.path.join(self.tmp, "qemu-calls")
        env = {"XDG_CACHE_HOME": os.path.join(self.tmp, "cache"),
               "MLOCKDEV_QEMU": FAKE_QEMU, "MLOCKDEV_KVM_DEVICE": self.dev,
               "FAKE_QEMU_LOG": self.qlog, "FAKE_QEMU_MODE": "abort",
               "FAKE_QEMU_VERSION": "7.2.22 (fake)"}
        patcher = mock.patch.dict(os.environ, env)
        patcher.start()
        self.addCleanup(patcher.stop)

    def probes(self):
        """How many times the fake QEMU was asked to boot under KVM."""
        try:
            with open(self.qlog) as f:
                return sum(1 for ln in f if "-accel kvm" in ln)
        except FileNotFoundError:
            return 0

    def decide(self, mode="auto"):
        return accel.decide(mode, ["-kernel", "/nonexistent/bzImage"], timeout=20)


class Decide(FakeMachine):
    def test_no_kvm_device_is_tcg_with_the_reason(self):
        os.environ["MLOCKDEV_KVM_DEVICE"] = os.path.join(self.tmp, "no-such-kvm")
        d = self.decide()
        self.assertEqual("tcg", d.accel)
        self.assertIn("No such file or directory", d.reason)
        self.assertIn("using TCG", d.line)
        self.assertEqual(0, self.probes())
        self.assertFalse(os.path.exists(accel.cache_dir()))

    def test_qemu_abort_is_tcg_with_the_reason_and_cached(self):
        d = self.decide()
        self.assertEqual("tcg", d.accel)
        self.assertEqual("qemu aborted: kvm_buf_set_msrs assertion", d.reason)
        self.assertEqual(1, self.probes())
        self.assertTrue(d.cache.startswith(accel.cache_dir()))
        self.assertIn(f"cached in {d.cache}", d.line)
        self.assertIn("ACCEL=kvm to force", d.line)
        with open(d.cache) as f:
            saved = json.load(f)
        self.assertIs(False, saved["kvm"])
        self.assertEqual(d.reason, saved["reason"])
        self.assertEqual(os.uname().release, saved["host_release"])
        self.assertIn("7.2.22 (fake)", saved["qemu_version"])

    def test_kvm_internal_error_is_tcg_without_waiting_for_the_timeout(self):
        os.environ["FAKE_QEMU_MODE"] = "internal"
        t0 = time.monotonic()
        d = self.decide()
        self.assertLess(time.monotonic() - t0, 10)
        self.assertEqual("tcg", d.accel)
        self.assertEqual("KVM internal error, suberror 1 (emulation failure)", d.reason)

    def test_a_kvm_that_boots_is_used_and_cached(self):
        os.environ["FAKE_QEMU_MODE"] = "boots"
        d = self.decide()
        self.assertEqual("kvm", d.accel)
        self.assertIn("using KVM", d.line)
        again = self.decide()
        self.assertEqual("kvm", again.accel)
        self.assertIsNone(again.line)       # nothing to say once known
        self.assertEqual(1, self.probes())

    def test_cache_hit_skips_the_probe(self):
        first = self.decide()
        os.environ["FAKE_QEMU_MODE"] = "boots"   # would say yes if asked
        second = self.decide()
        self.assertEqual(1, self.probes())
        self.assertEqual(("tcg", first.reason, first.cache),
                         (second.accel, second.reason, second.cache))
        self.assertIn("cached in", second.line)

    def test_a_new_qemu_version_probes_again(self):
        first = self.decide()
        os.environ["FAKE_QEMU_VERSION"] = "8.2.2 (fake)"
        os.environ["FAKE_QEMU_MODE"] = "boots"
        second = self.decide()
        self.assertEqual(2, self.probes())
        self.assertEqual("kvm", second.accel)
        self.assertNotEqual(first.cache, second.cache)

    def test_a_new_host_kernel_probes_again(self):
        first = self.decide()
        os.environ["FAKE_QEMU_MODE"] = "boots"
        with mock.patch.object(accel, "host_release", return_value="6.99.0-other"):
            second = self.decide()
        self.assertEqual(2, self.probes())
        self.assertEqual("kvm", second.accel)
        self.assertIn("6.99.0-other", os.path.basename(second.cache))
        self.assertNotEqual(first.cache, second.cache)

    def test_forced_kvm_without_a_device_says_what_to_do(self):
        os.environ["MLOCKDEV_KVM_DEVICE"] = os.path.join(self.tmp, "no-such-kvm")
        with self.assertRaises(accel.AccelError) as cm:
            self.decide("kvm")
        msg = str(cm.exception)
        self.assertIn("no-such-kvm: No such file or directory", msg)
        self.assertIn("--accel tcg", msg)
        self.assertIn("ACCEL=tcg", msg)

    def test_forced_kvm_ignores_the_cache(self):
        self.decide()                        # cached: no
        self.assertEqual("kvm", self.decide("kvm").accel)
        self.assertEqual(1, self.probes())

    def test_tcg_asks_nothing(self):
        d = self.decide("tcg")
        self.assertEqual(("tcg", None), (d.accel, d.line))
        self.assertEqual(0, self.probes())


class Reasons(unittest.TestCase):
    def test_reasons(self):
        r = accel.failure_reason
        self.assertEqual("qemu aborted: kvm_buf_set_msrs assertion", r(ASSERTION, -6, False, False, 5))
        self.assertEqual("qemu killed by SIGSEGV", r("", -11, False, False, 5))
        self.assertEqual("qemu exited 1: failed to initialize kvm: Invalid argument",
                         r("x\nfailed to initialize kvm: Invalid argument\n", 1, False, False, 5))
        self.assertEqual("no kernel output within 5 s", r("", None, False, True, 5))
        self.assertIn("did not finish booting", r("", None, True, True, 5))

    def test_kernel_printed(self):
        self.assertFalse(accel.kernel_printed([]))
        self.assertFalse(accel.kernel_printed(["SeaBIOS\n", "\n"]))
        self.assertTrue(accel.kernel_printed(["[    0.000000] Linux version 6.12.0\n"]))
        self.assertTrue(accel.kernel_printed(["[    0.123456] x86/cpu: foo\n"]))


def run_args(logdir, mode="auto"):
    return runner.parse_args(["--accel", mode, "--log-dir", logdir, "--", "true"])[0]


class Retry(FakeMachine):
    """runner.run_with_retries() with run() replaced by a script."""

    def setUp(self):
        super().setUp()
        self.logdir = os.path.join(self.tmp, "logs")
        os.makedirs(self.logdir)
        self.calls = []
        self.notes = open(os.path.join(self.tmp, "stderr"), "w")   # the runner's notes
        self.addCleanup(self.notes.close)
        patcher = mock.patch("sys.stderr", new=self.notes)
        patcher.start()
        self.addCleanup(patcher.stop)

    def fake_run(self, outcomes):
        def run(args, cmd, kinfo, root, logdir, notes=(), accel_mode=None):
            self.calls.append((accel_mode, list(notes)))
            code, kvm_fail, console, qemu = outcomes[len(self.calls) - 1]
            for name, text in (("console.log", console), ("qemu.log", qemu),
                               ("verdict.txt", f"X {code}: x\n")):
                with open(os.path.join(logdir, name), "w") as f:
                    f.write(text)
            with open(os.path.join(logdir, "run.json"), "w") as f:
                json.dump({"exit": code, "kvm_boot_failure": kvm_fail,
                           "notes": list(notes)}, f)
            return code
        return run

    def test_kvm_boot_dying_before_kernel_output_is_retried_under_tcg(self):
        why = "qemu aborted: kvm_buf_set_msrs assertion"
        outcomes = [(125, why, "", ASSERTION), (0, None, "[ 0.1] Linux version 6\n", "")]
        with mock.patch.object(runner, "run", self.fake_run(outcomes)):
            code = runner.run_with_retries(run_args(self.logdir), ["true"], {}, self.tmp,
                                           self.logdir)
        self.assertEqual(0, code)
        self.assertEqual([None, "tcg"], [m for m, _ in self.calls])
        note = self.calls[1][1][0]
        self.assertIn("booted again under TCG", note)
        self.assertIn(why, note)
        self.assertTrue(os.path.isfile(os.path.join(self.logdir, "boot-attempt-1",
                                                    "qemu.log")))
        with open(os.path.join(self.logdir, "run.json")) as f:
            self.assertIn(note, json.load(f)["notes"])
        # ... and KVM is not tried again on this machine.
        saved = accel.read_cache(accel.this_machine()[3])
        self.assertEqual((False, why), (saved["kvm"], saved["reason"]))

    def test_forced_kvm_is_not_retried(self):
        outcomes = [(125, "qemu aborted: kvm_buf_set_msrs assertion", "", ASSERTION)]
        with mock.patch.object(runner, "run", self.fake_run(outcomes)):
            code = runner.run_with_retries(run_args(self.logdir, "kvm"), ["true"], {},
                                           self.tmp, self.logdir)
        self.assertEqual(125, code)
        self.assertEqual(1, len(self.calls))

    def test_then_a_failure_before_init_is_still_retried_once(self):
        fixtures = os.path.join(HERE, "fixtures")
        with open(os.path.join(fixtures, "int3-before-init-6.12.log")) as f:
            oops = f.read()
        outcomes = [(125, "qemu killed by SIGABRT", "", ""), (100, None, oops, ""),
                    (0, None, "[ 0.1] Linux version 6\n", "")]
        with mock.patch.object(runner, "run", self.fake_run(outcomes)):
            code = runner.run_with_retries(run_args(self.logdir), ["true"], {}, self.tmp,
                                           self.logdir)
        self.assertEqual(0, code)
        self.assertEqual([None, "tcg", "tcg"], [m for m, _ in self.calls])
        self.assertTrue(os.path.isdir(os.path.join(self.logdir, "boot-attempt-2")))
        self.assertIn("before /init", self.calls[2][1][1])


class KvmBootFailure(unittest.TestCase):
    """runner.kvm_boot_failure(): which KVM boots count as KVM's failure."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="test_accel.")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.console = os.path.join(self.tmp, "console.log")
        self.args = types.SimpleNamespace(timeout=600)

    def check(self, console, qemu, accel_name="kvm", status="exited", qrc=-6, exit=None):
        for path, text in ((self.console, console),
                           (os.path.join(self.tmp, "qemu.log"), qemu)):
            with open(path, "w") as f:
                f.write(text)
        data = types.SimpleNamespace(exit=exit)
        return runner.kvm_boot_failure(accel_name, status, qrc, data, self.console,
                                       self.args)

    def test_abort_before_any_output(self):
        self.assertEqual("qemu aborted: kvm_buf_set_msrs assertion", self.check("", ASSERTION))

    def test_internal_error_in_the_decompressor(self):
        qemu = "KVM internal error. Suberror: 1\nemulation failure\n"
        self.assertEqual("KVM internal error, suberror 1 (emulation failure)",
                         self.check("", qemu, status="kvm-error", qrc=-15))

    def test_silent_hang(self):
        self.assertEqual("no kernel output within 600 s",
                         self.check("", "", status="timeout", qrc=-15))

    def test_not_when_the_kernel_printed(self):
        self.assertIsNone(self.check("[    0.000000] Linux version 6.12\n", ASSERTION))

    def test_not_under_tcg(self):
        self.assertIsNone(self.check("", ASSERTION, accel_name="tcg"))

    def test_not_after_the_end_marker(self):
        self.assertIsNone(self.check("", "", qrc=0, exit=(0, 0)))


class ForcedKvmSetupError(FakeMachine):
    def test_accel_kvm_without_kvm_is_exit_125_saying_what_to_do(self):
        os.environ["MLOCKDEV_KVM_DEVICE"] = os.path.join(self.tmp, "no-such-kvm")
        image = os.path.join(self.tmp, "bzImage")
        with open(image, "wb") as f:
            f.write(b"not a kernel")
        kinfo = {"MLOCKDEV_KERNEL_NAME": "custom", "MLOCKDEV_KERNEL_IMAGE": image,
                 "MLOCKDEV_KERNEL_RELEASE": "6.12.0"}
        logdir = os.path.join(self.tmp, "logs")
        if not os.path.exists(runner.QBOOT):
            self.skipTest(f"{runner.QBOOT} missing (tools/setup)")
        with mock.patch.object(runner, "resolve_kernel", return_value=kinfo), \
                mock.patch("sys.stderr", new=open(os.devnull, "w")) as err:
            self.addCleanup(err.close)
            code = runner.main(["--accel", "kvm", "--log-dir", logdir, "--", "true"])
        self.assertEqual(runner.EXIT_SETUP, code)
        with open(os.path.join(logdir, "verdict.txt")) as f:
            verdict = f.read()
        self.assertIn("SETUP 125: --accel kvm: ", verdict)
        self.assertIn("use --accel tcg or --accel auto", verdict)
        self.assertEqual(0, self.probes())


if __name__ == "__main__":
    unittest.main()
