//! `tailpolicy diff` output: JSON (docs/diff.md), human text and a Markdown PR comment.

use std::io::{self, Write};

use tailpolicy::compile::Origin;
use tailpolicy::compile::{SshOrigin, SshVerdict};
use tailpolicy::diff::output::DiffOutput;
use tailpolicy::diff::{CapabilityRow, Diff, NetworkRow, OwnerRow, Row, SshRow};
use tailpolicy::proto::Protocol;

/// Both sides' names and line indexes (the core's, shared with the WASM API's `diff`).
pub use tailpolicy::diff::output::Sides;

/// The JSON of docs/diff.md: the core's output model, so the WASM API's `diff` is the same.
pub fn write_json(sides: &Sides<'_>, diff: &Diff, out: &mut impl Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &DiffOutput::new(sides, diff))?;
    writeln!(out)
}

fn protos(numbers: &[u8]) -> String {
    // TCP, UDP, ICMP and ICMPv6 together are what a rule without a protocol allows.
    if numbers == [1, 6, 17, 58] {
        return "any".to_owned();
    }
    numbers
        .iter()
        .map(|&n| Protocol::from_number(n).to_string())
        .collect::<Vec<_>>()
        .join("/")
}

fn ports(row: &NetworkRow) -> String {
    row.ports
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// At most `max` items, then how many more.
fn some(items: &[String], max: usize) -> String {
    let shown: Vec<&str> = items.iter().take(max).map(String::as_str).collect();
    match items.len().checked_sub(max) {
        Some(more) if more > 0 => format!("{} (+{more} more)", shown.join(", ")),
        _ => shown.join(", "),
    }
}

fn rules(sides: &Sides<'_>, old: bool, origins: &[Origin]) -> String {
    if origins.is_empty() {
        return "-".to_owned();
    }
    origins
        .iter()
        .map(|o| {
            let r = sides.rule(old, o);
            format!("{} (line {})", r.label, r.line)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn example(row: &NetworkRow) -> String {
    let e = &row.example;
    let proto = Protocol::from_number(e.proto);
    if proto.supports_ports() {
        format!("{} -> {} {proto}/{}", e.src_ip, e.dst_ip, e.port)
    } else {
        format!("{} -> {} {proto}", e.src_ip, e.dst_ip)
    }
}

fn counts(rows: &[Row]) -> (usize, usize, usize, usize) {
    let network = rows.iter().filter(|r| matches!(r, Row::Network(_))).count();
    let ssh = rows.iter().filter(|r| matches!(r, Row::Ssh(_))).count();
    let caps = rows
        .iter()
        .filter(|r| matches!(r, Row::Capability(_)))
        .count();
    (network, ssh, caps, rows.len() - network - ssh - caps)
}

fn summary(diff: &Diff) -> String {
    if diff.unchanged() {
        return "no change in access".to_owned();
    }
    let (an, as_, ac, ao) = counts(&diff.added);
    let (rn, rs, rc, ro) = counts(&diff.removed);
    let mut text = format!(
        "{} added, {} removed (network {an} added, {rn} removed; SSH {as_} added, {rs} removed; capabilities {ac} added, {rc} removed; ownership {ao} added, {ro} removed)",
        diff.added.len(),
        diff.removed.len()
    );
    if diff.symbolic {
        text.push_str("; no inventory: for any tailnet, by the identities the policies name");
    }
    text
}

pub fn write_human(sides: &Sides<'_>, diff: &Diff, out: &mut impl Write) -> io::Result<()> {
    writeln!(
        out,
        "{} -> {}: {}",
        sides.old_name,
        sides.new_name,
        summary(diff)
    )?;
    for (sign, rows, added) in [("+", &diff.added, true), ("-", &diff.removed, false)] {
        for row in rows {
            match row {
                Row::Network(r) => {
                    let via = if r.via.is_empty() {
                        String::new()
                    } else {
                        format!(" via {}", r.via.join(", "))
                    };
                    writeln!(
                        out,
                        "{sign} {} -> {}{via}  {} {}",
                        r.src.join(", "),
                        r.dst.join(", "),
                        protos(&r.protos),
                        ports(r)
                    )?;
                    writeln!(
                        out,
                        "    from {}  to {}",
                        some(&r.src_ips.to_wire_strings(), 4),
                        some(&r.dst_ips.to_wire_strings(), 4)
                    )?;
                    let (granting, other, other_side) = if added {
                        (rules(sides, false, &r.new_rules), &r.old_rules, true)
                    } else {
                        (rules(sides, true, &r.old_rules), &r.new_rules, false)
                    };
                    let before = if other.is_empty() {
                        String::new()
                    } else {
                        let word = if added { "was" } else { "now" };
                        format!("; {word} {}", rules(sides, other_side, other))
                    };
                    let verb = if added {
                        "allowed by"
                    } else {
                        "was allowed by"
                    };
                    writeln!(out, "    {verb} {granting}{before}; e.g. {}", example(r))?;
                }
                Row::Ssh(r) => writeln!(out, "{sign} {}", ssh_text(sides, r))?,
                Row::Capability(r) => {
                    writeln!(
                        out,
                        "{sign} {} -> {}  capability `{}`{}",
                        r.src.join(", "),
                        r.dst.join(", "),
                        r.capability,
                        cap_values(r)
                    )?;
                    writeln!(
                        out,
                        "    from {}  to {}",
                        some(&r.src_ips.to_wire_strings(), 4),
                        some(&r.dst_nodes, 4)
                    )?;
                    let verb = if added {
                        "granted by"
                    } else {
                        "was granted by"
                    };
                    let (granting, other, other_side) = if added {
                        (rules(sides, false, &r.new_rules), &r.old_rules, true)
                    } else {
                        (rules(sides, true, &r.old_rules), &r.new_rules, false)
                    };
                    let before = if other.is_empty() {
                        String::new()
                    } else {
                        let word = if added { "was" } else { "now" };
                        format!("; {word} {}", rules(sides, other_side, other))
                    };
                    writeln!(out, "    {verb} {granting}{before}")?;
                }
                Row::Owner(r) => writeln!(out, "{sign} {}", owner_text(r, added))?,
            }
        }
    }
    Ok(())
}

fn verdict(v: SshVerdict, user: Option<&String>) -> String {
    match (v, user) {
        (SshVerdict::Deny, _) => "deny".to_owned(),
        (SshVerdict::Accept, Some(u)) => format!("accept (as `{u}`)"),
        (SshVerdict::Check, Some(u)) => format!("check (as `{u}`)"),
        (SshVerdict::Accept, None) => "accept".to_owned(),
        (SshVerdict::Check, None) => "check".to_owned(),
    }
}

fn ssh_text(sides: &Sides<'_>, row: &SshRow) -> String {
    let login = if row.login == "*" {
        "any other login".to_owned()
    } else {
        format!("`{}`", row.login)
    };
    let rule = |old: bool, o: Option<SshOrigin>| {
        sides
            .ssh_rule(old, o)
            .map(|r| format!(" {} (line {})", r.label, r.line))
            .unwrap_or_default()
    };
    format!(
        "ssh `{}` -> `{}` as {login}: {}{} -> {}{}",
        row.src,
        row.dst,
        verdict(row.old, row.old_user.as_ref()),
        rule(true, row.old_rule),
        verdict(row.new, row.new_user.as_ref()),
        rule(false, row.new_rule)
    )
}

fn owner_text(row: &OwnerRow, added: bool) -> String {
    let who = row
        .who
        .iter()
        .map(|w| format!("`{w}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let verb = if added { "now" } else { "no longer" };
    match row.section {
        "tagOwners" => format!("{who} can {verb} apply `{}` (tagOwners)", row.target)
            .replace("can no longer", "can no longer"),
        "groups" => format!(
            "{who} {} `{}`",
            if added { "joined" } else { "left" },
            row.target
        ),
        "autoApprovers.routes" => {
            format!("{who} {verb} auto-approve route `{}`", row.target)
        }
        "autoApprovers.exitNode" => format!("{who} {verb} auto-approve exit nodes"),
        "autoApprovers.services" => {
            format!("{who} {verb} auto-approve service `{}`", row.target)
        }
        _ => format!(
            "{who} {} node attribute `{}`",
            if added { "gained" } else { "lost" },
            row.target
        ),
    }
}

/// The values a capability row gains or loses, compact JSON; whether it is the whole
/// capability.
fn cap_values(row: &CapabilityRow) -> String {
    let values: Vec<String> = row.values.iter().map(ToString::to_string).collect();
    match (row.whole, values.is_empty()) {
        (true, true) => " (no values)".to_owned(),
        (true, false) => format!(" with {}", values.join(", ")),
        (false, _) => format!(" values {}", values.join(", ")),
    }
}

/// A Markdown table cell: pipes escaped, newlines removed.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn code_list(items: &[String], max: usize) -> String {
    let shown: Vec<String> = items.iter().take(max).map(|i| format!("`{i}`")).collect();
    match items.len().checked_sub(max) {
        Some(more) if more > 0 => format!("{} (+{more} more)", shown.join(", ")),
        _ => shown.join(", "),
    }
}

/// A Markdown section: its heading, then a table's header row and separator.
fn table_head(out: &mut impl Write, title: &str, columns: &[&str]) -> io::Result<()> {
    writeln!(out)?;
    writeln!(out, "#### {title}")?;
    writeln!(out)?;
    writeln!(out, "| {} |", columns.join(" | "))?;
    writeln!(out, "|{}", " --- |".repeat(columns.len()))
}

pub fn write_markdown(sides: &Sides<'_>, diff: &Diff, out: &mut impl Write) -> io::Result<()> {
    writeln!(
        out,
        "**tailpolicy diff** `{}` → `{}`: {}",
        cell(sides.old_name),
        cell(sides.new_name),
        summary(diff)
    )?;
    for (title, rows) in [
        ("Added network access", &diff.added),
        ("Removed network access", &diff.removed),
    ] {
        let network: Vec<&NetworkRow> = rows.iter().filter_map(Row::as_network).collect();
        if network.is_empty() {
            continue;
        }
        table_head(
            out,
            title,
            &[
                "source",
                "destination",
                "protocols",
                "ports",
                "rules (old → new)",
                "example",
            ],
        )?;
        for r in network {
            let via = if r.via.is_empty() {
                String::new()
            } else {
                format!(" via {}", code_list(&r.via, 3))
            };
            writeln!(
                out,
                "| {} ({}) | {}{via} ({}) | {} | {} | {} → {} | `{}` |",
                code_list(&r.src, 3),
                cell(&some(&r.src_ips.to_wire_strings(), 3)),
                code_list(&r.dst, 3),
                cell(&some(&r.dst_ips.to_wire_strings(), 3)),
                protos(&r.protos),
                cell(&ports(r)),
                cell(&rules(sides, true, &r.old_rules)),
                cell(&rules(sides, false, &r.new_rules)),
                example(r)
            )?;
        }
    }
    for (title, rows) in [
        ("Added capabilities", &diff.added),
        ("Removed capabilities", &diff.removed),
    ] {
        let caps: Vec<&CapabilityRow> = rows.iter().filter_map(Row::as_capability).collect();
        if caps.is_empty() {
            continue;
        }
        table_head(
            out,
            title,
            &[
                "source",
                "destination",
                "capability",
                "values",
                "rules (old → new)",
            ],
        )?;
        for r in caps {
            let values: Vec<String> = r.values.iter().map(ToString::to_string).collect();
            let values = match (r.whole, values.is_empty()) {
                (_, true) => "(none)".to_owned(),
                (true, false) => code_list(&values, 3),
                (false, false) => format!("{} (more values)", code_list(&values, 3)),
            };
            writeln!(
                out,
                "| {} ({}) | {} ({}) | `{}` | {} | {} → {} |",
                code_list(&r.src, 3),
                cell(&some(&r.src_ips.to_wire_strings(), 3)),
                code_list(&r.dst, 3),
                cell(&some(&r.dst_nodes, 3)),
                cell(&r.capability),
                cell(&values),
                cell(&rules(sides, true, &r.old_rules)),
                cell(&rules(sides, false, &r.new_rules)),
            )?;
        }
    }
    let both =
        || (diff.added.iter().map(|r| (true, r))).chain(diff.removed.iter().map(|r| (false, r)));
    let ssh: Vec<(bool, &SshRow)> = both()
        .filter_map(|(added, r)| r.as_ssh().map(|s| (added, s)))
        .collect();
    let owners: Vec<(bool, &OwnerRow)> = both()
        .filter_map(|(added, r)| r.as_owner().map(|o| (added, o)))
        .collect();
    if !ssh.is_empty() {
        table_head(out, "SSH", &["change", "what"])?;
        for (added, row) in ssh {
            writeln!(
                out,
                "| {} | {} |",
                if added { "added" } else { "removed" },
                cell(&ssh_text(sides, row))
            )?;
        }
    }
    if !owners.is_empty() {
        table_head(out, "Who can become what", &["change", "section", "what"])?;
        for (added, row) in owners {
            writeln!(
                out,
                "| {} | `{}` | {} |",
                if added { "added" } else { "removed" },
                row.section,
                cell(&owner_text(row, added))
            )?;
        }
    }
    Ok(())
}
