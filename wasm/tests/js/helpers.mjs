// Shared by the Node tests: the repository layout and the built modules.
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const PKG = join(ROOT, 'wasm', 'pkg');
export const DEPOT_POLICY = readFileSync(join(ROOT, 'fixtures/depot/policy.hujson'), 'utf8');
export const DEPOT_INVENTORY = readFileSync(join(ROOT, 'fixtures/depot/inventory.json'), 'utf8');

if (!existsSync(join(PKG, 'node', 'tailpolicy_wasm.js'))) {
  throw new Error('wasm/pkg is missing: run `bash wasm/build.sh` first');
}

/** The `--target nodejs` build (CommonJS). */
export const wasm = createRequire(import.meta.url)(join(PKG, 'node', 'tailpolicy_wasm.js'));

/** The Cargo target directory (as cargo resolves it for this repository). */
export function targetDir() {
  const dir = process.env.CARGO_TARGET_DIR || 'target';
  return resolve(ROOT, dir);
}

/** The workspace version from Cargo.toml. */
export function workspaceVersion() {
  const toml = readFileSync(join(ROOT, 'Cargo.toml'), 'utf8');
  const section = toml.slice(toml.indexOf('[workspace.package]'));
  return /^version\s*=\s*"([^"]+)"/m.exec(section)[1];
}
