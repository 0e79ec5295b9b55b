//! `tailpolicy pin`: `tests` entries that lock in what a source reaches today. Each accepted
//! destination port is pinned with its range's ends, and the ports just outside each range
//! (and 22, when not allowed) as denials, so any later change that widens or narrows the
//! source's access fails the policy's own tests, on Tailscale's server too.

use crate::inventory::Inventory;
use crate::model::Policy;
use crate::query::{Reach, Simulator};
use crate::syntax::{self, ValueKind};

/// One `tests` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinTest {
    pub src: String,
    pub proto: String,
    pub accept: Vec<String>,
    pub deny: Vec<String>,
}

/// The `tests` entries for `src`, each assertion checked against the policy (only answers
/// that hold in every tailnet consistent with the facts are kept).
pub fn pin_tests(
    policy: &Policy,
    inventory: Option<&Inventory>,
    src: &str,
) -> Result<Vec<PinTest>, String> {
    let simulator = Simulator::new(policy, inventory);
    let reach = simulator
        .reachable_from(src)
        .map_err(|e| format!("cannot list what `{src}` reaches: {e}"))?;
    let mut tests: Vec<PinTest> = Vec::new();
    for entry in &reach {
        let Some(host) = test_host(policy, entry, inventory) else {
            continue;
        };
        let ranges: Vec<(u32, u32)> = entry.ports.iter().filter_map(|p| port_range(p)).collect();
        for proto in &entry.protocols {
            let proto = proto.to_ascii_lowercase();
            if proto != "tcp" && proto != "udp" {
                continue;
            }
            let allowed = |port: u32| ranges.iter().any(|&(a, b)| a <= port && port <= b);
            let mut accept: Vec<u32> = Vec::new();
            let mut deny: Vec<u32> = Vec::new();
            for &(first, last) in &ranges {
                let first = first.max(1);
                accept.push(first);
                if last != first {
                    accept.push(last);
                }
                for near in [first.checked_sub(1), Some(last + 1)].into_iter().flatten() {
                    if (1..=65535).contains(&near) && !allowed(near) {
                        deny.push(near);
                    }
                }
            }
            if !allowed(22) {
                deny.push(22);
            }
            let check = |port: u32, want: bool| {
                simulator
                    .query(src, &format!("{host}:{port}"), Some(&proto))
                    .is_ok_and(|a| {
                        a.allowed == want && a.conditions.iter().all(|c| !c.decides_tests())
                    })
            };
            let keep = |ports: Vec<u32>, want: bool| -> Vec<String> {
                let mut ports = ports;
                ports.sort_unstable();
                ports.dedup();
                ports
                    .into_iter()
                    .filter(|&p| check(p, want))
                    .map(|p| format!("{host}:{p}"))
                    .collect()
            };
            let accept = keep(accept, true);
            let deny = keep(deny, false);
            if accept.is_empty() && deny.is_empty() {
                continue;
            }
            match tests.iter_mut().find(|t| t.proto == proto) {
                Some(test) => {
                    test.accept.extend(accept);
                    test.deny.extend(deny);
                }
                None => tests.push(PinTest {
                    src: src.to_owned(),
                    proto,
                    accept,
                    deny,
                }),
            }
        }
    }
    for test in &mut tests {
        test.accept.dedup();
        test.deny.dedup();
    }
    Ok(tests)
}

/// How a `tests` entry names the destination of a listing line: a node's IPv4 address (tests
/// take no node names), a hypothetical node's identity, or an address inside a routed range.
fn test_host(policy: &Policy, entry: &Reach, inventory: Option<&Inventory>) -> Option<String> {
    // Without an inventory, lines name host aliases and prefixes.
    if inventory.is_none() && entry.addr.is_none() {
        if let Some(alias) = policy
            .hosts
            .iter()
            .find(|h| h.name.value.trim() == entry.name)
        {
            let value = alias.value.value.trim();
            return value
                .parse::<std::net::IpAddr>()
                .is_ok()
                .then(|| entry.name.clone());
        }
        if entry.name.contains('/') {
            let mut inside = entry.clone();
            inside.addr = Some(entry.name.clone());
            return test_host(policy, &inside, Some(&Inventory::default()));
        }
    }
    if let Some(range) = &entry.addr {
        let set = crate::addr::IpSet::parse_tailscale(range).ok()?;
        let r = set.ranges().next()?;
        // Not the network address of a subnet: a host inside it.
        let first = r.first();
        let host = match first {
            std::net::IpAddr::V4(a) if !r.is_single() => {
                std::net::IpAddr::V4(std::net::Ipv4Addr::from(u32::from(a).saturating_add(1)))
            }
            other => other,
        };
        return Some(host.to_string()).filter(|_| host.is_ipv4());
    }
    if let Some(node) = inventory.and_then(|i| i.node(&entry.name)) {
        return node.ipv4.map(|a| a.to_string());
    }
    let identity = entry.name.strip_suffix(" (hypothetical)")?;
    (identity.starts_with("tag:")
        || identity.contains('@')
        || identity.parse::<std::net::Ipv4Addr>().is_ok())
    .then(|| identity.to_owned())
}

