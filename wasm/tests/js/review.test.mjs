// The review module (wasm/pkg/review/: `diff`, `convertInventory`) against the native CLI:
// `diff` equals `tailpolicy diff --format json` and `convertInventory` equals
// `tailpolicy inventory convert`, on the fixtures. Its declarations pass `tsc --strict`
// (review-usage.ts). The native binary is `$CARGO_TARGET_DIR/debug/tailpolicy`
// (scripts/test.sh builds it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { DEPOT_POLICY, PKG, ROOT, targetDir } from './helpers.mjs';

const REVIEW = join(PKG, 'review', 'node', 'tailpolicy_wasm_review.js');
if (!existsSync(REVIEW)) throw new Error('wasm/pkg/review is missing: run `bash wasm/build.sh` first');
const review = createRequire(import.meta.url)(REVIEW);

const CLI = join(targetDir(), 'debug', 'tailpolicy');
const skip = existsSync(CLI) ? false : `native CLI not found at ${CLI} (cargo build -p tailpolicy-cli)`;

const OLD = 'fixtures/depot/policy.hujson';
const NEW = 'fixtures/diff/depot-widened.hujson';
const INVENTORY = 'fixtures/depot/inventory.json';
const INVENTORIES = 'fixtures/inventories/depot';
const read = (path) => readFileSync(join(ROOT, path), 'utf8');

/** The CLI's exit code, stdout and stderr (run from the repository root, relative paths). */
function cli(args) {
  try {
    return { code: 0, stdout: execFileSync(CLI, args, { cwd: ROOT, encoding: 'utf8', stdio: 'pipe' }), stderr: '' };
  } catch (error) {
    return { code: error.status, stdout: error.stdout, stderr: error.stderr };
  }
}

test('diff equals `tailpolicy diff --format json` on the Depot example with a widened rule', { skip }, () => {
  for (const withInventory of [false, true]) {
    const args = ['diff', OLD, NEW, '--format', 'json', ...(withInventory ? ['--inventory', INVENTORY] : [])];
    const native = cli(args);
    assert.equal(native.code, 0, native.stderr);
    const result = review.diff(read(OLD), read(NEW), {
      oldName: OLD,
      newName: NEW,
      encoding: 'chars',
      ...(withInventory ? { inventory: read(INVENTORY) } : {}),
    });
    assert.equal(result.ok, true, JSON.stringify(result));
    assert.deepEqual(result.diff, JSON.parse(native.stdout), `inventory: ${withInventory}`);
    assert.equal(result.diff.unchanged, false);
    assert.equal(result.diff.symbolic, !withInventory);
    assert.ok(result.diff.added.some((row) => row.kind === 'network'), 'the widened rule is an added network row');
    assert.equal(result.focus, null);
  }
});

test('diff focused on a source lists its rows and says whether it widens, as --no-new-access-for', { skip }, () => {
  const focus = 'tag:depot-runner';
  const native = cli(['diff', OLD, NEW, '--format', 'json', '--no-new-access-for', focus]);
  // The gate fails on a change that widens the runner's access (exit 1).
  const widens = native.code === 1;
  assert.ok(native.code === 0 || widens, native.stderr);
  const result = review.diff(read(OLD), read(NEW), { oldName: OLD, newName: NEW, encoding: 'chars', focus });
  assert.equal(result.ok, true);
  assert.deepEqual(result.diff, JSON.parse(native.stdout));
  assert.equal(result.focus.selector, focus);
  assert.equal(result.focus.widens, widens);
  assert.ok(result.focus.added.length > 0, JSON.stringify(result.focus));
  for (const i of result.focus.added) assert.ok(result.diff.added[i], `index ${i}`);
  // The same text on both sides: unchanged, nothing in focus.
  const same = review.diff(DEPOT_POLICY, DEPOT_POLICY, { focus });
  assert.equal(same.ok, true);
  assert.equal(same.diff.unchanged, true);
  assert.deepEqual([same.focus.added, same.focus.removed, same.focus.widens], [[], [], false]);
});

