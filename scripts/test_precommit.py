"""The pre-commit hooks of .pre-commit-hooks.yaml, run by the real pre-commit (PyPI) with
`try-repo` on a scratch repository: a valid policy passes, a broken one fails showing the
diagnostic, and `package.json` (or an inventory) beside it is not checked.

    .tools/venv/bin/python scripts/test_precommit.py          (scripts/test.sh runs it)

`tailpolicy-check` (language: system) runs the debug build put on PATH. `tailpolicy-check-build`
(language: python) makes pre-commit pip-install this repository, so maturin builds the CLI into
a wheel: with TAILPOLICY_PRECOMMIT_BUILD=0 that case is skipped. The build reuses this
checkout's target directory and the dev profile (MATURIN_PEP517_ARGS), whose dependencies the
tests have built already.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRE_COMMIT = Path(sys.executable).parent / "pre-commit"
BIN_DIR = ROOT / "target" / "debug"
VALID = (ROOT / "fixtures/depot/policy.hujson").read_text()
BROKEN = '{\n  // a JSON5 habit\n  "acls": [{"action": "accept", "src": [\'*\'], "dst": ["*:*"]}],\n}\n'


def sh(cwd, *args, env=None):
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)


class PreCommitTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = Path(tempfile.mkdtemp(prefix="tailpolicy-precommit-"))
        cls.REV = cls.rev()
        cls.env = {
            **os.environ,
            "PATH": f"{BIN_DIR}:{os.environ['PATH']}",
            # A cache of its own, so the hook environments are built from this checkout.
            "PRE_COMMIT_HOME": str(cls.tmp / "cache"),
            "CARGO_TARGET_DIR": os.environ.get("CARGO_TARGET_DIR", str(ROOT / "target")),
            "MATURIN_PEP517_ARGS": "--profile dev",
            "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
            "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
        }

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def scratch(self, name, files):
        repo = self.tmp / name
        repo.mkdir()
        sh(repo, "git", "init", "-q", "-b", "main")
        for path, text in files.items():
            (repo / path).parent.mkdir(parents=True, exist_ok=True)
            (repo / path).write_text(text)
        sh(repo, "git", "add", ".", env=self.env)
        return repo

    @classmethod
    def rev(cls):
        # The checkout as it is, tracked changes included, as a commit (`git stash create` makes
        # one without touching anything): try-repo then reuses one hook environment for every
        # run, where its own snapshot of uncommitted changes would build a new one each time.
        snapshot = sh(ROOT, "git", "stash", "create").stdout.strip()
        return snapshot or sh(ROOT, "git", "rev-parse", "HEAD").stdout.strip()

    def try_repo(self, repo, hook):
        return sh(repo, str(PRE_COMMIT), "try-repo", str(ROOT), hook, "--ref", self.REV, "--all-files", "--verbose",
                  env=self.env)

    def check_hook(self, hook):
        # `package.json` is not a policy: were it checked, its unknown keys would be errors.
        files = {
            "policy.hujson": VALID,
            "package.json": '{"name": "policies", "private": true}\n',
            "inventory.json": (ROOT / "fixtures/depot/inventory.json").read_text(),
            "tailnet/tailscale-acl.json": '{"acls": []}\n',
        }
        ok = self.try_repo(self.scratch(f"{hook}-valid", files), hook)
        out = ok.stdout + ok.stderr
        self.assertEqual(ok.returncode, 0, out)
        self.assertRegex(out, r"tailpolicy check\.+Passed")
        # Exactly the two policy files were handed to tailpolicy.
        self.assertIn("2 files checked: 2 valid", out)

        broken = self.try_repo(self.scratch(f"{hook}-broken", {**files, "acls.hujson": BROKEN}), hook)
        out = broken.stdout + broken.stderr
        self.assertEqual(broken.returncode, 1, out)
        self.assertRegex(out, r"tailpolicy check\.+Failed")
        self.assertIn("error[E001]", out)
        self.assertIn("--> acls.hujson:3:", out)
        self.assertIn("3 files checked: 2 valid, 1 with errors", out)

    def test_manifest_is_valid(self):
        proc = sh(ROOT, str(PRE_COMMIT), "validate-manifest", ".pre-commit-hooks.yaml")
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)

    def test_files_pattern(self):
        import yaml

        hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
        for hook in hooks:
            pattern = re.compile(hook["files"])
            for name in ("policy.hujson", "acl.hujson", "acls.hujson", "tailscale.hujson", "tailscale-acl.json",
                         "infra/tailscale/tailscale.policy.hujson", "net/policy.hujson"):
                self.assertTrue(pattern.search(name), (hook["id"], name))
            for name in ("package.json", "inventory.json", "tsconfig.json", "policy.json", "mytailscale.json",
                         "tailscale/inventory.json", "acls.hujson.bak"):
                self.assertFalse(pattern.search(name), (hook["id"], name))

    def test_system_hook(self):
        self.assertTrue((BIN_DIR / "tailpolicy").exists(), "cargo build -p tailpolicy-cli first")
        self.check_hook("tailpolicy-check")

    @unittest.skipIf(os.environ.get("TAILPOLICY_PRECOMMIT_BUILD") == "0", "TAILPOLICY_PRECOMMIT_BUILD=0")
    def test_python_hook_builds_the_cli(self):
        # No tailpolicy on PATH: the hook's own environment must provide it.
        self.env = {**self.env, "PATH": os.environ["PATH"]}
        self.assertIsNone(shutil.which("tailpolicy", path=self.env["PATH"]), "tailpolicy must not be on PATH here")
        self.check_hook("tailpolicy-check-build")


if __name__ == "__main__":
    unittest.main(verbosity=2)
