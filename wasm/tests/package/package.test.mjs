// The npm package as a user gets it: `npm pack` (scripts/npm-pack.sh) makes the tarball, which
// is installed (offline) into a scratch project outside the repository, then used from Node
// (require and import), type-checked with tsc, and bundled by esbuild into a page that is not
// ours (a CI provider's settings page) that embeds <tailpolicy-preview>; Playwright drives the
// page in Debian's Chromium. Saves target/tailpolicy-preview-element.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

import { serve } from '../../serve.mjs';
import { DEPOT_POLICY, ROOT, workspaceVersion } from '../js/helpers.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const BIN = join(ROOT, 'node_modules', '.bin');

let project;
let server;
let url;
let browser;
let page;
const requests = [];
const pageErrors = [];

function run(cmd, args, cwd = project) {
  try {
    return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    throw new Error(`${cmd} ${args.join(' ')}\n${error.stdout}${error.stderr}`);
  }
}
const escapeHtml = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

// The host page: its own fonts, colours and layout; the preview is one tag in its form.
const HOST_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Acme CI · Project settings · Tailscale</title>
<link rel="icon" href="data:,">
<style>
  body { font-family: "DejaVu Serif", Georgia, serif; color: rgb(34, 51, 85); background: rgb(253, 246, 227); margin: 0; }
  header { background: rgb(34, 51, 85); color: rgb(253, 246, 227); padding: 12px 24px; font-size: 20px; }
  main { max-width: 760px; margin: 24px auto; padding: 0 24px; font-size: 15px; }
  fieldset { border: 1px solid rgb(180, 170, 150); border-radius: 8px; padding: 16px 20px; }
  legend { font-weight: bold; }
  .row { margin: 8px 0 14px; }
  tailpolicy-preview { --tailpolicy-allowed: rgb(0, 120, 70); margin-top: 8px; }
</style>
</head>
<body>
<header>Acme CI — acme/web-app</header>
<main>
  <h1>Tailscale</h1>
  <p>Runners join your tailnet as ephemeral nodes. Check your policy before the next build.</p>
  <form onsubmit="return false">
    <fieldset>
      <legend>Network access</legend>
      <div class="row"><label>Auth key <input id="authkey" type="password" value="tskey-example"></label></div>
      <tailpolicy-preview id="preview" tag="tag:depot-runner" destination="database:5432" editable>${escapeHtml(DEPOT_POLICY)}</tailpolicy-preview>
      <div class="row"><button id="save" type="submit">Save</button></div>
    </fieldset>
  </form>
</main>
<script type="module" src="./main.js"></script>
</body>
</html>
`;

// The host page's script, bundled by esbuild from the installed package.
const MAIN_JS = `
import init, { check, version } from '@tailpolicy/wasm';
import { TailpolicyPreview } from '@tailpolicy/wasm/preview';
import wasmUrl from '@tailpolicy/wasm/tailpolicy_wasm_bg.wasm';

TailpolicyPreview.wasmUrl = wasmUrl;
window.verdicts = [];
document.addEventListener('verdictchange', (event) => window.verdicts.push(event.detail));
await init({ module_or_path: wasmUrl });
window.api = { version: version(), valid: check('{"acls": []}').valid, invalid: check("{'acls': []}").diagnostics[0].code };
`;

before(async () => {
  assert.ok(existsSync(join(ROOT, 'wasm/pkg/web/tailpolicy_wasm_bg.wasm')), 'run `bash wasm/build.sh` first');
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: run scripts/bootstrap.sh`);
  project = mkdtempSync(join(tmpdir(), 'tailpolicy-npm-'));
  const tarball = run('bash', [join(ROOT, 'scripts/npm-pack.sh'), join(project, 'pack')], ROOT).trim().split('\n').at(-1);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'acme-settings', private: true, type: 'module' }));
  run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--silent', tarball]);
});

after(async () => {
  await browser?.close();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve()));
  if (project) rmSync(project, { recursive: true, force: true });
});

test('the tarball holds the package: version from the crate, both builds, the element, the licences', () => {
  const installed = join(project, 'node_modules/@tailpolicy/wasm');
  const pkg = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
  assert.equal(pkg.name, '@tailpolicy/wasm');
  assert.equal(pkg.version, workspaceVersion());
  for (const file of ['pkg/web/tailpolicy_wasm_bg.wasm', 'pkg/node/tailpolicy_wasm_bg.wasm', 'element/tailpolicy-preview.js',
    'element/tailpolicy-preview.d.ts', 'LICENSE-MIT', 'LICENSE-APACHE', 'README.md']) {
    assert.ok(existsSync(join(installed, file)), file);
  }
  // Nothing of the crate or the tests.
  assert.ok(!existsSync(join(installed, 'src')) && !existsSync(join(installed, 'tests')) && !existsSync(join(installed, 'Cargo.toml')));
});

