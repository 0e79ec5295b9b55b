"""Runs the GitHub Action's steps (action.yml) locally, as GitHub would, and validates action.yml.

    .tools/venv/bin/python action/test_action.py   (scripts/test.sh runs it)

action.yml is checked against SchemaStore's github-action schema as bundled by check-jsonschema
(PyPI, installed by scripts/bootstrap.sh; no network), then structurally: every input, step and
output an expression names exists. The steps then run in order in a scratch git repository with
the environment GitHub sets (GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, GITHUB_PATH, GITHUB_WORKSPACE,
GITHUB_ACTION_PATH, RUNNER_TEMP, ...): `${{ }}` expressions are evaluated for the contexts the
action uses, `run` steps run through bash, `uses` steps are recorded, not run. The binary is the
debug build (TAILPOLICY_BIN, default target/debug/tailpolicy).
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import hashlib
import tempfile
import unittest
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
ACTION = yaml.safe_load((ROOT / "action.yml").read_text())
BIN = Path(os.environ.get("TAILPOLICY_BIN", ROOT / "target" / "debug" / "tailpolicy")).resolve()
VENV_BIN = Path(sys.executable).parent
EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
VERSION = re.search(r'^version = "(.*)"', (ROOT / "Cargo.toml").read_text(), re.M).group(1)


def lookup(path, ctx):
    value = ctx
    for part in re.findall(r"[A-Za-z_][\w-]*|\[['\"][^'\"]+['\"]\]", path):
        part = part.strip("[]'\"")
        value = value.get(part, "") if isinstance(value, dict) else ""
    return value


def evaluate(expr, ctx):
    """The expression subset the action uses: context paths, string literals, ==, !=, &&, ||."""
    tokens = re.findall(r"'[^']*'|==|!=|&&|\|\||[A-Za-z_][\w.\-\[\]'\"]*", expr)
    py = []
    for tok in tokens:
        if tok.startswith("'") or tok in ("==", "!="):
            py.append(tok)
        elif tok == "&&":
            py.append("and")
        elif tok == "||":
            py.append("or")
        elif tok in ("true", "false"):
            py.append(repr(tok == "true"))
        else:
            py.append(repr(str(lookup(tok, ctx))))
    return eval(" ".join(py), {"__builtins__": {}})  # noqa: S307 (our own action.yml)


def substitute(text, ctx):
    return EXPR.sub(lambda m: str(evaluate(m.group(1), ctx)), str(text))


def read_kv(path):
    out = {}
    for line in Path(path).read_text().splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            out[k] = v
    return out


class Run:
    """One run of the action in `workspace` with `inputs`."""

    def __init__(self, workspace, inputs, env=None, event=None):
        self.workspace = Path(workspace)
        files = self.workspace.parent / "github"
        shutil.rmtree(files, ignore_errors=True)
        files.mkdir()
        self.files = files
        defaults = {k: str(v.get("default", "")) for k, v in ACTION["inputs"].items()}
        defaults["github-token"] = "gh-token-for-test"
        self.inputs = {**defaults, **inputs}
        self.steps = {}
        self.used = []
        self.logs = []
        self.failed = None
        self.env = {
            "PATH": f"{files}/fakebin:{os.environ['PATH']}",
            "HOME": str(self.workspace.parent / "home"),
            "GITHUB_ACTIONS": "true",
            "CI": "true",
            "GITHUB_WORKSPACE": str(self.workspace),
            "GITHUB_ACTION_PATH": str(ROOT),
            "GITHUB_OUTPUT": str(files / "output"),
            "GITHUB_STEP_SUMMARY": str(files / "summary.md"),
            "GITHUB_PATH": str(files / "path"),
            "GITHUB_ENV": str(files / "env"),
            "GITHUB_EVENT_NAME": "pull_request",
            "GITHUB_REPOSITORY": "example/policies",
            "RUNNER_OS": "Linux",
            "RUNNER_ARCH": "X64",
            "RUNNER_TEMP": str(files / "runner-temp"),
            "TP_BIN": str(BIN),
            **(env or {}),
        }
        (files / "runner-temp").mkdir()
        (files / "fakebin").mkdir()
        for name in ("summary.md", "path", "env"):
            (files / name).touch()
        self.ctx = {
            "inputs": self.inputs,
            "steps": self.steps,
            "github": {"token": "gh-token-for-test", "repository": "example/policies",
                       "event": event or {"pull_request": {"number": 7}}},
            "runner": {"os": "Linux", "arch": "X64"},
        }

    def go(self):
        for step in ACTION["runs"]["steps"]:
            if "if" in step and not evaluate(EXPR.sub(r"\1", step["if"]), self.ctx):
                continue
            if "uses" in step:
                self.used.append((step["uses"], {k: substitute(v, self.ctx) for k, v in step.get("with", {}).items()}))
                continue
            output = self.files / "output"
            output.write_text("")
            env = {**self.env, **{k: substitute(v, self.ctx) for k, v in step.get("env", {}).items()}}
            proc = subprocess.run(["bash", "-e", "-c", substitute(step["run"], self.ctx)], cwd=self.workspace,
                                  env=env, capture_output=True, text=True)
            self.logs.append((step["name"], proc.stdout + proc.stderr))
            if "id" in step:
                self.steps[step["id"]] = {"outputs": read_kv(output)}
            if proc.returncode != 0:
                self.failed = step["name"]
                break
        return self

    @property
    def log(self):
        return "\n".join(f"## {name}\n{text}" for name, text in self.logs)

    @property
    def summary(self):
        return (self.files / "summary.md").read_text()

    def outputs(self):
        return {k: substitute(v["value"], self.ctx) for k, v in ACTION["outputs"].items()}


def git(cwd, *args):
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=cwd, check=True,
                   capture_output=True)


class ActionTest(unittest.TestCase):
    def setUp(self):
        self.assertTrue(BIN.exists(), f"{BIN} is missing: cargo build -p tailpolicy-cli")
        self.tmp = Path(tempfile.mkdtemp(prefix="tailpolicy-action-"))
        self.ws = self.tmp / "workspace"
        self.ws.mkdir()
        (self.tmp / "home").mkdir()
        git(self.ws, "init", "-q", "-b", "main")
        shutil.copy(ROOT / "fixtures/depot/policy.hujson", self.ws / "policy.hujson")
        shutil.copy(ROOT / "fixtures/depot/inventory.json", self.ws / "inventory.json")
        git(self.ws, "add", ".")
        git(self.ws, "commit", "-q", "-m", "policy")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_schema_and_structure(self):
        proc = subprocess.run([str(VENV_BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-actions",
                               str(ROOT / "action.yml")], capture_output=True, text=True)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertEqual(ACTION["runs"]["using"], "composite")
        # The input gitops-acl-action users know, with its default.
        self.assertEqual(ACTION["inputs"]["policy-file"]["default"], "./policy.hujson")
        for name in ("inventory", "config", "sarif", "diff-base", "version"):
            self.assertIn(name, ACTION["inputs"])
        text = (ROOT / "action.yml").read_text()
        ids = {s.get("id") for s in ACTION["runs"]["steps"]}
        for expr in EXPR.findall(text):
            for ref in re.findall(r"inputs\.([\w-]+)|inputs\['([\w-]+)'\]", expr):
                self.assertIn(ref[0] or ref[1], ACTION["inputs"], expr)
            for ref in re.findall(r"steps\.([\w-]+)\.outputs\.([\w-]+)", expr):
                self.assertIn(ref[0], ids, expr)
        for step in ACTION["runs"]["steps"]:
            self.assertTrue("run" in step or "uses" in step, step)
            if "run" in step:
                self.assertEqual(step.get("shell"), "bash", step)
        # Every TP_* variable run.sh reads is set by some step (or is a test-only override).
        script = (ROOT / "action/run.sh").read_text()
        given = {k for s in ACTION["runs"]["steps"] for k in s.get("env", {})}
        overrides = {"TP_BIN", "TP_BIN_DIR", "TP_RELEASE_URL", "TP_NO_BUILD"}
        for var in set(re.findall(r"\b(TP_[A-Z_]+)", script)) - overrides:
            self.assertIn(var, given, var)

    def test_valid_policy_with_inventory_and_sarif(self):
        run = Run(self.ws, {"inventory": "./inventory.json", "sarif": "true"}).go()
        self.assertIsNone(run.failed, run.log)
        out = run.outputs()
        self.assertEqual(out["status"], "0")
        self.assertTrue(out["version"].startswith(f"tailpolicy {VERSION} (commit "), out)
        self.assertIn(str(self.tmp / "home/.cache/tailpolicy-action/bin"), (run.files / "path").read_text())
        self.assertRegex(run.summary, r":white_check_mark: 1 file checked: 1 valid")
        # The SARIF log is handed to upload-sarif.
        uses = dict(run.used)
        self.assertEqual(uses["github/codeql-action/upload-sarif@v3"]["sarif_file"], out["sarif-file"])
        log = json.loads(Path(out["sarif-file"]).read_text())
        self.assertEqual(log["version"], "2.1.0")
        self.assertTrue(uses["actions/cache@v4"]["key"].startswith(f"tailpolicy-Linux-X64-{VERSION}-"))
        # A second run uses the cached binary.
        again = Run(self.ws, {}, env={"TP_BIN": "/nonexistent"}).go()
        self.assertIsNone(again.failed, again.log)
        self.assertIn("using the cached tailpolicy", again.log)

    def test_broken_policy_fails_with_annotations(self):
        (self.ws / "tailscale-acl.hujson").write_text('{\n  "acls": [{"action": "accept", "src": [\'*\']}],\n}\n')
        run = Run(self.ws, {"policy-file": "./tailscale-acl.hujson\n./policy.hujson"}).go()
        self.assertEqual(run.failed, "Fail on policy errors", run.log)
        self.assertEqual(run.outputs()["status"], "1")
        self.assertRegex(run.log, r"::error file=tailscale-acl\.hujson,line=2,col=\d+")
        self.assertIn("tailpolicy check failed (exit 1)", run.log)
        self.assertRegex(run.summary, r":x: 2 files checked: 1 valid, 1 with errors")
        self.assertNotIn("github/codeql-action/upload-sarif@v3", dict(run.used))

    def test_diff_with_this_binary(self):
        # A changed policy against the committed one, with whatever this build offers: without a
        # `diff` command the review is skipped with a notice, with one it is made; never a failure.
        policy = self.ws / "policy.hujson"
        policy.write_text(policy.read_text().replace('["database:5432"]', '["database:5432", "database:6432"]', 1))
        run = Run(self.ws, {"diff-base": "HEAD"}).go()
        self.assertIsNone(run.failed, run.log)
        has_diff = subprocess.run([str(BIN), "diff", "--help"], capture_output=True).returncode == 0
        if has_diff:
            self.assertNotIn("could not compare", run.log)
            self.assertGreater(len(run.summary.split("### tailpolicy check")[1].strip().splitlines()), 1, run.summary)
        else:
            self.assertRegex(run.log, r"::notice title=tailpolicy::tailpolicy .* has no `diff` command")

    def test_diff_review_summary_and_comment(self):
        # A stand-in binary with a `diff` command, and a `gh` that records what it was asked.
        fake = self.tmp / "tailpolicy-with-diff"
        fake.write_text(f"""#!/usr/bin/env bash
