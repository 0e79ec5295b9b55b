// Generated from crates/tailpolicy/src/diff/output.rs by the test
// `diff::output::tests::typescript_declarations_are_current`; do not edit.

export type DiffRule = { section: "acls" | "grants" | "ssh", index: number, label: string, line: number, column: number, };

export type DiffAt = { line: number, column: number, };

export type DiffExample = { src_ip: string, dst_ip: string, proto: number, port: number, };

export type DiffRow = { "kind": "network", src: Array<string>, dst: Array<string>, src_ips: Array<string>, dst_ips: Array<string>, protos: Array<number>, ports: Array<string>, via?: Array<string>, old_rules: Array<DiffRule>, new_rules: Array<DiffRule>, example: DiffExample, } | { "kind": "ssh", src: string, dst: string, src_nodes: Array<string>, dst_nodes: Array<string>, login: string, old: "accept" | "check" | "deny", new: "accept" | "check" | "deny", old_user: string | null, new_user: string | null, old_rule: DiffRule | null, new_rule: DiffRule | null, } | { "kind": "capability", src: Array<string>, dst: Array<string>, src_ips: Array<string>, dst_ips: Array<string>, dst_nodes: Array<string>, capability: string, 
/**
 * The JSON values gained or lost.
 */
values: Array<unknown>, 
/**
 * The capability itself is gained or lost, not only some values.
 */
whole: boolean, old_rules: Array<DiffRule>, new_rules: Array<DiffRule>, } | { "kind": "owner", section: string, target: string, who: Array<string>, old_at: DiffAt | null, new_at: DiffAt | null, };

export type DiffResult = { old: string, new: string, unchanged: boolean, 
/**
 * Compared over hypothetical devices (no inventory).
 */
symbolic: boolean, added: Array<DiffRow>, removed: Array<DiffRow>, };
