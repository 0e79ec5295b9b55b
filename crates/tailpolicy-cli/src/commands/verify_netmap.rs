//! `tailpolicy verify-netmap POLICY NETMAP.json`: compiles the policy for the node the netmap
//! was taken on (the inventory is the same netmap) and compares our packet filter and SSH
//! rules with the `PacketFilterRules` and `SSHPolicy` the control server sent, as the
//! conformance tests compare captures: filter rules in order, the lists inside a rule as
//! sets; SSH rules in order, principals as a multiset, `holdAndDelegate` by presence.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};

use serde_json::{Value, json};
use tailpolicy::Inventory;
use tailpolicy::inventory::Shape;
use tailpolicy::model::Policy;

use super::check::{display_path, read_text};
use super::policy::load;
use crate::exit::ExitStatus;
use crate::{OutputFormat, VerifyNetmapArgs};

/// How one list (filter or SSH rules) compares.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Diff {
    pub ours: usize,
    pub theirs: usize,
    /// Rules we compile that the control server did not send (wire JSON).
    pub only_ours: Vec<Value>,
    /// Rules the control server sent that we do not compile.
    pub only_theirs: Vec<Value>,
    /// Same rules, different order (order matters: the first match wins).
    pub reordered: bool,
}

impl Diff {
    pub fn same(&self) -> bool {
        self.only_ours.is_empty() && self.only_theirs.is_empty() && !self.reordered
    }
}

pub fn run(
    args: &VerifyNetmapArgs,
    out: &mut impl Write,
    err: &mut impl Write,
) -> io::Result<ExitStatus> {
    let display = display_path(&args.netmap);
    let text = match read_text(&args.netmap, &display, "netmap ") {
        Ok(text) => text,
        Err(failure) => {
            for d in failure.diagnostics {
                writeln!(err, "error: {}", d.message)?;
            }
            return Ok(ExitStatus::Failure);
        }
    };
    let loaded = match load(&args.policy, std::slice::from_ref(&args.netmap), &[], err)? {
        Ok(loaded) => loaded,
        Err(status) => return Ok(status),
    };
    let viewer = match Inventory::read(&text) {
        Ok(read) if read.shape == Shape::Netmap => read.viewer,
        Ok(read) => {
            writeln!(
                err,
                "error: `{display}` is {}, not the output of `tailscale debug netmap`",
                read.shape.describe()
            )?;
            return Ok(ExitStatus::Failure);
        }
        Err(_) => None,
    };
    let Some(viewer) = viewer else {
        writeln!(err, "error: `{display}` has no `SelfNode`")?;
        return Ok(ExitStatus::Failure);
    };
    let netmap = tailpolicy::syntax::parse(&text)
        .value
        .map(|v| v.to_json())
        .unwrap_or_default();
    let inventory = loaded.inventory.unwrap_or_default();
    let (filter, ssh) = verify(&loaded.policy, &inventory, &viewer, &netmap);
    let same = filter.same() && ssh.same();
    match args.format {
        OutputFormat::Json => {
            let part = |d: &Diff| {
                json!({"same": d.same(), "ours": d.ours, "theirs": d.theirs,
                       "only_ours": d.only_ours, "only_theirs": d.only_theirs,
                       "reordered": d.reordered})
            };
            let report = json!({"node": viewer, "same": same,
                                "filter": part(&filter), "ssh": part(&ssh)});
            serde_json::to_writer_pretty(&mut *out, &report)?;
            writeln!(out)?;
        }
        OutputFormat::Human => {
            writeln!(out, "node `{viewer}`")?;
            for (what, diff) in [("packet filter", &filter), ("SSH policy", &ssh)] {
                write_diff(what, diff, out)?;
            }
        }
    }
    Ok(if same {
        ExitStatus::Success
    } else {
        ExitStatus::PolicyErrors
    })
}

fn write_diff(what: &str, diff: &Diff, out: &mut impl Write) -> io::Result<()> {
    if diff.same() {
        return writeln!(out, "  {what}: same ({} rules)", diff.ours);
    }
    writeln!(
        out,
        "  {what}: differs (ours {} rules, control server {} rules)",
        diff.ours, diff.theirs
    )?;
    if diff.reordered {
        writeln!(out, "    same rules in a different order")?;
    }
    for rule in &diff.only_ours {
        writeln!(out, "    - only ours:           {rule}")?;
    }
    for rule in &diff.only_theirs {
        writeln!(out, "    + only control server: {rule}")?;
    }
    Ok(())
}

