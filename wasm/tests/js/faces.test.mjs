// One output model for every face: `check`, `query`, `reach` and `test` through the CLI's
// JSON and through the WASM API give the same fields and values (crates/tailpolicy/src/
// output.rs), on the Depot example, a broken policy and a policy whose own test fails.
// Columns are asked in characters (`encoding: 'chars'`), as the CLI counts them; in UTF-16
// only the columns after a non-BMP character differ.
//
// The native binary is `$CARGO_TARGET_DIR/debug/tailpolicy` (scripts/test.sh builds it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { DEPOT_INVENTORY, DEPOT_POLICY, ROOT, targetDir, wasm } from './helpers.mjs';

const { check, Policy } = wasm;
const CLI = join(targetDir(), 'debug', 'tailpolicy');
const skip = existsSync(CLI) ? false : `native CLI not found at ${CLI} (cargo build -p tailpolicy-cli)`;
if (skip && process.env.CI === 'true') {
  test('the native CLI is present under CI=true', () => assert.fail(skip));
}

const DEPOT = join(ROOT, 'fixtures/depot/policy.hujson');
const INVENTORY = join(ROOT, 'fixtures/depot/inventory.json');

// An emoji (two UTF-16 units) before the errors, so encodings matter.
const BROKEN = `{
  // \u{1F600} a tag nobody owns, an unknown action, an undefined host
  "tagOwners": {"tag:web": ["autogroup:admin"]},
  "acls": [
    {"action": "accept", "src": ["tag:nope"], "dst": ["tag:web:443"]},
    {"action": "allow", "src": ["*"], "dst": ["nowhere:80"]},
  ],
}
`;

// Valid, but its own test fails: the rule allows what the test says is denied.
const FAILING = `{
  "tagOwners": {"tag:web": []},
  "hosts": {"db": "100.64.0.9"},
  "acls": [{"action": "accept", "src": ["tag:web"], "dst": ["db:5432"]}],
  "tests": [{"src": "tag:web", "accept": ["db:5432"], "deny": ["db:5432"]}],
}
`;

/** Runs the CLI; exit codes 0 and 1 are answers. */
function cli(args) {
  try {
    return { code: 0, stdout: execFileSync(CLI, args, { encoding: 'utf8', stdio: 'pipe' }) };
  } catch (error) {
    return { code: error.status, stdout: error.stdout, stderr: error.stderr };
  }
}

const json = (args) => {
  const run = cli(args);
  assert.ok(run.code === 0 || run.code === 1, `${args.join(' ')}: exit ${run.code}: ${run.stderr}`);
  return JSON.parse(run.stdout);
};

