//! The text of `query`, `reach` and `test` for people; their JSON is the core's output model.

use std::io::{self, Write};

use tailpolicy::output::{ReachEntry, SshOutput};
use tailpolicy::policy_tests::{Assertion, Block};
use tailpolicy::query::{Answer, Condition, MemberAnswer};

use crate::input::policy::Source;

/// `ALLOWED: src -> dst (proto)`, the explanation, the conditions and the matching rules
/// with their first line.
pub fn write_answer(source: &Source<'_>, answer: &Answer, out: &mut impl Write) -> io::Result<()> {
    let verdict = if answer.allowed { "ALLOWED" } else { "DENIED" };
    writeln!(
        out,
        "{verdict}: {} -> {} ({})",
        answer.src, answer.dst, answer.proto
    )?;
    writeln!(out, "  {}", answer.explanation)?;
    write_conditions(&answer.conditions, &answer.members, out)?;
    for origin in &answer.matches {
        let (line, column) = source.position(origin.span);
        let first_line = rule_summary(source.text(), origin.span);
        writeln!(
            out,
            "  {} at line {line}, column {column}: {first_line}",
            origin.label()
        )?;
    }
    Ok(())
}

/// The conditions an answer holds on, and each member's verdict.
fn write_conditions(
    conditions: &[Condition],
    members: &[MemberAnswer],
    out: &mut impl Write,
) -> io::Result<()> {
    if !conditions.is_empty() {
        writeln!(out, "  on condition that:")?;
        for condition in conditions {
            writeln!(out, "    - {}", condition.text)?;
        }
    }
    for member in members {
        let verdict = if member.allowed { "allowed" } else { "denied " };
        writeln!(out, "  {verdict} for {}", member.member)?;
    }
    Ok(())
}

/// The rule's source text on one line, shortened.
fn rule_summary(text: &str, span: tailpolicy::Span) -> String {
    let source = text.get(span.range()).unwrap_or("");
    let mut one_line = String::new();
    let mut last_space = false;
    for c in source.chars() {
        let space = c.is_whitespace();
        if !(space && last_space) {
            one_line.push(if space { ' ' } else { c });
        }
        last_space = space;
    }
    if one_line.chars().count() > 120 {
        let cut: String = one_line.chars().take(117).collect();
        format!("{cut}...")
    } else {
        one_line
    }
}

/// An SSH answer: the verdict, the explanation, the conditions and the deciding rule.
pub fn write_ssh_answer(
    answer: &SshOutput,
    src: &str,
    dst: &str,
    login: &str,
    out: &mut impl Write,
) -> io::Result<()> {
    let verdict = if answer.allowed { "ALLOWED" } else { "DENIED" };
    writeln!(
        out,
        "{verdict}: ssh {login}@{dst} from {src} (verdict: {})",
        answer.verdict
    )?;
    writeln!(out, "  {}", answer.explanation)?;
    write_conditions(&answer.conditions, &answer.members, out)?;
    if let (Some(rule), Some(line), Some(column)) = (answer.rule, answer.line, answer.column) {
        writeln!(out, "  ssh[{rule}] at line {line}, column {column}")?;
    }
    Ok(())
}

/// A reachability listing: one line per destination (or source), its ports, protocols and
/// rules, then who it holds for and on what condition.
pub fn write_reach(
    from: Option<&str>,
    to: Option<&str>,
    entries: &[ReachEntry],
    out: &mut impl Write,
) -> io::Result<()> {
    match (from, to) {
        (Some(src), _) => writeln!(out, "{src} can reach:")?,
        (_, Some(dst)) => writeln!(out, "can reach {dst}:")?,
        _ => {}
    }
    if entries.is_empty() {
        writeln!(out, "  nothing")?;
    }
    for e in entries {
        let addr = e.addr.as_ref().map(|a| format!(" {a}")).unwrap_or_default();
        let rules: Vec<&str> = e.rules.iter().map(|r| r.label.as_str()).collect();
        writeln!(
            out,
            "  {}{addr}  ports {}  {}  ({})",
            e.name,
            e.ports.join(","),
            e.protocols.join("/"),
            rules.join(", ")
        )?;
        if !e.members.is_empty() {
            writeln!(out, "    only for: {}", e.members.join(", "))?;
        }
        for condition in &e.conditions {
            writeln!(out, "    if {}", condition.text)?;
        }
    }
    Ok(())
}

pub(crate) fn block_name(block: Block) -> &'static str {
    match block {
        Block::Tests => "tests",
        Block::SshTests => "sshTests",
    }
}

/// One line per assertion (`ok`, `??` undetermined, `FAIL`), then the totals.
pub fn write_test_results(
    source: &Source<'_>,
    path: &str,
    assertions: &[Assertion],
    out: &mut impl Write,
) -> io::Result<()> {
    for a in assertions {
        let (line, column) = source.position(a.span);
        let mark = match (a.passed, &a.undetermined) {
            (true, None) => "ok  ",
            (true, Some(_)) => "??  ",
            (false, _) => "FAIL",
        };
        writeln!(
            out,
            "{mark} {path}:{line}:{column} {}[{}] {} {} from {}",
            block_name(a.block),
            a.index,
            a.expect,
            a.target,
            a.src
        )?;
        if !a.passed {
            writeln!(out, "       {}", a.detail)?;
        }
        if let Some(condition) = &a.undetermined {
            let outcome = if a.expect == "deny" && a.block == Block::Tests {
                "fails"
            } else {
                "passes"
            };
            writeln!(out, "       undetermined: {outcome} if {condition}")?;
        }
    }
    let failures = assertions.iter().filter(|a| !a.passed).count();
    writeln!(
        out,
        "{} assertions: {} passed, {failures} failed",
        assertions.len(),
        assertions.len() - failures
    )
}
