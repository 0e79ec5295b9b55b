//! `tailpolicy query POLICY --src SRC --dst DST:PORT [--proto P]` and `--batch FILE`.
//!
//! Exit status: 0 when allowed (every query, in batch mode), 1 when denied, 2 for invalid
//! input.

use std::io::{self, BufRead, Write};

use serde::{Deserialize, Serialize};
use tailpolicy::compile::{Origin, Section};
use tailpolicy::query::{Answer, Condition, MemberAnswer, Simulator};

use super::policy::{Loaded, load_for};
use crate::exit::ExitStatus;
use crate::{OutputFormat, QueryArgs};

#[derive(Serialize)]
struct JsonAnswer<'a> {
    allowed: bool,
    src: &'a str,
    dst: &'a str,
    proto: &'a str,
    matches: Vec<JsonMatch>,
    explanation: &'a str,
    /// What the tailnet must also have for the answer to hold.
    conditions: &'a [Condition],
    #[serde(skip_serializing_if = "<[MemberAnswer]>::is_empty")]
    members: &'a [MemberAnswer],
}

#[derive(Serialize)]
struct JsonMatch {
    section: &'static str,
    index: usize,
    line: u32,
    column: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BatchLine {
    src: String,
    dst: String,
    #[serde(default)]
    proto: Option<String>,
}

pub fn run(args: &QueryArgs, out: &mut impl Write, err: &mut impl Write) -> io::Result<ExitStatus> {
    let loaded = match load_for(&args.policy, &args.inventory, err)? {
        Ok(loaded) => loaded,
        Err(status) => return Ok(status),
    };
    let simulator = Simulator::new(&loaded.policy, loaded.inventory.as_ref());
    if let Some(batch) = &args.batch {
        return run_batch(&loaded, &simulator, batch, out, err);
    }
    let (Some(src), Some(dst)) = (&args.src, &args.dst) else {
        writeln!(
            err,
            "error: `query` needs `--src` and `--dst`, or `--batch FILE`"
        )?;
        return Ok(ExitStatus::Failure);
    };
    if let Some(login) = &args.ssh_user {
        return run_ssh(&loaded, &simulator, src, dst, login, args.format, out, err);
    }
    match simulator.query(src, dst, args.proto.as_deref()) {
        Ok(answer) => {
            match args.format {
                OutputFormat::Json => {
                    serde_json::to_writer(&mut *out, &json_answer(&loaded, &answer))?;
                    writeln!(out)?;
                }
                OutputFormat::Human => write_human(&loaded, &answer, out)?,
            }
            Ok(if answer.allowed {
                ExitStatus::Success
            } else {
                ExitStatus::PolicyErrors
            })
        }
        Err(error) => {
            writeln!(err, "error: {error}")?;
            Ok(ExitStatus::Failure)
        }
    }
}

fn run_batch(
    loaded: &Loaded,
    simulator: &Simulator<'_>,
    path: &std::path::Path,
    out: &mut impl Write,
    err: &mut impl Write,
) -> io::Result<ExitStatus> {
    let reader: Box<dyn BufRead> = if path.as_os_str() == "-" {
        Box::new(io::BufReader::new(io::stdin()))
    } else {
        match std::fs::File::open(path) {
            Ok(file) => Box::new(io::BufReader::new(file)),
            Err(error) => {
                writeln!(err, "error: cannot read `{}`: {error}", path.display())?;
                return Ok(ExitStatus::Failure);
            }
        }
    };
    let mut status = ExitStatus::Success;
    for (number, line) in reader.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let query: BatchLine = match serde_json::from_str(&line) {
            Ok(query) => query,
            Err(error) => {
                writeln!(err, "error: {}:{}: {error}", path.display(), number + 1)?;
                return Ok(ExitStatus::Failure);
            }
        };
        match simulator.query(&query.src, &query.dst, query.proto.as_deref()) {
            Ok(answer) => {
                if !answer.allowed {
                    status = ExitStatus::PolicyErrors;
                }
                serde_json::to_writer(&mut *out, &json_answer(loaded, &answer))?;
                writeln!(out)?;
            }
            Err(error) => {
                writeln!(err, "error: {}:{}: {error}", path.display(), number + 1)?;
                return Ok(ExitStatus::Failure);
            }
        }
    }
    Ok(status)
}

fn json_answer<'a>(loaded: &Loaded, answer: &'a Answer) -> JsonAnswer<'a> {
    JsonAnswer {
        allowed: answer.allowed,
        src: &answer.src,
        dst: &answer.dst,
        proto: &answer.proto,
        matches: answer
            .matches
            .iter()
            .map(|m| json_match(loaded, m))
            .collect(),
        explanation: &answer.explanation,
        conditions: &answer.conditions,
        members: &answer.members,
    }
}

fn json_match(loaded: &Loaded, origin: &Origin) -> JsonMatch {
    let (line, column) = loaded.position(origin.span);
    JsonMatch {
        section: section_name(origin.section),
        index: origin.index,
        line,
        column,
    }
}

pub fn section_name(section: Section) -> &'static str {
    match section {
        Section::Acls => "acls",
        Section::Grants => "grants",
    }
}

fn write_human(loaded: &Loaded, answer: &Answer, out: &mut impl Write) -> io::Result<()> {
    let verdict = if answer.allowed { "ALLOWED" } else { "DENIED" };
    writeln!(
        out,
        "{verdict}: {} -> {} ({})",
        answer.src, answer.dst, answer.proto
    )?;
    writeln!(out, "  {}", answer.explanation)?;
    write_conditions(&answer.conditions, &answer.members, out)?;
    for origin in &answer.matches {
        let (line, column) = loaded.position(origin.span);
        let first_line = rule_summary(&loaded.text, origin.span);
        writeln!(
            out,
            "  {}[{}] at line {line}, column {column}: {first_line}",
            section_name(origin.section),
            origin.index
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

#[allow(
    clippy::too_many_arguments,
    reason = "one call site, all inputs of the SSH query"
)]
fn run_ssh(
    loaded: &Loaded,
    simulator: &Simulator<'_>,
    src: &str,
    dst: &str,
    login: &str,
    format: OutputFormat,
    out: &mut impl Write,
    err: &mut impl Write,
) -> io::Result<ExitStatus> {
    let answer = match simulator.ssh_query(src, dst, login) {
        Ok(answer) => answer,
        Err(error) => {
            writeln!(err, "error: {error}")?;
            return Ok(ExitStatus::Failure);
        }
    };
    let position = answer.rule_span.map(|span| loaded.position(span));
    match format {
        OutputFormat::Json => {
            let mut value = serde_json::to_value(&answer).unwrap_or_default();
            if let (Some((line, column)), Some(object)) = (position, value.as_object_mut()) {
                object.insert("line".into(), line.into());
                object.insert("column".into(), column.into());
            }
            serde_json::to_writer(&mut *out, &value)?;
            writeln!(out)?;
        }
        OutputFormat::Human => {
            let verdict = if answer.allowed { "ALLOWED" } else { "DENIED" };
            writeln!(
                out,
                "{verdict}: ssh {login}@{dst} from {src} (verdict: {})",
                answer.verdict
            )?;
            writeln!(out, "  {}", answer.explanation)?;
            write_conditions(&answer.conditions, &answer.members, out)?;
            if let (Some(rule), Some((line, column))) = (answer.rule, position) {
                writeln!(out, "  ssh[{rule}] at line {line}, column {column}")?;
            }
        }
    }
    Ok(if answer.allowed {
        ExitStatus::Success
    } else {
        ExitStatus::PolicyErrors
    })
}
