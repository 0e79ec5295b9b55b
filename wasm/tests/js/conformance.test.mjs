// The WASM module answers exactly as the native CLI on the visible conformance policies
// (`../shared/conformance/headscale/saas/*/*.json`, or $TAILPOLICY_CONFORMANCE_DIR): `check`
// (validity and every diagnostic, with and without the case's inventory), a sample of
// queries against `query --batch`, and reachability listings against `reach --from`.
//
// Without the corpus the tests are skipped with a note, except under CI=true, where that is a
// failure. The native binary is `$CARGO_TARGET_DIR/debug/tailpolicy` (scripts/test.sh builds it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

import { ROOT, targetDir, wasm } from './helpers.mjs';

const run = promisify(execFile);
const { check, Policy } = wasm;

const CORPUS = process.env.TAILPOLICY_CONFORMANCE_DIR
  ? resolve(process.env.TAILPOLICY_CONFORMANCE_DIR)
  : resolve(ROOT, '..', 'shared', 'conformance');
const SAAS = join(CORPUS, 'headscale', 'saas');
const CLI = join(targetDir(), 'debug', 'tailpolicy');
const CI = process.env.CI === 'true';

/** Why the comparison cannot run, or null. */
function missing() {
  if (!existsSync(SAAS)) return `conformance corpus not found at ${CORPUS} (set TAILPOLICY_CONFORMANCE_DIR)`;
  if (!existsSync(CLI)) return `native CLI not found at ${CLI} (cargo build -p tailpolicy-cli)`;
  return null;
}

const reason = missing();
if (reason && CI) {
  test('conformance corpus and native CLI are present under CI=true', () => assert.fail(reason));
}
const skip = reason ? `skipped: ${reason}` : false;


function loadCases() {
  const cases = [];
  for (const folder of readdirSync(SAAS).sort()) {
    const dir = join(SAAS, folder);
    for (const file of readdirSync(dir).sort()) {
      if (!file.endsWith('.json')) continue;
      const data = JSON.parse(readFileSync(join(dir, file), 'utf8'));
      cases.push({
        name: `${folder}/${file}`,
        policy: data.policy,
        inventory: JSON.stringify({ users: data.users ?? [], nodes: data.nodes ?? [], tailnet: data.tailnet ?? {} }),
        nodes: data.nodes ?? [],
      });
    }
  }
  return cases;
}

/** Runs the CLI; exit codes 0 and 1 are answers, anything else is returned as an error. */
async function cli(args) {
  try {
    const { stdout } = await run(CLI, args, { maxBuffer: 256 * 1024 * 1024 });
    return { code: 0, stdout };
  } catch (error) {
    if (typeof error.code === 'number') return { code: error.code, stdout: error.stdout, stderr: error.stderr };
    throw error;
  }
}

/** Maps `items` through `fn` with at most `limit` in flight. */
async function pool(items, limit, fn) {
  const results = new Array(items.length);
  let next = 0;
  async function worker() {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  }
  await Promise.all(Array.from({ length: limit }, worker));
  return results;
}

const DIAGNOSTIC_KEYS = ['code', 'severity', 'message', 'help', 'line', 'column', 'end_line', 'end_column'];
const pick = (d) => Object.fromEntries(DIAGNOSTIC_KEYS.map((k) => [k, d[k]]));

let cases = [];
let work;
if (!reason) {
  cases = loadCases();
  work = mkdtempSync(join(tmpdir(), 'tailpolicy-wasm-conformance-'));
  cases.forEach((c, i) => {
    c.policyPath = join(work, `${i}.hujson`);
    c.inventoryPath = join(work, `${i}.inventory.json`);
    writeFileSync(c.policyPath, c.policy);
    writeFileSync(c.inventoryPath, c.inventory);
  });
  process.on('exit', () => rmSync(work, { recursive: true, force: true }));
}

test('check without an inventory: wasm and native agree on every visible policy', { skip }, async (t) => {
  const { stdout } = await cli(['check', '--format', 'json', ...cases.map((c) => c.policyPath)]);
  const report = JSON.parse(stdout);
  assert.equal(report.files.length, cases.length);
  let invalid = 0;
  cases.forEach((c, i) => {
    const native = report.files[i];
    const chars = check(c.policy, { encoding: 'chars' });
    assert.equal(chars.valid, native.valid, c.name);
    assert.deepEqual(chars.diagnostics.map(pick), native.diagnostics, c.name);
    // In UTF-16 only columns after non-BMP characters differ from the CLI's.
    const utf16 = check(c.policy);
    assert.deepEqual(utf16.diagnostics.map((d) => [d.code, d.line, d.end_line, d.message]),
      native.diagnostics.map((d) => [d.code, d.line, d.end_line, d.message]), c.name);
    if (!native.valid) invalid++;
  });
  t.diagnostic(`check without inventory: ${cases.length} policies agree (${invalid} invalid)`);
  assert.ok(cases.length >= 700, `${cases.length} cases`);
  assert.ok(invalid > 0);
});

