//! The output model every face serializes: the CLI's JSON, the WASM API and the faces to
//! come (the editor server, change review) print these types and no others.
//!
//! Positions are 1-based, end exclusive, computed by [`LineIndex::span`] in the encoding the
//! face asks for (characters in the CLI, UTF-16 code units in the browser). The TypeScript
//! declarations in `wasm/types.d.ts` are generated from these types (`ts-rs`, a dev
//! dependency: the test `typescript_declarations_are_current` writes them), so they cannot
//! drift.

use std::borrow::Cow;

use serde::Serialize;

use crate::compile::{Origin, Section};
use crate::diagnostic::{Diagnostic, Severity};
use crate::policy_tests::{Assertion, Block};
use crate::query::{Answer, Condition, MemberAnswer, Reach, SshAnswer};
use crate::span::{LineColumn, LineIndex, PositionEncoding, Span};

/// Where a thing is in a text; without a text (an unreadable file) both ends are 1:1.
fn positions(
    lines: Option<&LineIndex<'_>>,
    span: Option<Span>,
    encoding: PositionEncoding,
) -> (LineColumn, LineColumn) {
    match (lines, span) {
        (Some(lines), Some(span)) => lines.span(span, encoding),
        _ => {
            let start = LineColumn { line: 1, column: 1 };
            (start, start)
        }
    }
}

/// One problem, at its primary span.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename = "Diagnostic"))]
pub struct DiagnosticOutput<'a> {
    /// Stable code: `E0xx` syntax ... `TPxxx` lints; `IO`, `INVENTORY` and `OPTIONS` for inputs.
    pub code: &'static str,
    pub severity: Severity,
    pub message: Cow<'a, str>,
    pub help: Option<Cow<'a, str>>,
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
    pub end_column: u32,
}

impl<'a> DiagnosticOutput<'a> {
    /// `lines` is the index of the text the diagnostic points into, if there is one.
    pub fn new(
        diagnostic: &'a Diagnostic,
        lines: Option<&LineIndex<'_>>,
        encoding: PositionEncoding,
    ) -> Self {
        let span = diagnostic.labels.first().map(|label| label.span);
        let (start, end) = positions(lines, span, encoding);
        DiagnosticOutput {
            code: diagnostic.code,
            severity: diagnostic.severity,
            message: Cow::Borrowed(&diagnostic.message),
            help: diagnostic.help.as_deref().map(Cow::Borrowed),
            line: start.line,
            column: start.column,
            end_line: end.line,
            end_column: end.column,
        }
    }

    /// Every diagnostic of one text, the line index built once.
    pub fn all(text: &str, diagnostics: &'a [Diagnostic], encoding: PositionEncoding) -> Vec<Self> {
        let lines = LineIndex::new(text);
        diagnostics
            .iter()
            .map(|d| Self::new(d, Some(&lines), encoding))
            .collect()
    }

    /// The same diagnostic, no longer borrowing.
    pub fn into_owned(self) -> DiagnosticOutput<'static> {
        DiagnosticOutput {
            message: Cow::Owned(self.message.into_owned()),
            help: self.help.map(|h| Cow::Owned(h.into_owned())),
            ..self
        }
    }
}

/// The diagnostics of one text: `valid` when none is an error (the WASM `check` result).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename = "CheckResult"))]
pub struct CheckOutput<'a> {
    pub valid: bool,
    pub diagnostics: Vec<DiagnosticOutput<'a>>,
}

/// One file of `tailpolicy check --format json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename = "FileResult"))]
pub struct FileOutput<'a> {
    pub path: &'a str,
    /// False when the file has an error or could not be read.
    pub valid: bool,
    pub diagnostics: Vec<DiagnosticOutput<'a>>,
}

/// A rule of the policy and where it starts and ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct RuleRef {
    pub section: Section,
    pub index: usize,
    /// `acls[0]`: the section and index as written in messages.
    pub label: String,
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
    pub end_column: u32,
}

impl RuleRef {
    pub fn new(origin: &Origin, lines: &LineIndex<'_>, encoding: PositionEncoding) -> Self {
        let (start, end) = lines.span(origin.span, encoding);
        RuleRef {
            section: origin.section,
            index: origin.index,
            label: origin.label(),
            line: start.line,
            column: start.column,
            end_line: end.line,
            end_column: end.column,
        }
    }

    fn all(origins: &[Origin], lines: &LineIndex<'_>, encoding: PositionEncoding) -> Vec<Self> {
        origins
            .iter()
            .map(|o| Self::new(o, lines, encoding))
            .collect()
    }
}

