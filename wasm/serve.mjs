// A tiny static file server for the preview page (wasm/pkg/www after `bash wasm/build.sh`).
//
//   node wasm/serve.mjs [PORT]      serves on http://127.0.0.1:PORT/ (default 8080)
//
// The end-to-end test imports `serve` and listens on port 0. Only files under the root are
// served; `.wasm` goes out as `application/wasm`, which `WebAssembly.instantiateStreaming`
// requires.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.hujson': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

export const DEFAULT_ROOT = fileURLToPath(new URL('./pkg/www/', import.meta.url));

/** Serves `root` on 127.0.0.1:`port`; resolves to `{server, url}` once listening. */
export function serve(root = DEFAULT_ROOT, port = 0) {
  const base = resolve(root);
  const server = createServer(async (request, response) => {
    let path;
    try {
      path = decodeURIComponent(new URL(request.url, 'http://localhost').pathname);
    } catch {
      // A malformed escape (`/%E0%A4%A`, a URIError) is the client's mistake, not a reason to stop.
      response.writeHead(400, { 'content-type': 'text/plain' }).end('bad request: malformed URL');
      return;
    }
    const file = normalize(join(base, path.endsWith('/') ? `${path}index.html` : path));
    if (file !== base && !file.startsWith(base + sep)) {
      response.writeHead(403).end();
      return;
    }
    try {
      const body = await readFile(file);
      response.writeHead(200, {
        'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
        'cache-control': 'no-store',
      });
      response.end(request.method === 'HEAD' ? undefined : body);
    } catch {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    }
  });
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const { port: actual } = server.address();
      resolvePromise({ server, url: `http://127.0.0.1:${actual}/` });
    });
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const port = Number(process.argv[2] ?? 8080);
  const { url } = await serve(DEFAULT_ROOT, port);
  console.log(`preview page: ${url} (Ctrl-C to stop)`);
}
