# SPDX-License-Identifier: GPL-2.0
"""Static checks of .github/workflows/check.yml.

Debian bookworm ships no actionlint, so: a YAML parse (python3-yaml) and
checks of what this project relies on."""

import os
import re
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(HERE))
import check  # noqa: E402

WORKFLOW = os.path.join(TOP, ".github", "workflows", "check.yml")

try:
    import yaml
except ImportError:
    yaml = None


def problems(doc, makefile):
    """What is wrong with the workflow doc (parsed YAML) for this tree."""
    found = []
    if not isinstance(doc, dict):
        return ["not a YAML mapping"]
    # YAML 1.1 reads a bare "on" key as true.
    if "on" not in doc and True not in doc:
        found.append("no 'on' trigger")
    jobs = doc.get("jobs")
    if not isinstance(jobs, dict) or not jobs:
        return found + ["no jobs"]
    for name, job in jobs.items():
        if not isinstance(job, dict):
            found.append(f"job {name}: not a mapping")
            continue
        if not job.get("runs-on"):
            found.append(f"job {name}: no runs-on")
        steps = job.get("steps")
        if not isinstance(steps, list) or not steps:
            found.append(f"job {name}: no steps")
            continue
        for i, step in enumerate(steps):
            if not isinstance(step, dict) or \
                    ("run" in step) == ("uses" in step):
                found.append(f"job {name}: step {i + 1} needs exactly one "
                             "of run and uses")
            elif "uses" in step and not re.fullmatch(
                    r"[\w.-]+/[\w./-]+@[\w.-]+", step["uses"]):
                found.append(f"job {name}: step {i + 1} uses "
                             f"{step['uses']!r} without a version")
        matrix = (job.get("strategy") or {}).get("matrix") or {}
        text = repr(job)
        for ref in re.findall(r"\$\{\{\s*matrix\.(\w+)", text):
            if ref not in matrix:
                found.append(f"job {name}: matrix.{ref} is not in its matrix")
        if "kernel" not in matrix:
            continue
        if sorted(matrix["kernel"]) != sorted(check.KERNELS):
            found.append(f"job {name}: matrix kernels {matrix['kernel']} "
                         f"are not check.py's {check.KERNELS}")
        runs = [s.get("run", "") for s in steps if isinstance(s, dict)]
        if not any(re.search(r"(^|\s)make check KERNELS=\$\{\{ "
                             r"matrix\.kernel \}\}\s*$", r) for r in runs):
            found.append(f"job {name}: no step runs "
                         "'make check KERNELS=${{ matrix.kernel }}'")
        uses = {s.get("uses", "").split("@")[0]: s
                for s in steps if isinstance(s, dict)}
        cache = (uses.get("actions/cache") or {}).get("with") or {}
        if cache.get("path") != "~/.cache/mlockdev":
            found.append(f"job {name}: no actions/cache of ~/.cache/mlockdev")
        key = cache.get("key", "")
        for part in ("matrix.kernel", "hashFiles('tools/kconfig/**')",
                     "hashFiles('tools/testkernel')"):
            if part not in key:
                found.append(f"job {name}: cache key lacks {part}")
        upload = uses.get("actions/upload-artifact") or {}
        if not str(upload.get("with", {}).get("path", "")).startswith(
                "build/check/"):
            found.append(f"job {name}: build/check/ is not uploaded")
        report = [s for s in steps if isinstance(s, dict) and
                  "junit.xml" in repr(s.get("with", {})) and
                  s is not upload]
        if not report:
            found.append(f"job {name}: no step publishes junit.xml")
        for s in [upload] + report:
            if s and s.get("if") != "always()":
                found.append(f"job {name}: {s.get('uses')} is skipped when "
                             "make check fails (no if: always())")
    if not re.search(r"^check:.*\n(?:.*\n)*?\ttools/check\.py .*"
                     r"--kernels '\$\(KERNELS\)'", makefile, re.M):
        found.append("the Makefile's check target does not pass KERNELS "
                     "to tools/check.py --kernels")
    return found


class WorkflowTest(unittest.TestCase):
    def setUp(self):
        # A check that cannot parse is a failure, never a silent skip.
        self.assertIsNotNone(yaml, "python3-yaml is not installed "
                             "(tools/setup installs it)")
        with open(WORKFLOW) as f:
            self.text = f.read()
        with open(os.path.join(TOP, "Makefile")) as f:
            self.makefile = f.read()

    def test_workflow(self):
        self.assertEqual(problems(yaml.safe_load(self.text), self.makefile),
                         [])

    def test_junit_path_is_where_check_py_writes(self):
        self.assertIn("build/check/*/junit.xml", self.text)
        with open(os.path.join(TOP, "tools", "check.py")) as f:
            self.assertIn('self.log("junit.xml")', f.read())

    def test_checks_can_fail(self):
        doc = yaml.safe_load(self.text)
        job = doc["jobs"]["check"]
        job["strategy"]["matrix"]["kernel"].pop()
        job["steps"] = [s for s in job["steps"]
                        if "make check" not in s.get("run", "")]
        job["steps"][-1].pop("if")
        del job["runs-on"]
        found = problems(doc, self.makefile.replace("--kernels", "--k"))
        self.assertEqual(len(found), 5, found)
        with self.assertRaises(yaml.YAMLError):
            yaml.safe_load(self.text.replace("    steps:", "   steps:"))


if __name__ == "__main__":
    unittest.main()