test('check with the case inventory: wasm and native agree on every visible policy', { skip }, async (t) => {
  let invalid = 0;
  await pool(cases, 2, async (c) => {
    const { code, stdout, stderr } = await cli(['check', '--format', 'json', '--inventory', c.inventoryPath, c.policyPath]);
    assert.ok(code === 0 || code === 1, `${c.name}: exit ${code}: ${stderr}`);
    const native = JSON.parse(stdout).files[0];
    const result = check(c.policy, { inventory: c.inventory, encoding: 'chars' });
    assert.equal(result.valid, native.valid, c.name);
    assert.deepEqual(result.diagnostics.map(pick), native.diagnostics, c.name);
    // The inventory as an object gives the same answer as its text.
    assert.deepEqual(check(c.policy, { inventory: JSON.parse(c.inventory), encoding: 'chars' }), result, c.name);
    c.valid = native.valid;
    if (!native.valid) invalid++;
  });
  t.diagnostic(`check with inventory: ${cases.length} policies agree (${invalid} invalid)`);
});

/** Queries for a case: between its first nodes, on a few ports and protocols. */
function queriesFor(c) {
  const named = c.nodes.filter((n) => n.ipv4 || n.ipv6).map((n) => n.name).slice(0, 3);
  const queries = [];
  for (const src of named) {
    for (const dst of named) {
      if (src === dst) continue;
      for (const [port, proto] of [[22, 'tcp'], [80, 'tcp'], [443, undefined], [53, 'udp']]) {
        queries.push(proto ? { src, dst: `${dst}:${port}`, proto } : { src, dst: `${dst}:${port}` });
      }
    }
  }
  // Addresses and subnet routes too: the first node's IPv4 and an address inside the first
  // advertised route.
  const withIp = c.nodes.find((n) => n.ipv4);
  const route = c.nodes.flatMap((n) => n.approved_routes ?? []).find((r) => /^\d+\.\d+\.\d+\.\d+\/(1[6-9]|2\d)$/.test(r));
  if (named[0] && withIp) queries.push({ src: named[0], dst: `${withIp.ipv4}:443` });
  if (named[0] && route) queries.push({ src: named[0], dst: `${route.split('/')[0].replace(/\.0$/, '.7')}:80` });
  return queries;
}

test('queries and reachability: wasm answers equal `query --batch` and `reach --from`', { skip }, async (t) => {
  // Every third valid case keeps the run short; that is still hundreds of policies.
  const sample = cases.filter((c) => c.valid && c.nodes.length >= 2).filter((_, i) => i % 3 === 0);
  let compared = 0;
  let allowed = 0;
  let reaches = 0;
  await pool(sample, 2, async (c) => {
    const queries = queriesFor(c);
    if (!queries.length) return;
    const batch = `${c.policyPath}.queries.jsonl`;
    writeFileSync(batch, queries.map((q) => JSON.stringify(q)).join('\n'));
    const native = await cli(['query', c.policyPath, '--inventory', c.inventoryPath, '--batch', batch]);
    assert.ok(native.code === 0 || native.code === 1, `${c.name}: exit ${native.code}: ${native.stderr}`);
    const answers = native.stdout.trim().split('\n').map((line) => JSON.parse(line));
    assert.equal(answers.length, queries.length, c.name);

    const parsed = Policy.parse(c.policy, { inventory: c.inventory, encoding: 'chars' });
    assert.equal(parsed.ok, true, c.name);
    const policy = parsed.policy;
    try {
      queries.forEach((q, i) => {
        const mine = policy.query(q);
        assert.equal(mine.error, undefined, `${c.name}: ${JSON.stringify(q)}`);
        const expected = answers[i];
        // One output model: the same object, field for field.
        assert.deepEqual(mine, expected, `${c.name}: ${JSON.stringify(q)}`);
        compared++;
        if (mine.allowed) allowed++;
      });

      const src = queries[0].src;
      const reach = await cli(['reach', c.policyPath, '--inventory', c.inventoryPath, '--from', src, '--format', 'json']);
      assert.equal(reach.code, 0, `${c.name}: ${reach.stderr}`);
      const listing = policy.reachableFrom(src);
      assert.equal(listing.ok, true, c.name);
      assert.deepEqual(listing.reach, JSON.parse(reach.stdout).entries, `${c.name}: reach --from ${src}`);
      reaches++;
    } finally {
      policy.free();
    }
  });
  t.diagnostic(`queries: ${compared} answers agree (${allowed} allowed) on ${sample.length} policies; ${reaches} reach listings agree`);
  assert.ok(compared > 1000, `${compared} queries compared`);
  assert.ok(allowed > 0 && allowed < compared);
});
