// Type-checked (never run) by types.test.mjs with `tsc --strict`: the declarations that
// wasm-bindgen generates let callers use the API without casts, and reject misuse.
import init, { check, Policy, version } from '../../pkg/web/tailpolicy_wasm.js';
import type { CheckResult, Diagnostic, Inventory, QueryResult, Reach, ReachResult, RuleRef, TestReport } from '../../pkg/web/tailpolicy_wasm.js';

export async function usage(text: string, inventory: Inventory): Promise<string[]> {
  await init();
  const out: string[] = [version()];
  const result: CheckResult = check(text, { inventory, encoding: 'utf16' });
  const first: Diagnostic | undefined = result.diagnostics[0];
  if (first) {
    const severity: 'error' | 'warning' | 'info' = first.severity;
    const help: string | null = first.help;
    out.push(`${first.code} ${severity} ${first.line}:${first.column}-${first.end_line}:${first.end_column} ${help ?? ''}`);
  }
  check(text);
  check(text, { inventory: JSON.stringify(inventory) });

  const parsed = Policy.parse(text, { inventory });
  if (!parsed.ok) {
    // Narrowed: only the failure has diagnostics.
    return parsed.diagnostics.map((d) => d.message);
  }
  const policy: Policy = parsed.policy;
  const answer: QueryResult = policy.query({ src: 'tag:depot-runner', dst: 'database:5432' });
  if (answer.error !== undefined) {
    const allowed: false = answer.allowed;
    out.push(`${allowed} ${answer.error}`);
  } else {
    const rules: RuleRef[] = answer.matches;
    const section: 'acls' | 'grants' | undefined = rules[0]?.section;
    out.push(`${answer.allowed} ${answer.explanation} ${section} ${answer.via_node ?? ''}`);
  }
  const listing: ReachResult = policy.reachableFrom('tag:depot-runner');
  if (listing.ok) {
    const reach: Reach[] = listing.reach;
    out.push(...reach.map((r) => `${r.name} ${r.addr ?? ''} ${r.ports.join(',')} ${r.protocols.join(',')}`));
  } else {
    out.push(listing.error);
  }
  const report: TestReport = policy.test();
  const expects: ('accept' | 'check' | 'deny')[] = report.assertions.map((a) => a.expect);
  out.push(`${report.passed} ${report.failures}/${report.total} ${expects.join(',')} ${rules0(report)}`);
  const to = policy.reachableTo('database:5432');
  out.push(String(to.ok));
  policy.free();

  // @ts-expect-error: a query needs src and dst
  policy.query({ src: 'tag:x' });
  // @ts-expect-error: only the three encodings exist
  check(text, { encoding: 'ucs2' });
  // @ts-expect-error: the handle exists only when ok is true
  Policy.parse(text).policy;
  return out;
}

function rules0(report: TestReport): string {
  const first = report.assertions[0];
  return first ? `${first.block}[${first.index}] ${first.line}:${first.column}-${first.end_line}:${first.end_column}` : '';
}