/// The answer to "can `src` reach `dst` over `proto`?", or (with `error`) why there is none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename = "QueryAnswer"))]
pub struct QueryOutput {
    pub allowed: bool,
    pub src: String,
    pub dst: String,
    pub proto: String,
    /// The rules that allow the traffic, in policy order.
    pub matches: Vec<RuleRef>,
    /// `allowed by acls[0]`, or why it is denied and which rule came closest.
    pub explanation: String,
    /// The node that receives the packet (the destination, or its subnet router).
    pub via_node: Option<String>,
    /// What the tailnet must also have for the answer to hold.
    pub conditions: Vec<Condition>,
    /// For a source that stands for several identities: each one's answer; `allowed` is
    /// true only when all are.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(test, ts(as = "Option<Vec<MemberAnswer>>", optional))]
    pub members: Vec<MemberAnswer>,
    /// Set when the query cannot be answered as written (an unknown name, a bad port).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub error: Option<String>,
}

impl QueryOutput {
    // By value: the answer's parts move instead of being cloned (module size).
    pub fn new(answer: Answer, lines: &LineIndex<'_>, encoding: PositionEncoding) -> Self {
        QueryOutput {
            allowed: answer.allowed,
            matches: RuleRef::all(&answer.matches, lines, encoding),
            src: answer.src,
            dst: answer.dst,
            proto: answer.proto,
            explanation: answer.explanation,
            via_node: answer.via_node,
            conditions: answer.conditions,
            members: answer.members,
            error: None,
        }
    }

    /// A query that cannot be answered, as a value.
    pub fn failure(src: &str, dst: &str, proto: Option<&str>, error: String) -> Self {
        QueryOutput {
            allowed: false,
            src: src.to_owned(),
            dst: dst.to_owned(),
            proto: proto.unwrap_or("tcp").to_owned(),
            matches: Vec::new(),
            explanation: error.clone(),
            via_node: None,
            conditions: Vec::new(),
            members: Vec::new(),
            error: Some(error),
        }
    }
}

/// The answer to "can `src` open an SSH session as `login` on `dst`?".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename = "SshAnswer"))]
pub struct SshOutput {
    /// A session can open: a rule admits the login and port 22 is reachable.
    pub allowed: bool,
    /// `accept`, `check` or `deny`, from the `ssh` rules alone.
    pub verdict: &'static str,
    pub src: String,
    pub dst: String,
    pub login: String,
    pub local_user: Option<String>,
    /// Index in `ssh` of the deciding rule.
    pub rule: Option<usize>,
    /// Whether the network rules allow TCP port 22.
    pub network_allowed: bool,
    pub explanation: String,
    pub conditions: Vec<Condition>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(test, ts(as = "Option<Vec<MemberAnswer>>", optional))]
    pub members: Vec<MemberAnswer>,
    /// Where the deciding rule starts and ends (absent without one).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub column: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub end_line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub end_column: Option<u32>,
}

impl SshOutput {
    pub fn new(answer: SshAnswer, lines: &LineIndex<'_>, encoding: PositionEncoding) -> Self {
        let range = answer.rule_span.map(|span| lines.span(span, encoding));
        SshOutput {
            allowed: answer.allowed,
            verdict: answer.verdict,
            src: answer.src,
            dst: answer.dst,
            login: answer.login,
            local_user: answer.local_user,
            rule: answer.rule,
            network_allowed: answer.network_allowed,
            explanation: answer.explanation,
            conditions: answer.conditions,
            members: answer.members,
            line: range.map(|(start, _)| start.line),
            column: range.map(|(start, _)| start.column),
            end_line: range.map(|(_, end)| end.line),
            end_column: range.map(|(_, end)| end.column),
        }
    }
}

/// One line of a reachability listing (`reach --from` / `--to`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename = "Reach"))]
pub struct ReachEntry {
    /// A node name, or an address range for sources that are not nodes.
    pub name: String,
    /// For subnet or internet destinations: the range reached.
    pub addr: Option<String>,
    pub ports: Vec<String>,
    pub protocols: Vec<String>,
    /// The rules that allow it, as a query names them.
    pub rules: Vec<RuleRef>,
    /// What the tailnet must also have for this line to hold (empty with a full inventory).
    pub conditions: Vec<Condition>,
    /// For a source standing for several identities: those this line holds for, if not all.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(test, ts(as = "Option<Vec<String>>", optional))]
    pub members: Vec<String>,
}

impl ReachEntry {
    pub fn new(reach: Reach, lines: &LineIndex<'_>, encoding: PositionEncoding) -> Self {
        ReachEntry {
            rules: RuleRef::all(&reach.rules, lines, encoding),
            name: reach.name,
            addr: reach.addr,
            ports: reach.ports,
            protocols: reach.protocols,
            conditions: reach.conditions,
            members: reach.members,
        }
    }
}

