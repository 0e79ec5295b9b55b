//! `tailpolicy reach POLICY --from SRC | --to DST[:PORT]`: everything a source can reach, or
//! everyone who can reach a destination.

use std::io::{self, Write};

use serde::Serialize;
use tailpolicy::query::{Condition, Reach, Simulator};

use super::policy::load_for;
use super::query::section_name;
use crate::exit::ExitStatus;
use crate::{OutputFormat, ReachArgs};

#[derive(Serialize)]
struct Output<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    from: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    to: Option<&'a str>,
    entries: Vec<Entry<'a>>,
}

#[derive(Serialize)]
struct Entry<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    addr: Option<&'a str>,
    ports: &'a [String],
    protocols: &'a [String],
    rules: Vec<String>,
    /// What the tailnet must also have for this line to hold.
    #[serde(skip_serializing_if = "<[Condition]>::is_empty")]
    conditions: &'a [Condition],
    /// For a source standing for several identities: those this line holds for, if not all.
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    members: &'a [String],
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
    let entries: Vec<Entry<'_>> = reach.iter().map(entry).collect();
    match args.format {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(
                &mut *out,
                &Output {
                    from: args.from.as_deref(),
                    to: args.to.as_deref(),
                    entries,
                },
            )?;
            writeln!(out)?;
        }
        OutputFormat::Human => {
            match (&args.from, &args.to) {
                (Some(src), _) => writeln!(out, "{src} can reach:")?,
                (_, Some(dst)) => writeln!(out, "can reach {dst}:")?,
                _ => {}
            }
            if entries.is_empty() {
                writeln!(out, "  nothing")?;
            }
            for e in &entries {
                let addr = e.addr.map(|a| format!(" {a}")).unwrap_or_default();
                writeln!(
                    out,
                    "  {}{addr}  ports {}  {}  ({})",
                    e.name,
                    e.ports.join(","),
                    e.protocols.join("/"),
                    e.rules.join(", ")
                )?;
                if !e.members.is_empty() {
                    writeln!(out, "    only for: {}", e.members.join(", "))?;
                }
                for condition in e.conditions {
                    writeln!(out, "    if {}", condition.text)?;
                }
            }
        }
    }
    Ok(ExitStatus::Success)
}

fn entry(reach: &Reach) -> Entry<'_> {
    Entry {
        name: &reach.name,
        addr: reach.addr.as_deref(),
        ports: &reach.ports,
        protocols: &reach.protocols,
        rules: reach
            .rules
            .iter()
            .map(|o| format!("{}[{}]", section_name(o.section), o.index))
            .collect(),
        conditions: &reach.conditions,
        members: &reach.members,
    }
}
