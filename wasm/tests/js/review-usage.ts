// Type-checked (never run) by review.test.mjs with `tsc --strict`: the review module's
// declarations let callers use `diff` and `convertInventory` without casts, and reject misuse.
import init, { convertInventory, diff } from '../../pkg/review/web/tailpolicy_wasm_review.js';
import type { ConvertResponse, Diagnostic, DiffFocus, DiffResponse, DiffRow, DiffRule } from '../../pkg/review/web/tailpolicy_wasm_review.js';

export async function usage(before: string, after: string, files: string[]): Promise<string[]> {
  await init();
  const out: string[] = [];
  const result: DiffResponse = diff(before, after, { focus: 'tag:depot-runner', encoding: 'utf16', oldName: 'main' });
  if (!result.ok) {
    for (const failure of result.failures) {
      const side: 'old' | 'new' | 'inventory' | 'options' = failure.side;
      const first: Diagnostic | undefined = failure.diagnostics[0];
      out.push(`${side} ${failure.name} ${first?.line ?? 0} ${first?.message ?? ''}`);
    }
    return out;
  }
  const rows: DiffRow[] = [...result.diff.added, ...result.diff.removed];
  for (const row of rows) {
    switch (row.kind) {
      case 'network': {
        const rules: DiffRule[] = row.new_rules;
        out.push(`${row.src.join()} ${row.dst.join()} ${row.protos.join()} ${row.ports.join()} ${row.via?.join() ?? ''} ${rules[0]?.label ?? ''}`);
        break;
      }
      case 'ssh': {
        const verdict: 'accept' | 'check' | 'deny' = row.new;
        out.push(`${row.login} ${verdict} ${row.new_rule?.line ?? ''}`);
        break;
      }
      case 'owner':
        out.push(`${row.section} ${row.target} ${row.who.join()} ${row.new_at?.line ?? ''}`);
        break;
    }
  }
  const focus: DiffFocus | null = result.focus;
  if (focus) out.push(`${focus.selector} ${focus.widens} ${focus.added.length} ${focus.addrs.join()}`);
  diff(before, after);
  diff(before, after, { inventory: { nodes: [] } });

  const converted: ConvertResponse = convertInventory(files, files.map((_, i) => `file ${i}`));
  if (converted.ok) {
    out.push(...converted.inventory.nodes.map((n) => `${n.name} ${n.ipv4 ?? ''} ${(n.tags ?? []).join()}`));
    out.push(...converted.files.map((f) => `${f.name}: ${f.shape}`));
    out.push(...converted.warnings.map((w) => `${w.file}: ${w.code} ${w.message}`));
  } else {
    out.push(`${converted.file}: ${converted.diagnostics.map((d) => d.message).join()}`);
  }
  convertInventory(files);

  // @ts-expect-error: only the three encodings exist
  diff(before, after, { encoding: 'ucs2' });
  // @ts-expect-error: the texts are strings
  convertInventory([1, 2]);
  // @ts-expect-error: the diff exists only when ok is true
  diff(before, after).diff;
  return out;
}