/// The outcome of one `tests` or `sshTests` assertion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct TestResult {
    pub block: Block,
    /// Index of the entry in its block.
    pub index: usize,
    pub src: String,
    /// `accept`, `deny` (tests) or `accept`, `check`, `deny` (sshTests).
    #[cfg_attr(test, ts(type = "\"accept\" | \"check\" | \"deny\""))]
    pub expect: &'static str,
    /// The destination (tests) or `dst login` (sshTests).
    pub target: String,
    pub passed: bool,
    /// The condition an undetermined assertion depends on (it then counts as passed).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub undetermined: Option<String>,
    /// What happened, with the rule that decided it.
    pub detail: String,
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
    pub end_column: u32,
}

impl TestResult {
    pub fn new(assertion: &Assertion, lines: &LineIndex<'_>, encoding: PositionEncoding) -> Self {
        let (start, end) = lines.span(assertion.span, encoding);
        TestResult {
            block: assertion.block,
            index: assertion.index,
            src: assertion.src.clone(),
            expect: assertion.expect,
            target: assertion.target.clone(),
            passed: assertion.passed,
            undetermined: assertion.undetermined.clone(),
            detail: assertion.detail.clone(),
            line: start.line,
            column: start.column,
            end_line: end.line,
            end_column: end.column,
        }
    }
}

/// Every assertion of a policy's `tests` and `sshTests` (`tailpolicy test`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct TestReport {
    /// True when no assertion failed.
    pub passed: bool,
    pub total: usize,
    pub failures: usize,
    pub assertions: Vec<TestResult>,
}

impl TestReport {
    pub fn new(
        assertions: &[Assertion],
        lines: &LineIndex<'_>,
        encoding: PositionEncoding,
    ) -> Self {
        let failures = assertions.iter().filter(|a| !a.passed).count();
        TestReport {
            passed: failures == 0,
            total: assertions.len(),
            failures,
            assertions: assertions
                .iter()
                .map(|a| TestResult::new(a, lines, encoding))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use ts_rs::{Config, TS};

    use super::*;

    /// The declarations of the output model, in dependency order.
    fn declarations() -> String {
        let cfg = Config::new();
        let mut out = String::from(
            "// Generated from crates/tailpolicy/src/output.rs by the test\n\
             // `output::tests::typescript_declarations_are_current`; do not edit.\n",
        );
        for decl in [
            Severity::decl(&cfg),
            DiagnosticOutput::decl(&cfg),
            CheckOutput::decl(&cfg),
            FileOutput::decl(&cfg),
            Section::decl(&cfg),
            RuleRef::decl(&cfg),
            Condition::decl(&cfg),
            MemberAnswer::decl(&cfg),
            QueryOutput::decl(&cfg),
            SshOutput::decl(&cfg),
            ReachEntry::decl(&cfg),
            Block::decl(&cfg),
            TestResult::decl(&cfg),
            TestReport::decl(&cfg),
        ] {
            out.push_str("\nexport ");
            out.push_str(&decl);
            out.push('\n');
        }
        out
    }

    /// `wasm/types.d.ts` is what the types say; `UPDATE_TYPES=1` rewrites it.
    #[test]
    fn typescript_declarations_are_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../wasm/types.d.ts");
        let generated = declarations();
        if std::env::var_os("UPDATE_TYPES").is_some() {
            std::fs::write(path, &generated).unwrap();
        }
        let current = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            current == generated,
            "wasm/types.d.ts is stale: run `UPDATE_TYPES=1 cargo test -p tailpolicy --lib \
             typescript_declarations_are_current`\n{generated}"
        );
    }

    #[test]
    fn positions_clamp_and_default_to_the_start_of_the_file() {
        let diagnostic = Diagnostic::error("E001", "bad", Span::new(7, 2));
        let lines = LineIndex::new("ab\n\u{1F600}d");
        let out = DiagnosticOutput::new(&diagnostic, Some(&lines), PositionEncoding::Utf16);
        // The end is never before the start; the emoji is two UTF-16 units.
        assert_eq!(
            (out.line, out.column, out.end_line, out.end_column),
            (2, 3, 2, 3)
        );
        let out = DiagnosticOutput::new(&diagnostic, None, PositionEncoding::Chars);
        assert_eq!(
            (out.line, out.column, out.end_line, out.end_column),
            (1, 1, 1, 1)
        );
        let rule = RuleRef::new(
            &Origin {
                section: Section::Grants,
                index: 3,
                span: Span::new(0, 4),
            },
            &lines,
            PositionEncoding::Chars,
        );
        assert_eq!(rule.label, "grants[3]");
        assert_eq!(
            (rule.line, rule.column, rule.end_line, rule.end_column),
            (1, 1, 2, 1)
        );
    }
}
