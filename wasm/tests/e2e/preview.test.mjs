// End to end: the preview page (wasm/pkg/www) in Debian's Chromium, driven by playwright-core,
// served from 127.0.0.1 by wasm/serve.mjs. Saves screenshots under target/: preview.png
// (the Depot verdict), preview-denied.png, preview-error.png and preview-changes.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

import { serve } from '../../serve.mjs';
import { DEPOT_POLICY, PKG, ROOT } from '../js/helpers.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SHOTS = join(ROOT, 'target');

let server;
let url;
let browser;
let page;
const foreignRequests = [];
const reviewRequests = [];
const pageErrors = [];

before(async () => {
  assert.ok(existsSync(join(PKG, 'www', 'index.html')), 'wasm/pkg/www is missing: run `bash wasm/build.sh`');
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: run scripts/bootstrap.sh`);
  ({ server, url } = await serve(join(PKG, 'www'), 0));
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on('request', (request) => {
    if (!request.url().startsWith(url) && !request.url().startsWith('data:')) foreignRequests.push(request.url());
    if (request.url().includes('tailpolicy_wasm_review')) reviewRequests.push(request.url());
  });
  page.on('pageerror', (error) => pageErrors.push(String(error)));
  page.on('console', (message) => {
    if (message.type() === 'error') pageErrors.push(message.text());
  });
  await page.goto(url);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 15000 });
});

after(async () => {
  await browser?.close();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve()));
});

/** Replaces the editor's text as a user would (an input event), then waits for the verdict. */
async function edit(text, state) {
  await page.fill('#policy', text);
  await page.waitForSelector(`#verdict[data-state="${state}"]`, { timeout: 5000 });
}

test('the page loads the Depot example and shows the verdict: allowed by acls[0]', async () => {
  assert.equal(await page.inputValue('#policy'), DEPOT_POLICY);
  assert.equal(await page.inputValue('#src'), 'tag:depot-runner');
  assert.equal(await page.inputValue('#dst'), 'database:5432');
  await page.waitForSelector('#verdict[data-state="allowed"]');
  const verdict = await page.textContent('#verdict');
  assert.match(verdict, /Allowed: tag:depot-runner → database:5432 \(tcp\)/);
  assert.match(verdict, /allowed by acls\[0\]/);
  // The rule named in the explanation is a button that scrolls to it.
  assert.deepEqual(await page.$$eval('#verdict .ruleref', (els) => els.map((e) => e.textContent)), ['acls[0]']);
  assert.equal(await page.getAttribute('#status', 'data-state'), 'valid');

  // The rule's lines are highlighted in the editor, and only those.
  const lines = DEPOT_POLICY.split('\n');
  const first = lines.findIndex((l) => /"dst":\s+\["database:5432"\]/.test(l));
  const highlighted = await page.$$eval('#backdrop .ln.hl-rule', (els) => els.map((e) => Number(e.dataset.line)));
  assert.ok(highlighted.includes(first + 1), `line ${first + 1} in ${highlighted}`);
  assert.equal(lines[highlighted[0] - 1].trim(), '{');
  assert.equal(lines[highlighted.at(-1) - 1].trim(), '},');
  assert.ok(highlighted.length >= 5 && highlighted.length <= 7, String(highlighted));
  assert.match(await page.textContent('#backdrop'), /acls\[0\] allows it/);

  // Everything the runner reaches: Postgres and the office subnet through its router.
  const rows = await page.$$eval('#reach-table tbody tr', (trs) => trs.map((tr) => tr.innerText.replace(/\s+/g, ' ').trim()));
  assert.equal(rows.length, 2, rows.join('\n'));
  assert.match(rows.join('\n'), /database 5432 tcp acls\[0\]/);
  assert.match(rows.join('\n'), /office-router 192\.0\.2\.0\/24 443 tcp acls\[1\]/);

  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, 'preview.png'), fullPage: true });
});

test('an edit that takes the runner off the rule turns the verdict to denied', async () => {
  // acls[0] is the runner's rule to Postgres: give it another source.
  const edited = DEPOT_POLICY.replace(/("src":\s+)\["tag:depot-runner"\](,\s+"proto":\s+"tcp",\s+"dst":\s+\["database:5432"\])/,
    '$1["tag:monitoring"]$2');
  assert.notEqual(edited, DEPOT_POLICY);
  await edit(edited, 'denied');
  const verdict = await page.textContent('#verdict');
  assert.match(verdict, /Denied: tag:depot-runner → database:5432/);
  assert.match(verdict, /closest: (acls|grants)\[\d\] covers the destination but not the source tag:depot-runner/);
  assert.equal(await page.$$eval('#backdrop .ln.hl-rule', (els) => els.length), 0);
  // The policy's own tests now fail, and say so at the test that expects access.
  const codes = await page.$$eval('#diagnostics li', (lis) => lis.map((li) => li.dataset.code));
  assert.ok(codes.includes('E403'), codes.join());
  const reach = await page.textContent('#reach');
  assert.doesNotMatch(reach, /database/);
  await page.screenshot({ path: join(SHOTS, 'preview-denied.png'), fullPage: true });
});