/// `*`, `N` or `N-M`.
fn port_range(text: &str) -> Option<(u32, u32)> {
    if text == "*" {
        return Some((0, 65535));
    }
    match text.split_once('-') {
        Some((a, b)) => Some((a.parse().ok()?, b.parse().ok()?)),
        None => {
            let p = text.parse().ok()?;
            Some((p, p))
        }
    }
}

fn quote(text: &str) -> String {
    serde_json::Value::String(text.to_owned()).to_string()
}

fn list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| quote(i)).collect();
    format!("[{}]", quoted.join(", "))
}

/// The entries as HuJSON text, one per line group, indented for a top-level array.
fn entries_text(tests: &[PinTest], src: &str) -> String {
    let mut out = format!(
        "\t\t// Pinned by `tailpolicy pin --src {src}`: what it reaches today, and the ports next to it.\n"
    );
    for test in tests {
        out.push_str("\t\t{\n");
        out.push_str(&format!("\t\t\t\"src\": {},\n", quote(&test.src)));
        out.push_str(&format!("\t\t\t\"proto\": {},\n", quote(&test.proto)));
        if !test.accept.is_empty() {
            out.push_str(&format!("\t\t\t\"accept\": {},\n", list(&test.accept)));
        }
        if !test.deny.is_empty() {
            out.push_str(&format!("\t\t\t\"deny\": {},\n", list(&test.deny)));
        }
        out.push_str("\t\t},\n");
    }
    out
}

/// `text` with `tests` appended to its `tests` array (created when missing), every comment
/// kept; formatted canonically when `text` was. Fails, leaving nothing changed, when the
/// result is not a valid policy whose tests all pass.
pub fn insert_tests(
    text: &str,
    tests: &[PinTest],
    src: &str,
    inventory: Option<&Inventory>,
) -> Result<String, String> {
    let parsed = syntax::parse(text);
    let root = parsed.value.ok_or("the policy does not parse")?;
    let ValueKind::Object(members) = &root.kind else {
        return Err("the policy is not a JSON object".to_owned());
    };
    let entries = entries_text(tests, src);
    let at = |offset: u32| usize::try_from(offset).unwrap_or(usize::MAX);
    let splice = |offset: usize, insert: &str| -> Option<String> {
        Some(format!(
            "{}{insert}{}",
            text.get(..offset)?,
            text.get(offset..)?
        ))
    };
    let tests_member = members
        .iter()
        .rev()
        .find(|m| m.key.eq_ignore_ascii_case("tests"));
    let result = match tests_member {
        Some(member) => match &member.value.kind {
            ValueKind::Array(items) => match items.last() {
                Some(last) => splice(
                    at(last.span.end),
                    &format!(",\n{}", entries.trim_end_matches(",\n")),
                ),
                None => splice(at(member.value.span.start) + 1, &format!("\n{entries}\t")),
            },
            _ => return Err("`tests` is not an array".to_owned()),
        },
        None => match members.last() {
            Some(last) => splice(
                at(last.value.span.end),
                &format!(",\n\n\t\"tests\": [\n{}\t]", entries),
            ),
            None => splice(
                at(root.span.start) + 1,
                &format!("\n\t\"tests\": [\n{entries}\t],\n"),
            ),
        },
    }
    .ok_or("cannot place the tests in the text")?;
    let result = match crate::format::format(text) {
        Ok(formatted) if formatted == text => {
            crate::format::format(&result).map_err(|_| "the result does not format".to_owned())?
        }
        _ => result,
    };
    let options = crate::CheckOptions {
        inventory,
        ..crate::CheckOptions::default()
    };
    let policy = crate::parse_valid(&result, &options).map_err(|report| {
        let first = report
            .diagnostics
            .iter()
            .find(|d| d.is_error())
            .map(|d| d.message.clone())
            .unwrap_or_default();
        format!("the policy with the pinned tests is not valid: {first}")
    })?;
    let failures: Vec<String> =
        crate::policy_tests::diagnostics(&crate::policy_tests::run(&policy, inventory))
            .into_iter()
            .filter(|d| d.is_error())
            .map(|d| d.message)
            .collect();
    if let Some(first) = failures.first() {
        return Err(format!("a pinned test would fail: {first}"));
    }
    Ok(result)
}
