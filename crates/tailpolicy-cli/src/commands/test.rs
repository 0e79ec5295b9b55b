//! `tailpolicy test POLICY [--inventory FILE] [--format human|json|junit]`: runs only the
//! policy's `tests` and `sshTests`, with one result per assertion.
//!
//! Exit status: 0 when every assertion passes, 1 when one fails, 2 for an invalid policy or
//! input.

use std::io::{self, Write};

use tailpolicy::output::TestReport;
use tailpolicy::policy_tests::{self, Assertion, Block};

use super::policy::{COLUMNS, Source, load_for};
use crate::exit::ExitStatus;
use crate::{TestArgs, TestFormat};

pub fn run(args: &TestArgs, out: &mut impl Write, err: &mut impl Write) -> io::Result<ExitStatus> {
    let loaded = match load_for(&args.policy, &args.inventory, err)? {
        Ok(loaded) => loaded,
        Err(status) => return Ok(status),
    };
    let assertions = policy_tests::run(&loaded.policy, loaded.inventory.as_ref());
    let source = loaded.source();
    let failures = assertions.iter().filter(|a| !a.passed).count();
    match args.format {
        TestFormat::Human => write_human(
            &source,
            &args.policy.display().to_string(),
            &assertions,
            out,
        )?,
        TestFormat::Json => {
            let report = TestReport::new(&assertions, source.lines(), COLUMNS);
            serde_json::to_writer_pretty(&mut *out, &report)?;
            writeln!(out)?;
        }
        TestFormat::Junit => write_junit(
            &source,
            &args.policy.display().to_string(),
            &assertions,
            out,
        )?,
    }
    Ok(if failures == 0 {
        ExitStatus::Success
    } else {
        ExitStatus::PolicyErrors
    })
}

fn block_name(block: Block) -> &'static str {
    match block {
        Block::Tests => "tests",
        Block::SshTests => "sshTests",
    }
}

fn write_human(
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

/// JUnit XML: one test suite per block, one test case per assertion.
fn write_junit(
    source: &Source<'_>,
    path: &str,
    assertions: &[Assertion],
    out: &mut impl Write,
) -> io::Result<()> {
    let failures = assertions.iter().filter(|a| !a.passed).count();
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuites name="tailpolicy" tests="{}" failures="{failures}">"#,
        assertions.len()
    )?;
    for block in [Block::Tests, Block::SshTests] {
        let cases: Vec<&Assertion> = assertions.iter().filter(|a| a.block == block).collect();
        if cases.is_empty() {
            continue;
        }
        let block_failures = cases.iter().filter(|a| !a.passed).count();
        writeln!(
            out,
            r#"  <testsuite name="{}" tests="{}" failures="{block_failures}">"#,
            block_name(block),
            cases.len()
        )?;
        for a in cases {
            let (line, _) = source.position(a.span);
            let name = format!(
                "{}[{}] {} {} from {}",
                block_name(block),
                a.index,
                a.expect,
                a.target,
                a.src
            );
            write!(
                out,
                r#"    <testcase name="{}" classname="{}" file="{}" line="{line}""#,
                xml(&name),
                xml(path),
                xml(path)
            )?;
            if a.passed {
                writeln!(out, "/>")?;
            } else {
                writeln!(out, ">")?;
                writeln!(
                    out,
                    r#"      <failure message="{}">{}:{line}: {}</failure>"#,
                    xml(&a.detail),
                    xml(path),
                    xml(&a.detail)
                )?;
                writeln!(out, "    </testcase>")?;
            }
        }
        writeln!(out, "  </testsuite>")?;
    }
    writeln!(out, "</testsuites>")
}

fn xml(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => {}
            c => escaped.push(c),
        }
    }
    escaped
}
