// Generated from crates/tailpolicy/src/output.rs by the test
// `output::tests::typescript_declarations_are_current`; do not edit.

export type Severity = "info" | "warning" | "error";

export type Diagnostic = { 
/**
 * Stable code: `E0xx` syntax ... `TPxxx` lints; `IO`, `INVENTORY` and `OPTIONS` for inputs.
 */
code: string, severity: Severity, message: string, help: string | null, line: number, column: number, end_line: number, end_column: number, };

export type CheckResult = { valid: boolean, diagnostics: Array<Diagnostic>, };

export type FileResult = { path: string, 
/**
 * False when the file has an error or could not be read.
 */
valid: boolean, diagnostics: Array<Diagnostic>, };

export type Section = "acls" | "grants";

export type RuleRef = { section: Section, index: number, 
/**
 * `acls[0]`: the section and index as written in messages.
 */
label: string, line: number, column: number, end_line: number, end_column: number, };

export type Condition = { 
/**
 * `device` (a device with the identity or address exists), `route` (a subnet router
 * carries the destination), `exit-node`, `role` (a user has an admin-console role) or
 * `owner` (the device at an address has an identity), `service`, or `posture` (the
 * source device meets a device posture the allowing rules ask for).
 */
kind: "device" | "route" | "exit-node" | "role" | "owner" | "service" | "posture", text: string, };

export type MemberAnswer = { member: string, allowed: boolean, conditions: Array<Condition>, explanation: string, };

export type QueryAnswer = { allowed: boolean, src: string, dst: string, proto: string, 
/**
 * The rules that allow the traffic, in policy order.
 */
matches: Array<RuleRef>, 
/**
 * `allowed by acls[0]`, or why it is denied and which rule came closest.
 */
explanation: string, 
/**
 * The node that receives the packet (the destination, or its subnet router).
 */
via_node: string | null, 
/**
 * What the tailnet must also have for the answer to hold.
 */
conditions: Array<Condition>, 
/**
 * For a source that stands for several identities: each one's answer; `allowed` is
 * true only when all are.
 */
members?: Array<MemberAnswer>, 
/**
 * Set when the query cannot be answered as written (an unknown name, a bad port).
 */
error?: string, };

export type SshAnswer = { 
/**
 * A session can open: a rule admits the login and port 22 is reachable.
 */
allowed: boolean, 
/**
 * `accept`, `check` or `deny`, from the `ssh` rules alone.
 */
verdict: string, src: string, dst: string, login: string, local_user: string | null, 
/**
 * Index in `ssh` of the deciding rule.
 */
rule: number | null, 
/**
 * Whether the network rules allow TCP port 22.
 */
network_allowed: boolean, explanation: string, conditions: Array<Condition>, members?: Array<MemberAnswer>, 
/**
 * Where the deciding rule starts and ends (absent without one).
 */
line?: number, column?: number, end_line?: number, end_column?: number, };

export type Reach = { 
/**
 * A node name, or an address range for sources that are not nodes.
 */
name: string, 
/**
 * For subnet or internet destinations: the range reached.
 */
addr: string | null, ports: Array<string>, protocols: Array<string>, 
/**
 * The rules that allow it, as a query names them.
 */
rules: Array<RuleRef>, 
/**
 * What the tailnet must also have for this line to hold (empty with a full inventory).
 */
conditions: Array<Condition>, 
/**
 * For a source standing for several identities: those this line holds for, if not all.
 */
members?: Array<string>, };

export type Block = "tests" | "sshTests";

export type TestResult = { block: Block, 
/**
 * Index of the entry in its block.
 */
index: number, src: string, 
/**
 * `accept`, `deny` (tests) or `accept`, `check`, `deny` (sshTests).
 */
expect: "accept" | "check" | "deny", 
/**
 * The destination (tests) or `dst login` (sshTests).
 */
target: string, passed: boolean, 
/**
 * The condition an undetermined assertion depends on (it then counts as passed).
 */
undetermined?: string, 
/**
 * What happened, with the rule that decided it.
 */
detail: string, line: number, column: number, end_line: number, end_column: number, };

export type TestReport = { 
/**
 * True when no assertion failed.
 */
passed: boolean, total: number, failures: number, assertions: Array<TestResult>, };