if [ "$1" = diff ]; then
  [ "$2" = --help ] && exit 0
  echo "## Policy changes: $2 -> $3 (${{@:4}})"
  exit 1
fi
exec {BIN} "$@"
""")
        fake.chmod(0o755)
        run = Run(self.ws, {"diff-base": "main", "inventory": "./inventory.json"}, env={"TP_BIN": str(fake)})
        gh = run.files / "fakebin" / "gh"
        gh.write_text(f'#!/usr/bin/env bash\necho "$@" > {run.files}/gh-args\ncp "$5" {run.files}/gh-body\n'
                      f'echo "$GH_TOKEN $GH_REPO" > {run.files}/gh-token\n')
        gh.chmod(0o755)
        run.go()
        self.assertIsNone(run.failed, run.log)
        self.assertIn("## Policy changes: git:main:policy.hujson -> policy.hujson (--format markdown --inventory inventory.json)",
                      run.summary)
        self.assertTrue((run.files / "gh-args").read_text().startswith("pr comment 7 --body-file "))
        self.assertIn("## Policy changes", (run.files / "gh-body").read_text())
        self.assertEqual((run.files / "gh-token").read_text().strip(), "gh-token-for-test example/policies")

    def test_release_asset_with_checksum(self):
        # The assets of scripts/release.sh when TAILPOLICY_RELEASE_ASSETS names them (test.sh
        # does), else an archive of the same layout made here from the debug build.
        target = "x86_64-unknown-linux-musl"
        releases = self.tmp / "releases"
        folder = releases / f"v{VERSION}"
        folder.mkdir(parents=True)
        asset = folder / f"tailpolicy-{VERSION}-{target}.tar.gz"
        sha = Path(f"{asset}.sha256")
        built = os.environ.get("TAILPOLICY_RELEASE_ASSETS")
        if built:
            shutil.copy(Path(built) / asset.name, asset)
            shutil.copy(Path(built) / sha.name, sha)
        else:
            with tarfile.open(asset, "w:gz") as tar:
                tar.add(BIN, arcname=f"tailpolicy-{VERSION}-{target}/tailpolicy")
            digest = hashlib.sha256(asset.read_bytes()).hexdigest()
            sha.write_text(f"{digest}  {asset.name}\n")
        env = {"TP_BIN": "", "TP_RELEASE_URL": f"file://{releases}", "TP_NO_BUILD": "1"}
        run = Run(self.ws, {}, env=env).go()
        self.assertIsNone(run.failed, run.log)
        self.assertIn("installed the release asset", run.log)
        self.assertTrue(run.outputs()["version"].startswith(f"tailpolicy {VERSION} (commit "), run.log)
        # A tampered asset is refused.
        shutil.rmtree(self.tmp / "home/.cache")
        sha.write_text(f"{'0' * 64}  {asset.name}\n")
        run = Run(self.ws, {}, env=env).go()
        self.assertEqual(run.failed, "Install tailpolicy", run.log)
        self.assertIn("does not match", run.log)


if __name__ == "__main__":
    unittest.main(verbosity=2)