test('a broken edit shows the diagnostic at its line, in the editor and the list', async () => {
  const lines = DEPOT_POLICY.split('\n');
  const at = lines.findIndex((l) => l.includes('"hosts": {'));
  lines.splice(at + 1, 0, '    database-replica: "100.101.102.104",');
  const broken = lines.join('\n');
  const line = at + 2;
  await edit(broken, 'invalid');
  assert.equal(await page.getAttribute('#status', 'data-state'), 'invalid');
  const item = page.locator('#diagnostics li').first();
  assert.equal(await item.getAttribute('data-code'), 'E001');
  assert.equal(Number(await item.getAttribute('data-line')), line);
  const text = await item.innerText();
  assert.match(text, new RegExp(`line ${line}, col 5`));
  assert.match(text, /expected a double-quoted object key or `}`, found `database-replica`/);
  // In the editor: the gutter marks the line and the message sits on it.
  assert.equal(await page.getAttribute(`#gutter .num[data-line="${line}"]`, 'class'), 'num error');
  assert.match(await page.textContent(`#backdrop .ln[data-line="${line}"] .lens`), /E001: expected a double-quoted/);
  assert.match(await page.textContent('#verdict'), /No verdict: the policy has errors/);
  // Clicking the diagnostic puts the caret on it.
  await item.click();
  const caret = await page.$eval('#policy', (el) => el.selectionStart);
  assert.equal(broken.slice(caret, caret + 16), 'database-replica');
  await page.screenshot({ path: join(SHOTS, 'preview-error.png'), fullPage: true });
});

test('the fields drive the query, and a fixed policy gets its verdict back', async () => {
  await edit(DEPOT_POLICY, 'allowed');
  await page.fill('#dst', 'database:22');
  await page.waitForSelector('#verdict[data-state="denied"]');
  assert.match(await page.textContent('#verdict'), /port\(s\) 5432 but not 22/);
  await page.fill('#dst', 'nowhere:22');
  await page.waitForSelector('#verdict[data-state="error"]');
  assert.match(await page.textContent('#verdict'), /`nowhere` names nothing/);
  await page.fill('#src', 'tag:monitoring');
  await page.fill('#dst', 'database:9187');
  await page.waitForSelector('#verdict[data-state="allowed"]');
  assert.match(await page.textContent('#reach-src'), /tag:monitoring/);
  await page.fill('#src', 'tag:depot-runner');
  await page.fill('#dst', 'database:5432');
  await page.waitForSelector('#verdict[data-state="allowed"]');
});

test('a broken inventory is reported in the inventory panel; an empty one means new devices', async () => {
  const inventory = await page.inputValue('#inventory');
  await page.click('#inventory-details summary');
  await page.fill('#inventory', '{\n  "nodes": 1\n}');
  await page.waitForSelector('#verdict[data-state="invalid"]');
  assert.match(await page.textContent('#verdict'), /the inventory is not valid/);
  const item = page.locator('#inventory-diagnostics li').first();
  assert.equal(await item.getAttribute('data-code'), 'INVENTORY');
  assert.match(await item.innerText(), /inventory line 2, col 12/);
  assert.equal(await page.$$eval('#diagnostics li', (lis) => lis.length), 0);
  // The policy's badge counts the policy's diagnostics, not the inventory's.
  assert.notEqual(await page.getAttribute('#status', 'data-state'), 'invalid');
  // Without an inventory the runner is a new device; the verdict holds, but no node is listed.
  await page.fill('#inventory', '');
  await page.waitForSelector('#verdict[data-state="allowed"]');
  // ... on condition that the devices exist: the page names them.
  const kinds = await page.$$eval('#verdict .conditions li', (lis) => lis.map((li) => li.dataset.kind));
  assert.deepEqual(kinds, ['device', 'device']);
  assert.match(await page.textContent('#verdict'), /On condition that:.*`100\.101\.102\.103`/s);
  // The listing names what the rules grant, with the conditions.
  await page.waitForSelector('#reach-table');
  assert.match(await page.textContent('#reach'), /database[\s\S]*if a router for `192\.0\.2\.0\/24` is approved/);
  await page.fill('#inventory', inventory);
  await page.waitForSelector('#reach-table');
});

