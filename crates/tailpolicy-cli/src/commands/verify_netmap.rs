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

use crate::exit::ExitStatus;
use crate::input::policy::load;
use crate::input::{display_path, read_text};
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

#[cfg(test)]
mod tests {
    //! Netmaps derived from the conformance captures: each node of each capture with
    //! compiled filters or SSH rules becomes a `tailscale debug netmap` file (its visible
    //! peers, the captured `PacketFilterRules` and `SSHPolicy`), which must verify clean;
    //! one with a changed rule must report exactly that rule.
    #![allow(clippy::print_stdout, reason = "the test prints its count")]

    use std::path::PathBuf;

    use serde_json::{Map, Value, json};
    use tailpolicy::Inventory;

    use super::verify;

    fn corpus() -> Option<PathBuf> {
        let dir = std::env::var_os("TAILPOLICY_CONFORMANCE_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance")
            })
            .join("headscale/saas");
        if dir.is_dir() {
            Some(dir)
        } else {
            println!("skipped: conformance corpus not found at {}", dir.display());
            None
        }
    }

    const TAGGED_DEVICES: u64 = 999_999;

    /// The netmap `viewer` would get: itself, the peers the capture shows it (all nodes
    /// when the capture has no peers), and what the control server compiled for it.
    fn netmap(case: &Value, viewer: &str) -> Value {
        let users = case["users"].as_array().cloned().unwrap_or_default();
        let user_id = |name: &str| {
            users
                .iter()
                .find(|u| u["name"] == name)
                .and_then(|u| u["id"].as_u64())
        };
        let visible = case["expect"]["peers"]
            .get(viewer)
            .and_then(Value::as_object);
        let node = |n: &Value| {
            let mut node = Map::new();
            let name = n["name"].as_str().unwrap_or("");
            node.insert("Name".into(), json!(format!("{name}.tail1234.ts.net.")));
            let addresses: Vec<String> = [("ipv4", "/32"), ("ipv6", "/128")]
                .iter()
                .filter_map(|(k, bits)| n[*k].as_str().map(|a| format!("{a}{bits}")))
                .collect();
            let mut allowed = addresses.clone();
            for route in n["approved_routes"].as_array().into_iter().flatten() {
                allowed.push(route.as_str().unwrap_or("").to_owned());
            }
            node.insert("Addresses".into(), json!(addresses));
            node.insert("AllowedIPs".into(), json!(allowed));
            let owner = n["user"].as_str().and_then(user_id);
            node.insert("User".into(), json!(owner.unwrap_or(TAGGED_DEVICES)));
            if n["tags"].as_array().is_some_and(|t| !t.is_empty()) {
                node.insert("Tags".into(), n["tags"].clone());
            }
            node.insert(
                "Hostinfo".into(),
                json!({"Hostname": name, "RoutableIPs": n["routable_ips"]}),
            );
            Value::Object(node)
        };
        let nodes = case["nodes"].as_array().cloned().unwrap_or_default();
        let me = nodes.iter().find(|n| n["name"] == viewer).cloned();
        let peers: Vec<Value> = nodes
            .iter()
            .filter(|n| n["name"] != viewer)
            .filter(|n| {
                visible.is_none_or(|v| n["name"].as_str().is_some_and(|p| v.contains_key(p)))
            })
            .map(node)
            .collect();
        let mut profiles = Map::new();
        for u in &users {
            let login = u["email"].as_str().or(u["name"].as_str()).unwrap_or("");
            profiles.insert(
                u["id"].to_string(),
                json!({"ID": u["id"], "LoginName": login, "DisplayName": u["name"]}),
            );
        }
        profiles.insert(
            TAGGED_DEVICES.to_string(),
            json!({"ID": TAGGED_DEVICES, "LoginName": "tagged-devices"}),
        );
        json!({
            "SelfNode": me.as_ref().map(node),
            "Peers": peers,
            "UserProfiles": profiles,
            "PacketFilterRules": case["expect"]["filter"].get(viewer).cloned().unwrap_or(Value::Null),
            "SSHPolicy": {"rules": case["expect"]["ssh_rules"].get(viewer).cloned().unwrap_or(Value::Null)},
        })
    }

    /// Every (capture, node) whose netmap we can build, with its policy.
    fn derived() -> Vec<(String, String, Value, [bool; 2])> {
        let Some(dir) = corpus() else {
            return Vec::new();
        };
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .flat_map(|folder| std::fs::read_dir(folder.unwrap().path()).unwrap())
            .map(|f| f.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        paths.sort();
        let mut out = Vec::new();
        for path in paths {
            let case: Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            let expect = &case["expect"];
            let compiled = expect.get("filter").is_some() || expect.get("ssh_rules").is_some();
            if !compiled || case["unreliable"] == true || expect["valid"] == false {
                continue;
            }
            let policy = case["policy"].as_str().unwrap_or("").to_owned();
            // Only what the capture recorded is compared.
            let recorded = [
                expect.get("filter").is_some(),
                expect.get("ssh_rules").is_some(),
            ];
            for node in case["nodes"].as_array().into_iter().flatten() {
                let viewer = node["name"].as_str().unwrap_or("");
                let name = format!("{}@{viewer}", case["name"].as_str().unwrap_or(""));
                out.push((name, policy.clone(), netmap(&case, viewer), recorded));
            }
        }
        out
    }

    fn check(policy: &str, netmap: &Value) -> (super::Diff, super::Diff) {
        let root = tailpolicy::syntax::parse(policy).value.unwrap();
        let policy = tailpolicy::model::lower(&root).0;
        let read = Inventory::read(&netmap.to_string()).unwrap_or_else(|e| panic!("{}", e.message));
        let viewer = read.viewer.unwrap();
        verify(&policy, &read.inventory, &viewer, netmap)
    }

    #[test]
    fn netmaps_derived_from_the_captures_verify_clean() {
        let cases = derived();
        let mut failures = Vec::new();
        let mut rules = 0;
        for (name, policy, netmap, [has_filter, has_ssh]) in &cases {
            let (filter, ssh) = check(policy, netmap);
            rules += filter.theirs + ssh.theirs;
            if (*has_filter && !filter.same()) || (*has_ssh && !ssh.same()) {
                failures.push(format!("{name}: filter {filter:?}\n  ssh {ssh:?}"));
            }
        }
        println!(
            "{} netmaps verified ({} control-server rules), {} differ",
            cases.len(),
            rules,
            failures.len()
        );
        for f in failures.iter().take(5) {
            println!("DIFF {f}");
        }
        assert!(failures.is_empty(), "{} netmaps differ", failures.len());
    }

    #[test]
    fn a_changed_rule_is_reported() {
        let cases = derived();
        let Some((name, policy, netmap, _)) = cases.iter().find(|(_, _, n, _)| {
            n["PacketFilterRules"]
                .as_array()
                .is_some_and(|r| r.len() >= 2)
        }) else {
            return;
        };
        let mut changed = netmap.clone();
        let rule = &mut changed["PacketFilterRules"][1];
        let original = rule.clone();
        rule["DstPorts"][0]["Ports"] = json!({"First": 4242, "Last": 4242});
        let edited = rule.clone();
        let (filter, ssh) = check(policy, &changed);
        assert_eq!(ssh.only_theirs.len(), 0, "{name}");
        assert_eq!(filter.only_theirs, [edited], "{name}");
        assert_eq!(filter.only_ours, [original], "{name}");
        let mut swapped = netmap.clone();
        let list = swapped["PacketFilterRules"].as_array_mut().unwrap();
        list.swap(0, 1);
        let (filter, _) = check(policy, &swapped);
        assert!(filter.reordered || filter.same(), "{name}: {filter:?}");
    }
}
