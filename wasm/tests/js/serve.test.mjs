// The preview page's static server: a malformed URL is answered 400, and the server goes on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { serve } from '../../serve.mjs';

/** GET `path` sent as written (fetch would normalise it); resolves to the status code. */
function get(url, path) {
  return new Promise((resolve, reject) => {
    request(new URL(url), { path }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode));
    }).on('error', reject).end();
  });
}

test('a malformed URL gets 400 and the server keeps serving', async () => {
  const root = mkdtempSync(join(tmpdir(), 'tailpolicy-serve-'));
  writeFileSync(join(root, 'index.html'), '<!doctype html>');
  const { server, url } = await serve(root, 0);
  try {
    assert.equal(await get(url, '/%E0%A4%A'), 400);
    assert.equal(await get(url, '/%'), 400);
    assert.equal(await get(url, '/'), 200);
    assert.equal(await get(url, '/missing.js'), 404);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});
