// Times the WASM module's calls in Node: check, Policy.parse (parse + compile), query and
// reachableFrom, on the Depot example (with its inventory) and on the ~1 MB generated policy
// that `benches/benches/embed.rs` times natively. Prints one line per call, median time per
// call, and with --json a JSON object.
//
//   bash wasm/build.sh && node wasm/bench/bench.mjs [--json]
//
// The large policy comes from `cargo run --release -p tailpolicy-benches --example
// generate_policy -- 1000000` (the same bytes as the native bench).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PKG = process.env.TAILPOLICY_WASM_PKG || join(ROOT, 'wasm/pkg/node');
const { check, Policy } = createRequire(import.meta.url)(join(PKG, 'tailpolicy_wasm.js'));

const DEPOT = readFileSync(join(ROOT, 'fixtures/depot/policy.hujson'), 'utf8');
const DEPOT_INVENTORY = readFileSync(join(ROOT, 'fixtures/depot/inventory.json'), 'utf8');
const LARGE = execFileSync('cargo', ['run', '-q', '--release', '--locked', '-p', 'tailpolicy-benches',
  '--example', 'generate_policy', '--', '1000000'], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20 });

/** Median time per call in ms: warm up, then 20 samples of enough calls to take ≥ 50 ms. */
function time(fn) {
  const warmUntil = performance.now() + 500;
  let calls = 0;
  do {
    fn();
    calls++;
  } while (performance.now() < warmUntil || calls < 3);
  const once = 500 / calls;
  const perSample = Math.max(1, Math.ceil(50 / once));
  const samples = [];
  for (let s = 0; s < 20; s++) {
    const start = performance.now();
    for (let i = 0; i < perSample; i++) fn();
    samples.push((performance.now() - start) / perSample);
  }
  samples.sort((a, b) => a - b);
  return samples[samples.length >> 1];
}

function benchPolicy(name, text, options, src, dst) {
  const results = {};
  results.check = time(() => check(text, options));
  results.parse = time(() => {
    const parsed = Policy.parse(text, options);
    parsed.policy.free();
  });
  const parsed = Policy.parse(text, options);
  if (!parsed.ok) throw new Error(`${name}: ${JSON.stringify(parsed.diagnostics.slice(0, 3))}`);
  const policy = parsed.policy;
  const answer = policy.query({ src, dst, proto: 'tcp' });
  if (answer.error) throw new Error(`${name}: ${answer.error}`);
  results.query = time(() => policy.query({ src, dst, proto: 'tcp' }));
  results.reachableFrom = time(() => policy.reachableFrom(src));
  policy.free();
  return results;
}

const results = {
  depot: benchPolicy('depot', DEPOT, { inventory: DEPOT_INVENTORY }, 'tag:depot-runner', 'database:5432'),
  large_1mb: benchPolicy('large_1mb', LARGE, {}, 'group:eng-0', 'tag:db-1:5432'),
};

if (process.argv.includes('--json')) {
  console.log(JSON.stringify({ bytes: { depot: DEPOT.length, large_1mb: LARGE.length }, results }, null, 2));
} else {
  for (const [policy, calls] of Object.entries(results)) {
    for (const [call, ms] of Object.entries(calls)) {
      console.log(`${`${policy}/${call}`.padEnd(26)} ${ms < 1 ? `${(ms * 1000).toFixed(1)} µs` : `${ms.toFixed(2)} ms`}`);
    }
  }
}