test('a broken side comes back as diagnostics naming it, as the CLI reports it', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tailpolicy-review-'));
  try {
    // The closing brace left out: a syntax error.
    const broken = read(NEW).replace(/\}\s*$/, '');
    const path = join(dir, 'broken.hujson');
    writeFileSync(path, broken);
    for (const [old, neu, side] of [[read(OLD), broken, 'new'], [broken, read(OLD), 'old']]) {
      const result = review.diff(old, neu);
      assert.equal(result.ok, false);
      assert.deepEqual(result.failures.map((f) => f.side), [side]);
      const { diagnostics, name } = result.failures[0];
      assert.equal(name, side);
      assert.ok(diagnostics.length > 0 && diagnostics.every((d) => d.severity === 'error'));
      const native = cli(side === 'new' ? ['diff', OLD, path, '--format', 'json'] : ['diff', path, OLD, '--format', 'json']);
      assert.equal(native.code, 2);
      assert.match(native.stderr, new RegExp(`the ${side} policy .* is not valid`));
      for (const d of diagnostics) assert.ok(native.stderr.includes(d.code), `${d.code} in ${native.stderr}`);
    }
    // Both broken: both named. A bad inventory is its own failure.
    assert.deepEqual(review.diff(broken, broken).failures.map((f) => f.side), ['old', 'new']);
    const bad = review.diff(read(OLD), read(NEW), { inventory: '{"nodes": 1}' });
    assert.deepEqual(bad.failures.map((f) => f.side), ['inventory']);
    assert.equal(bad.failures[0].diagnostics[0].code, 'INVENTORY');
    const options = review.diff(read(OLD), read(NEW), { encoding: 'ucs2' });
    assert.deepEqual(options.failures.map((f) => f.side), ['options']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('convertInventory equals `tailpolicy inventory convert` for each source shape, and merged', { skip }, () => {
  const files = readdirSync(join(ROOT, INVENTORIES)).filter((f) => f.endsWith('.json')).sort();
  assert.ok(files.length >= 8, files.join());
  const sets = [
    ...files.map((f) => [f]),
    ['api-devices.json', 'api-users.json', 'api-vip-services.json'],
    ['headscale-0.27-nodes.json', 'headscale-0.27-users.json'],
    ['status.json', 'netmap.json'],
  ];
  const shapes = new Set();
  for (const set of sets) {
    const paths = set.map((f) => join(INVENTORIES, f));
    const native = cli(['inventory', 'convert', ...paths]);
    const result = review.convertInventory(paths.map(read), set);
    if (native.code !== 0) {
      assert.equal(result.ok, false, `${set}: the CLI refuses it (${native.stderr})`);
      continue;
    }
    assert.equal(result.ok, true, `${set}: ${JSON.stringify(result)}`);
    assert.deepEqual(result.inventory, JSON.parse(native.stdout), set.join(' + '));
    assert.deepEqual(result.files.map((f) => f.name), set);
    for (const f of result.files) shapes.add(f.shape);
  }
  // Every shape the readers know is covered by a fixture.
  assert.deepEqual([...shapes].sort(), [
    '`headscale nodes list -o json`', '`headscale users list -o json`', '`tailscale debug netmap`',
    '`tailscale status --json`', 'Tailscale API VIP services', 'Tailscale API devices', 'Tailscale API users',
  ].sort());
  // The project's own format goes through unchanged in meaning.
  const own = review.convertInventory([read(INVENTORY)], ['inventory.json']);
  assert.equal(own.ok, true);
  assert.deepEqual(own.inventory, JSON.parse(cli(['inventory', 'convert', INVENTORY]).stdout));
  assert.equal(own.files[0].shape, 'tailpolicy inventory');
});

test('a file no shape fits is named, with the shapes tried', { skip }, () => {
  const result = review.convertInventory([read(join(INVENTORIES, 'status.json')), DEPOT_POLICY], ['status.json', 'policy.hujson']);
  assert.equal(result.ok, false);
  assert.equal(result.file, 'policy.hujson');
  const [d] = result.diagnostics;
  assert.equal(d.code, 'INVENTORY');
  assert.match(d.help, /tailscale status --json.*tailscale debug netmap.*headscale/s);
  assert.notEqual(cli(['inventory', 'convert', OLD]).code, 0, 'the CLI refuses it too');
  // Misuse of the API is a value too.
  for (const args of [[42], [['{}', 3]], [[], 'x']]) {
    const misuse = review.convertInventory(...args);
    assert.equal(misuse.ok, false, JSON.stringify(args));
    assert.equal(misuse.diagnostics[0].code, 'OPTIONS');
  }
  const empty = review.convertInventory([]);
  assert.equal(empty.ok, true);
  assert.deepEqual(empty.inventory.nodes, []);
});

test('the review module is a second module: its own exports, its own declarations', () => {
  assert.equal(typeof review.diff, 'function');
  assert.equal(typeof review.convertInventory, 'function');
  assert.equal(review.check, undefined, 'the main module\'s API stays out of it');
  assert.equal(review.Policy, undefined);
  for (const target of ['web', 'node']) {
    const dts = readFileSync(join(PKG, 'review', target, 'tailpolicy_wasm_review.d.ts'), 'utf8');
    const code = dts.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
    assert.doesNotMatch(code, /\bany\b/, `${target}/tailpolicy_wasm_review.d.ts`);
    assert.match(dts, /export function diff\(oldText: string, newText: string, options\?: DiffOptions\): DiffResponse;/);
    assert.match(dts, /export function convertInventory\(texts: string\[\], names\?: string\[\]\): ConvertResponse;/);
  }
  const sizes = JSON.parse(readFileSync(join(PKG, 'sizes.json'), 'utf8'));
  const module = readFileSync(join(PKG, 'review', 'web', 'tailpolicy_wasm_review_bg.wasm'));
  assert.equal(sizes.review.raw, module.length, 'sizes.json reports the review module');
  assert.ok(sizes.review.gzip > 0 && sizes.review.gzip < sizes.review.raw);
});

test('tsc --strict accepts a program that uses the review API', () => {
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  assert.ok(existsSync(tsc), 'typescript is missing: run scripts/bootstrap.sh (npm ci)');
  try {
    execFileSync(process.execPath, [
      tsc, '--noEmit', '--strict', '--target', 'es2022', '--module', 'es2022', '--moduleResolution', 'bundler',
      '--lib', 'es2022,dom', '--skipLibCheck', 'false',
      join(ROOT, 'wasm', 'tests', 'js', 'review-usage.ts'),
    ], { cwd: ROOT, encoding: 'utf8', stdio: 'pipe' });
  } catch (error) {
    assert.fail(`tsc failed:\n${error.stdout}${error.stderr}`);
  }
});