test('Node: require and import of the installed package', () => {
  const policy = JSON.stringify(DEPOT_POLICY);
  const cjs = run('node', ['-e', `
    const { check, Policy, version } = require('@tailpolicy/wasm');
    const parsed = Policy.parse(${policy});
    const answer = parsed.policy.query({ src: 'tag:depot-runner', dst: 'database:5432' });
    console.log(JSON.stringify({ version: version(), valid: check(${policy}).valid, allowed: answer.allowed, why: answer.explanation }));
  `]);
  assert.deepEqual(JSON.parse(cjs), { version: workspaceVersion(), valid: true, allowed: true, why: 'allowed by acls[0]' });
  const esm = run('node', ['--input-type=module', '-e', `
    import { check, version } from '@tailpolicy/wasm';
    import * as node from '@tailpolicy/wasm/node';
    console.log(JSON.stringify({ version: version(), code: check("{'acls': []}").diagnostics[0].code, same: node.version === version }));
  `]);
  assert.deepEqual(JSON.parse(esm), { version: workspaceVersion(), code: 'E001', same: true });
});

test('TypeScript resolves the types of every entry point', () => {
  writeFileSync(join(project, 'usage.ts'), `
    import { check, Policy, type QueryResult } from '@tailpolicy/wasm';
    import type { PreviewVerdict, TailpolicyPreview } from '@tailpolicy/wasm/preview';
    const valid: boolean = check('{}').valid;
    const parsed = Policy.parse('{}');
    if (parsed.ok) { const r: QueryResult = parsed.policy.query({ src: 'tag:a', dst: 'b:1' }); void r; }
    declare const el: TailpolicyPreview;
    el.addEventListener('verdictchange', (e) => { const v: PreviewVerdict = e.detail; void v.state; });
    const state: PreviewVerdict['state'] | undefined = el.verdict?.state;
    void valid; void state;
  `);
  run(join(BIN, 'tsc'), ['--noEmit', '--strict', '--skipLibCheck', 'false', '--module', 'nodenext', '--moduleResolution', 'nodenext',
    '--target', 'es2022', '--lib', 'es2022,esnext.disposable,dom', 'usage.ts']);
});

test('esbuild bundles the package into a page that is not ours', async () => {
  mkdirSync(join(project, 'src'));
  mkdirSync(join(project, 'dist'));
  writeFileSync(join(project, 'src/main.js'), MAIN_JS);
  writeFileSync(join(project, 'dist/index.html'), HOST_PAGE);
  run(join(BIN, 'esbuild'), ['src/main.js', '--bundle', '--format=esm', '--platform=browser', '--target=es2022',
    '--loader:.wasm=file', '--outdir=dist', '--log-level=warning']);
  const files = readdirSync(join(project, 'dist')).sort();
  assert.ok(files.some((f) => /^tailpolicy_wasm_bg-.*\.wasm$/.test(f)), files.join(' '));

  ({ server, url } = await serve(join(project, 'dist'), 0));
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  page = await browser.newPage({ viewport: { width: 900, height: 760 } });
  page.on('request', (request) => requests.push(request.url()));
  page.on('pageerror', (error) => pageErrors.push(String(error)));
  page.on('console', (message) => { if (message.type() === 'error') pageErrors.push(message.text()); });
  await page.goto(url);
  await page.waitForFunction(() => window.api !== undefined);
  assert.deepEqual(await page.evaluate(() => window.api), { version: workspaceVersion(), valid: true, invalid: 'E001' });
});

const shadowText = (selector) => page.$eval('#preview', (el, s) => el.shadowRoot.querySelector(s).textContent, selector);

test('<tailpolicy-preview>: the verdict for the runner tag, with an event', async () => {
  await page.waitForSelector('#preview[state="allowed"]', { timeout: 15000 });
  assert.equal(await shadowText('.text'), 'Allowed: tag:depot-runner → database:5432 (tcp)');
  assert.equal(await shadowText('.why'), 'allowed by acls[0]');
  const verdicts = await page.evaluate(() => window.verdicts);
  assert.equal(verdicts.at(-1).state, 'allowed');
  assert.deepEqual(verdicts.at(-1).matches.map((m) => `${m.section}[${m.index}]`), ['acls[0]']);
  assert.equal(await page.$eval('#preview', (el) => el.verdict.explanation), 'allowed by acls[0]');
  // The live region announces changes to screen readers.
  assert.equal(await page.$eval('#preview', (el) => el.shadowRoot.querySelector('.verdict').getAttribute('role')), 'status');
});