test('the changes view loads the review module on first use and shows the row an edit adds', async () => {
  assert.deepEqual(reviewRequests, [], 'the review module is not loaded before it is needed');
  await edit(DEPOT_POLICY, 'allowed');
  await page.click('#changes-details summary');
  await page.waitForSelector('#changes[data-state="unchanged"]', { timeout: 15000 });
  assert.ok(reviewRequests.some((r) => r.endsWith('.wasm')), reviewRequests.join());
  assert.match(await page.textContent('#changes'), /No change in access/);
  // Widen the runner's Postgres rule to every port of the database.
  const widened = DEPOT_POLICY.replace(/("src":\s+\["tag:depot-runner"\],\s+"proto":\s+"tcp",\s+"dst":\s+\[)"database:5432"\]/,
    '$1"database:*"]');
  assert.notEqual(widened, DEPOT_POLICY);
  await edit(widened, 'allowed');
  await page.waitForSelector('#changes[data-state="changed"] #changes-table tr.added');
  const rows = await page.$$eval('#changes-table tr.added', (trs) => trs.map((tr) => tr.innerText.replace(/\s+/g, ' ').trim()));
  assert.ok(rows.some((r) => /tag:depot-runner → .*database.* tcp .*acls\[0\]/.test(r)), rows.join('\n'));
  assert.match(await page.textContent('#changes .summary'), /widens access for tag:depot-runner/);
  // The added row's rule is in the editor's text: its button puts the caret on it.
  await page.locator('#changes-table tr.added .ruleref').first().click();
  const caret = await page.$eval('#policy', (el) => el.selectionStart);
  assert.equal(widened.slice(caret).trimStart()[0], '{');
  await page.screenshot({ path: join(SHOTS, 'preview-changes.png'), fullPage: true });
  // Another source: the runner's row is not about it.
  await page.fill('#changes-src', 'tag:monitoring');
  await page.waitForFunction(() => /No row concerns this source/.test(document.querySelector('#changes').textContent));
  assert.match(await page.textContent('#changes .summary'), /0 for tag:monitoring\. No new access for tag:monitoring/);
  await page.fill('#changes-src', 'tag:depot-runner');
  await page.waitForSelector('#changes-table tr.added');
  // Marking the edit as the baseline: nothing changes any more; going back removes the row.
  await page.click('#baseline-set');
  await page.waitForSelector('#changes[data-state="unchanged"]');
  await edit(DEPOT_POLICY, 'allowed');
  await page.waitForSelector('#changes-table tr.removed');
  await page.click('#baseline-set');
  await page.waitForSelector('#changes[data-state="unchanged"]');
  // A broken edit: the changes view says which side, the badge is the policy's.
  await page.fill('#policy', DEPOT_POLICY.replace(/\}\s*$/, ''));
  await page.waitForSelector('#changes[data-state="failed"] .failure[data-side="new"]');
  await edit(DEPOT_POLICY, 'allowed');
  await page.waitForSelector('#changes[data-state="unchanged"]');
  await page.click('#changes-details summary');
});

test('a `tailscale status --json` file is converted, and queries use it', async () => {
  const inventory = await page.inputValue('#inventory');
  await page.click('#inventory-details summary');
  await page.setInputFiles('#inventory-files', join(ROOT, 'fixtures/inventories/depot/status.json'));
  await page.waitForFunction(() => /Converted status\.json/.test(document.querySelector('#inventory-note').textContent));
  assert.match(await page.textContent('#inventory-note'), /status\.json \(`tailscale status --json`\)/);
  const converted = JSON.parse(await page.inputValue('#inventory'));
  assert.ok(converted.nodes.some((n) => n.name === 'depot-runner-7f3a'), JSON.stringify(converted.nodes));
  // A node only the file names answers as a source.
  await page.fill('#src', 'depot-runner-7f3a');
  await page.waitForFunction(() => /depot-runner-7f3a → database:5432/.test(document.querySelector('#verdict').textContent));
  assert.equal(await page.getAttribute('#verdict', 'data-state'), 'allowed');
  await page.waitForSelector('#reach-table');
  // The listing names the file's nodes (the subnet router by its name).
  assert.match(await page.textContent('#reach'), /database[\s\S]*office-router/);
  await page.fill('#src', 'tag:depot-runner');
  await page.waitForSelector('#verdict[data-state="allowed"]');
  // Several files at once are merged.
  await page.setInputFiles('#inventory-files', ['api-devices.json', 'api-users.json'].map((f) => join(ROOT, 'fixtures/inventories/depot', f)));
  await page.waitForFunction(() => /Converted api-devices\.json .*api-users\.json/.test(document.querySelector('#inventory-note').textContent));
  // A file no shape fits: named in the inventory panel; the policy's badge does not count it.
  await page.setInputFiles('#inventory-files', { name: 'notes.json', mimeType: 'application/json', buffer: Buffer.from('{"hello": 1}') });
  await page.waitForSelector('#inventory-note[data-state="error"]');
  assert.match(await page.textContent('#inventory-note'), /^notes\.json: not an inventory tailpolicy reads/);
  assert.equal(await page.getAttribute('#status', 'data-state'), 'valid');
  await page.fill('#inventory', inventory);
  await page.waitForSelector('#verdict[data-state="allowed"]');
});

test('the page works offline: no request leaves 127.0.0.1, and no errors', () => {
  assert.deepEqual(foreignRequests, []);
  assert.deepEqual(pageErrors, []);
});
