//! `tailpolicy reach POLICY --from SRC | --to DST[:PORT]`: everything a source can reach, or
//! everyone who can reach a destination.

use std::io::{self, Write};

use serde::Serialize;
use tailpolicy::output::ReachEntry;
use tailpolicy::query::Simulator;

use crate::exit::ExitStatus;
use crate::input::policy::{COLUMNS, load_for};
use crate::render::write_reach;
use crate::{OutputFormat, ReachArgs};

#[derive(Serialize)]
struct Output<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    from: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    to: Option<&'a str>,
    entries: &'a [ReachEntry],
}

pub fn run(args: &ReachArgs, out: &mut impl Write, err: &mut impl Write) -> io::Result<ExitStatus> {
    let loaded = match load_for(&args.policy, &args.inventory, err)? {
        Ok(loaded) => loaded,
        Err(status) => return Ok(status),
    };
    let simulator = Simulator::new(&loaded.policy, loaded.inventory.as_ref());
    let result = match (&args.from, &args.to) {
        (Some(src), None) => simulator.reachable_from(src),
        (None, Some(dst)) => simulator.reachable_to(dst),
        _ => {
            writeln!(
                err,
                "error: give exactly one of `--from SRC` or `--to DST[:PORT]`"
            )?;
            return Ok(ExitStatus::Failure);
        }
    };
    let reach = match result {
        Ok(reach) => reach,
        Err(error) => {
            writeln!(err, "error: {error}")?;
            return Ok(ExitStatus::Failure);
        }
    };
    let source = loaded.source();
    let entries: Vec<ReachEntry> = reach
        .into_iter()
        .map(|r| ReachEntry::new(r, source.lines(), COLUMNS))
        .collect();
    match args.format {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(
                &mut *out,
                &Output {
                    from: args.from.as_deref(),
                    to: args.to.as_deref(),
                    entries: &entries,
                },
            )?;
            writeln!(out)?;
        }
        OutputFormat::Human => {
            write_reach(args.from.as_deref(), args.to.as_deref(), &entries, out)?;
        }
    }
    Ok(ExitStatus::Success)
}
