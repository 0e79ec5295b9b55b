// The generated TypeScript declarations are precise: no `any`, and a strict type check of
// code that uses the whole API (usage.ts) passes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { PKG, ROOT } from './helpers.mjs';

test('the declarations never say `any`', () => {
  for (const target of ['web', 'node']) {
    const dts = readFileSync(join(PKG, target, 'tailpolicy_wasm.d.ts'), 'utf8');
    const code = dts.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
    assert.doesNotMatch(code, /\bany\b/, `${target}/tailpolicy_wasm.d.ts`);
    for (const name of ['CheckResult', 'ParseResult', 'QueryResult', 'ReachResult', 'Diagnostic', 'Inventory', 'RuleRef', 'TestReport']) {
      assert.match(dts, new RegExp(`export (interface|type) ${name}\\b`), `${target}: ${name}`);
    }
    assert.match(dts, /export function check\(policyText: string, options\?: Options\): CheckResult;/);
    assert.match(dts, /static parse\(policyText: string, options\?: Options\): ParseResult;/);
    assert.match(dts, /query\(request: QueryRequest\): QueryResult;/);
    assert.match(dts, /test\(\): TestReport;/);
  }
});

test('tsc --strict accepts a program that uses the whole API', () => {
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  assert.ok(existsSync(tsc), 'typescript is missing: run scripts/bootstrap.sh (npm ci)');
  try {
    execFileSync(process.execPath, [
      tsc, '--noEmit', '--strict', '--target', 'es2022', '--module', 'es2022', '--moduleResolution', 'bundler',
      '--lib', 'es2022,dom,esnext.disposable', '--skipLibCheck', 'false',
      join(ROOT, 'wasm', 'tests', 'js', 'usage.ts'),
    ], { cwd: ROOT, encoding: 'utf8', stdio: 'pipe' });
  } catch (error) {
    assert.fail(`tsc failed:\n${error.stdout}${error.stderr}`);
  }
});