function withFiles(fn) {
  const dir = mkdtempSync(join(tmpdir(), 'tailpolicy-faces-'));
  try {
    const broken = join(dir, 'broken.hujson');
    const failing = join(dir, 'failing.hujson');
    writeFileSync(broken, BROKEN);
    writeFileSync(failing, FAILING);
    fn({ broken, failing });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('check: the CLI and the WASM API report the same diagnostics', { skip }, () => {
  withFiles(({ broken, failing }) => {
    const cases = [
      [DEPOT, DEPOT_POLICY, DEPOT_INVENTORY, ['--inventory', INVENTORY]],
      [broken, BROKEN, null, []],
      [failing, FAILING, null, []],
    ];
    for (const [path, text, inventory, extra] of cases) {
      const native = json(['check', path, '--format', 'json', ...extra]).files[0];
      const mine = check(text, { inventory, encoding: 'chars' });
      assert.equal(mine.valid, native.valid, path);
      assert.deepEqual(mine.diagnostics, native.diagnostics, path);
      // The broken policy's emoji shifts UTF-16 columns, nothing else.
      const utf16 = check(text, { inventory });
      assert.deepEqual(utf16.diagnostics.map(({ column, end_column, ...rest }) => rest),
        native.diagnostics.map(({ column, end_column, ...rest }) => rest), path);
    }
    const broken_ = check(BROKEN, { encoding: 'chars' });
    assert.equal(broken_.valid, false);
    assert.ok(broken_.diagnostics.filter((d) => d.severity === 'error').length >= 2, JSON.stringify(broken_));
  });
});

test('a broken policy: the CLI refuses to simulate, the WASM API returns its errors', { skip }, () => {
  withFiles(({ broken }) => {
    const native = json(['check', broken, '--format', 'json']).files[0];
    const parsed = Policy.parse(BROKEN, { encoding: 'chars' });
    assert.equal(parsed.ok, false);
    assert.deepEqual(parsed.diagnostics, native.diagnostics.filter((d) => d.severity === 'error'));
    for (const args of [['query', '--src', 'tag:web', '--dst', 'tag:web:443'], ['reach', '--from', 'tag:web'], ['test']]) {
      const [command, ...rest] = args;
      const run = cli([command, broken, ...rest, '--format', 'json']);
      assert.equal(run.code, 2, `${command}: ${run.stdout}`);
      for (const d of parsed.diagnostics) {
        assert.ok(run.stderr.includes(d.message), `${command}: ${d.message} in\n${run.stderr}`);
      }
    }
  });
});

test('query, reach and test: the same objects through the CLI and the WASM API', { skip }, () => {
  const parsed = Policy.parse(DEPOT_POLICY, { inventory: DEPOT_INVENTORY, encoding: 'chars' });
  assert.equal(parsed.ok, true);
  const policy = parsed.policy;
  const inv = ['--inventory', INVENTORY];
  try {
    const queries = [
      { src: 'tag:depot-runner', dst: 'database:5432' },
      { src: 'group:engineering', dst: 'database:5432' },
      { src: 'tag:depot-runner', dst: 'database:22', proto: 'udp' },
      { src: 'alice@example.com', dst: '192.0.2.10:443' },
    ];
    for (const q of queries) {
      const native = json(['query', DEPOT, ...inv, '--src', q.src, '--dst', q.dst,
        ...(q.proto ? ['--proto', q.proto] : []), '--format', 'json']);
      const mine = policy.query(q);
      assert.deepEqual(mine, native, JSON.stringify(q));
      assert.ok('via_node' in native && Array.isArray(native.conditions));
    }
    const depotAllowed = policy.query(queries[0]);
    assert.equal(depotAllowed.allowed, true);
    assert.deepEqual(Object.keys(depotAllowed.matches[0]),
      ['section', 'index', 'label', 'line', 'column', 'end_line', 'end_column']);
    assert.equal(depotAllowed.matches[0].label, 'acls[0]');

    for (const [flag, name, call] of [['--from', 'tag:depot-runner', 'reachableFrom'], ['--to', 'database:5432', 'reachableTo']]) {
      const native = json(['reach', DEPOT, ...inv, flag, name, '--format', 'json']);
      const mine = policy[call](name);
      assert.equal(mine.ok, true);
      assert.ok(mine.reach.length > 0);
      assert.deepEqual(mine.reach, native.entries, `${flag} ${name}`);
      // `reach` names rules with the object `query` uses.
      assert.deepEqual(Object.keys(mine.reach[0].rules[0]), Object.keys(depotAllowed.matches[0]));
    }

    const native = json(['test', DEPOT, ...inv, '--format', 'json']);
    const mine = policy.test();
    assert.deepEqual(mine, native);
    assert.equal(mine.passed, true);
  } finally {
    policy.free();
  }
  withFiles(({ failing }) => {
    const native = json(['test', failing, '--format', 'json']);
    const parsed_ = Policy.parse(FAILING, { encoding: 'chars' });
    assert.equal(parsed_.ok, true);
    const mine = parsed_.policy.test();
    parsed_.policy.free();
    assert.deepEqual(mine, native);
    assert.equal(mine.passed, false);
    assert.equal(mine.failures, 1);
  });
});