test('<tailpolicy-preview>: inherits the host page\'s font and colour', async () => {
  const styles = await page.$eval('#preview', (el) => {
    const body = getComputedStyle(document.body);
    const inner = getComputedStyle(el.shadowRoot.querySelector('.text'));
    const mark = getComputedStyle(el.shadowRoot.querySelector('.mark'));
    return { bodyFont: body.fontFamily, font: inner.fontFamily, bodyColor: body.color, color: inner.color, mark: mark.color };
  });
  assert.equal(styles.font, styles.bodyFont);
  assert.equal(styles.color, styles.bodyColor);
  // The host's custom property sets the allowed mark's colour.
  assert.equal(styles.mark, 'rgb(0, 120, 70)');
});

test('<tailpolicy-preview>: keyboard only: Tab to the destination, type, open the details', async () => {
  await page.focus('#authkey');
  await page.keyboard.press('Tab');
  const focused = await page.$eval('#preview', (el) => el.shadowRoot.activeElement?.tagName);
  assert.equal(focused, 'INPUT');
  await page.keyboard.press('Control+A');
  await page.keyboard.type('database:22');
  await page.waitForSelector('#preview[state="denied"]');
  assert.equal(await shadowText('.text'), 'Denied: tag:depot-runner → database:22 (tcp)');
  assert.match(await shadowText('.why'), /port\(s\) 5432 but not 22/);
  assert.equal(await page.getAttribute('#preview', 'destination'), 'database:22');
  const states = (await page.evaluate(() => window.verdicts)).map((v) => `${v.state} ${v.dst}`);
  assert.equal(states.at(-1), 'denied database:22');
  await page.keyboard.type('', {}); // no change, no event
  assert.equal((await page.evaluate(() => window.verdicts)).length, states.length);

  // Back to an allowed port, then Tab to the details and open them with Enter.
  await page.keyboard.press('Control+A');
  await page.keyboard.type('database:5432');
  await page.waitForSelector('#preview[state="allowed"]');
  await page.keyboard.press('Tab');
  assert.equal(await page.$eval('#preview', (el) => el.shadowRoot.activeElement?.tagName), 'SUMMARY');
  await page.keyboard.press('Enter');
  assert.equal(await page.$eval('#preview', (el) => el.shadowRoot.querySelector('details').open), true);
  assert.match(await shadowText('details ul'), /acls\[0\] at line \d+, column \d+/);
  await page.screenshot({ path: join(ROOT, 'target', 'tailpolicy-preview-element.png'), fullPage: true });
});

test('<tailpolicy-preview>: the policy as a property, attributes set by the host page', async () => {
  await page.$eval('#preview', (el) => { el.policy = "{'acls': []}"; });
  await page.waitForSelector('#preview[state="invalid"]');
  assert.equal(await shadowText('.text'), 'The policy has an error');
  const last = (await page.evaluate(() => window.verdicts)).at(-1);
  assert.equal(last.state, 'invalid');
  assert.equal(last.diagnostics[0].code, 'E001');
  await page.screenshot({ path: join(ROOT, 'target', 'tailpolicy-preview-element-invalid.png') });

  // Back to the child text, and a tag the policy does not know.
  await page.$eval('#preview', (el) => { el.policy = null; el.setAttribute('tag', 'tag:nobody'); });
  await page.waitForSelector('#preview[state="error"]');
  assert.match(await shadowText('.why'), /tag:nobody/);
  await page.$eval('#preview', (el) => el.setAttribute('tag', 'tag:depot-runner'));
  await page.waitForSelector('#preview[state="allowed"]');
});

test('no request leaves the page\'s own origin, and no page error', () => {
  assert.ok(requests.length > 0);
  const foreign = requests.filter((r) => !r.startsWith(url));
  assert.deepEqual(foreign, []);
  // The page, its bundle and the module: nothing else.
  const paths = [...new Set(requests.map((r) => new URL(r).pathname))].sort();
  assert.equal(paths.length, 3, paths.join(' '));
  assert.deepEqual(pageErrors, []);
});