/// A member of a JSON object, key compared ignoring ASCII case.
fn member<'v>(value: &'v Value, key: &str) -> Option<&'v Value> {
    value
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

fn list(value: Option<&Value>) -> Vec<Value> {
    value.and_then(Value::as_array).cloned().unwrap_or_default()
}

/// Compares our filter and SSH rules for `viewer` with the netmap's.
pub(crate) fn verify(
    policy: &Policy,
    inventory: &Inventory,
    viewer: &str,
    netmap: &Value,
) -> (Diff, Diff) {
    let nodes = tailpolicy::compile(policy, inventory);
    let ours = nodes
        .get(viewer)
        .and_then(|n| serde_json::to_value(n).ok())
        .unwrap_or_default();
    let filter = diff(
        &list(ours.get("filter")),
        &list(member(netmap, "PacketFilterRules")),
        canonical_rule,
    );
    let theirs_ssh = member(netmap, "SSHPolicy").and_then(|p| member(p, "rules"));
    let ssh = diff(
        &list(ours.get("ssh_rules")),
        &list(theirs_ssh),
        canonical_ssh,
    );
    (filter, ssh)
}

fn diff(ours: &[Value], theirs: &[Value], canonical: fn(&Value) -> String) -> Diff {
    let a: Vec<String> = ours.iter().map(canonical).collect();
    let b: Vec<String> = theirs.iter().map(canonical).collect();
    let mut result = Diff {
        ours: a.len(),
        theirs: b.len(),
        ..Diff::default()
    };
    if a == b {
        return result;
    }
    let mut unmatched: Vec<Option<&String>> = b.iter().map(Some).collect();
    for (rule, key) in ours.iter().zip(&a) {
        match unmatched.iter_mut().find(|k| *k == &Some(key)) {
            Some(slot) => *slot = None,
            None => result.only_ours.push(rule.clone()),
        }
    }
    for (rule, slot) in theirs.iter().zip(&unmatched) {
        if slot.is_some() {
            result.only_theirs.push(rule.clone());
        }
    }
    result.reordered = result.only_ours.is_empty() && result.only_theirs.is_empty();
    result
}

fn strings(value: Option<&Value>) -> BTreeSet<String> {
    list(value)
        .iter()
        .filter_map(|s| s.as_str().map(str::to_owned))
        .collect()
}

/// A filter rule with order inside its lists dropped; null, absent and empty alike.
fn canonical_rule(rule: &Value) -> String {
    let dst: BTreeSet<(String, u64, u64)> = list(member(rule, "DstPorts"))
        .iter()
        .map(|d| {
            let ports = member(d, "Ports");
            let port = |k| {
                ports
                    .and_then(|p| member(p, k))
                    .and_then(Value::as_u64)
                    .unwrap_or(0)
            };
            let ip = member(d, "IP").and_then(Value::as_str).unwrap_or("");
            (ip.to_owned(), port("First"), port("Last"))
        })
        .collect();
    let proto: BTreeSet<u64> = list(member(rule, "IPProto"))
        .iter()
        .filter_map(Value::as_u64)
        .collect();
    let caps: Vec<(BTreeSet<String>, String)> = list(member(rule, "CapGrant"))
        .iter()
        .map(|c| {
            let map = member(c, "CapMap").cloned().unwrap_or(Value::Null);
            (strings(member(c, "Dsts")), map.to_string())
        })
        .collect();
    format!("{:?}", (strings(member(rule, "SrcIPs")), dst, proto, caps))
}

/// An SSH rule with principal order dropped and `holdAndDelegate` reduced to its presence.
fn canonical_ssh(rule: &Value) -> String {
    let mut principals: Vec<String> = list(member(rule, "principals"))
        .iter()
        .map(|p| {
            member(p, "nodeIP")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned()
        })
        .collect();
    principals.sort();
    let users: BTreeMap<String, String> = member(rule, "sshUsers")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_owned()))
                .collect()
        })
        .unwrap_or_default();
    let mut action: BTreeMap<String, Value> = member(rule, "action")
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    action.retain(|_, v| !v.is_null() && *v != Value::Bool(false));
    if let Some(hold) = action.get_mut("holdAndDelegate") {
        *hold = Value::Bool(true);
    }
    let env: Vec<String> = list(member(rule, "acceptEnv"))
        .iter()
        .map(|e| e.as_str().unwrap_or("").to_owned())
        .collect();
    format!("{:?}", (principals, users, action, env))
}
