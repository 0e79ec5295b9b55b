//! `tailpolicy test POLICY [--inventory FILE] [--format human|json|junit]`: runs only the
//! policy's `tests` and `sshTests`, with one result per assertion.
//!
//! Exit status: 0 when every assertion passes, 1 when one fails, 2 for an invalid policy or
//! input.

use std::io::{self, Write};

use tailpolicy::output::TestReport;
use tailpolicy::policy_tests;

use crate::exit::ExitStatus;
use crate::input::policy::{COLUMNS, load_for};
use crate::render::{write_junit, write_test_results};
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
        TestFormat::Human => write_test_results(
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
