//! A large, realistic and valid policy of a given size, and the HuJSON stripper of the
//! `serde_json` baseline.

use std::fmt::Write as _;

use crate::{PORTS, Rng, SERVICES, TEAMS, grant_ip, string_list};

/// How many of each kind of entry to generate.
struct Scale {
    users: usize,
    groups: usize,
    hosts: usize,
    tags: usize,
    acls: usize,
    grants: usize,
    ssh: usize,
}

impl Scale {
    fn new(unit: usize) -> Self {
        let unit = unit.max(1);
        Scale {
            users: unit * 4,
            groups: unit,
            hosts: unit,
            tags: unit,
            acls: unit * 2,
            grants: unit,
            ssh: unit.div_ceil(2),
        }
    }
}

fn group_name(rng: &mut Rng, scale: &Scale) -> String {
    let i = rng.below(scale.groups);
    format!("group:{}-{i}", TEAMS[i % TEAMS.len()])
}

fn tag_name(rng: &mut Rng, scale: &Scale) -> String {
    let i = rng.below(scale.tags);
    format!("tag:{}-{i}", SERVICES[i % SERVICES.len()])
}

fn user_name(rng: &mut Rng, scale: &Scale) -> String {
    let i = rng.below(scale.users);
    format!("user{i}@example.com")
}

fn host_name(rng: &mut Rng, scale: &Scale) -> String {
    let i = rng.below(scale.hosts);
    if i.is_multiple_of(3) {
        format!("net-{i}")
    } else {
        format!("host-{i}")
    }
}

/// A src selector for ACLs and grants.
fn source(rng: &mut Rng, scale: &Scale) -> String {
    match rng.below(10) {
        0..=3 => group_name(rng, scale),
        4..=5 => tag_name(rng, scale),
        6 => user_name(rng, scale),
        7 => host_name(rng, scale),
        8 => "autogroup:member".to_owned(),
        _ => format!("100.{}.{}.0/24", 64 + rng.below(60), rng.below(256)),
    }
}

/// A dst selector, without ports.
fn destination(rng: &mut Rng, scale: &Scale) -> String {
    match rng.below(10) {
        0..=4 => tag_name(rng, scale),
        5..=6 => host_name(rng, scale),
        7 => group_name(rng, scale),
        8 => "autogroup:self".to_owned(),
        _ => "autogroup:internet".to_owned(),
    }
}

fn write_policy(unit: usize) -> String {
    let scale = Scale::new(unit);
    let mut rng = Rng(0x2026_1127_7a11_9011);
    let mut out = String::with_capacity(unit * 1100);
    out.push_str("// Tailnet policy for example.com (generated for benchmarks).\n");
    out.push_str("// Every group, tag and host referenced below is defined.\n{\n");

    // Groups: every user is in one home group, plus a few random extra members.
    out.push_str("  // Teams. Membership is synced nightly from the HR system.\n  \"groups\": {\n");
    for g in 0..scale.groups {
        if g.is_multiple_of(50) {
            let _ = writeln!(out, "    // Teams {g} and up");
        }
        let _ = write!(out, "    \"group:{}-{g}\": ", TEAMS[g % TEAMS.len()]);
        let mut members: Vec<String> = (0..4)
            .map(|k| format!("user{}@example.com", g * 4 + k))
            .collect();
        for _ in 0..rng.below(4) {
            let user = user_name(&mut rng, &scale);
            if !members.contains(&user) {
                members.push(user);
            }
        }
        string_list(&mut out, members);
        out.push_str(",\n");
    }
    out.push_str("  },\n\n");

    // Hosts: single addresses and subnets.
    out.push_str("  /* Named addresses: servers outside Tailscale and on-premises subnets. */\n");
    out.push_str("  \"hosts\": {\n");
    for h in 0..scale.hosts {
        if h.is_multiple_of(3) {
            let _ = writeln!(
                out,
                "    \"net-{h}\": \"10.{}.{}.0/24\",",
                (h / 256) % 256,
                h % 256
            );
        } else {
            let _ = writeln!(
                out,
                "    \"host-{h}\": \"192.168.{}.{}\",",
                (h / 250) % 256,
                h % 250 + 1
            );
        }
    }
    out.push_str("  },\n\n");

    // Tag owners: a team, sometimes admins or another tag.
    out.push_str("  // Who may apply each tag.\n  \"tagOwners\": {\n");
    for t in 0..scale.tags {
        let _ = write!(out, "    \"tag:{}-{t}\": ", SERVICES[t % SERVICES.len()]);
        let mut owners = vec![group_name(&mut rng, &scale)];
        if rng.chance(30) {
            owners.push("autogroup:admin".to_owned());
        }
        if rng.chance(10) {
            owners.push(tag_name(&mut rng, &scale));
        }
        string_list(&mut out, owners);
        out.push_str(",\n");
    }
    out.push_str("  },\n\n");

    // ACLs.
    out.push_str("  \"acls\": [\n");
    for a in 0..scale.acls {
        if a.is_multiple_of(25) {
            let _ = writeln!(
                out,
                "    // Rules {a} and up: service access for the teams."
            );
        }
        let sources: Vec<String> = (0..1 + rng.below(3))
            .map(|_| source(&mut rng, &scale))
            .collect();
        let self_ok = sources
            .iter()
            .all(|s| s.starts_with("group:") || s.contains('@'));
        let mut destinations = Vec::new();
        for _ in 0..1 + rng.below(4) {
            let mut dst = destination(&mut rng, &scale);
            if dst == "autogroup:self" && !self_ok {
                dst = tag_name(&mut rng, &scale);
            }
            destinations.push(format!("{dst}:{}", rng.pick(PORTS)));
        }
        out.push_str("    {\n      \"action\": \"accept\",\n");
        if rng.chance(15) {
            out.push_str("      \"proto\": \"tcp\",\n");
        }
        out.push_str("      \"src\": ");
        string_list(&mut out, sources);
        out.push_str(",\n      \"dst\": ");
        string_list(&mut out, destinations);
        out.push_str(",\n    },\n");
    }
    out.push_str("  ],\n\n");

    // Grants.
    out.push_str("  \"grants\": [\n");
    for g in 0..scale.grants {
        if g.is_multiple_of(25) {
            let _ = writeln!(out, "    /* Grants {g} and up */");
        }
        let sources: Vec<String> = (0..1 + rng.below(3))
            .map(|_| source(&mut rng, &scale))
            .collect();
        let destinations: Vec<String> = (0..1 + rng.below(3))
            .map(|_| {
                let dst = destination(&mut rng, &scale);
                if dst == "autogroup:self" {
                    tag_name(&mut rng, &scale)
                } else {
                    dst
                }
            })
            .collect();
        let ip = grant_ip(&mut rng);
        out.push_str("    {\n      \"src\": ");
        string_list(&mut out, sources);
        out.push_str(",\n      \"dst\": ");
        string_list(&mut out, destinations);
        out.push_str(",\n      \"ip\": ");
        string_list(&mut out, ip);
        out.push_str(",\n    },\n");
    }
    out.push_str("  ],\n\n");

    // SSH: users to tagged servers or their own devices; tags to tags (accept only).
    out.push_str("  \"ssh\": [\n");
    for _ in 0..scale.ssh {
        let from_tags = rng.chance(20);
        let (action, sources, destinations) = if from_tags {
            (
                "accept",
                vec![tag_name(&mut rng, &scale)],
                vec![tag_name(&mut rng, &scale)],
            )
        } else {
            let action = if rng.chance(30) { "check" } else { "accept" };
            let sources: Vec<String> = (0..1 + rng.below(2))
                .map(|_| group_name(&mut rng, &scale))
                .collect();
            let dst = if rng.chance(25) {
                "autogroup:self".to_owned()
            } else {
                tag_name(&mut rng, &scale)
            };
            (action, sources, vec![dst])
        };
        let _ = write!(
            out,
            "    {{\n      \"action\": \"{action}\",\n      \"src\": "
        );
        string_list(&mut out, sources);
        out.push_str(",\n      \"dst\": ");
        string_list(&mut out, destinations);
        out.push_str(",\n      \"users\": [\"autogroup:nonroot\", \"root\"],\n");
        if action == "check" {
            out.push_str("      \"checkPeriod\": \"12h\",\n");
        }
        out.push_str("    },\n");
    }
    out.push_str("  ],\n}\n");
    out
}

/// A realistic HuJSON policy of about `target_bytes` bytes, the same for the same argument.
///
/// Thousands of groups with members, hosts, tagOwners, ACLs with several `src`/`dst` entries
/// such as `"tag:svc-12:443,8080"`, grants with `ip`, SSH rules, comments and trailing commas.
/// Every group, tag and host it references is defined, so the policy is valid.
pub fn generate_policy(target_bytes: usize) -> String {
    const PROBE: usize = 100;
    // Sizes grow slightly faster than linearly (longer numbers), so estimate twice.
    let probe = write_policy(PROBE).len().max(1);
    let unit = (target_bytes.saturating_mul(PROBE) / probe).max(1);
    let estimate = write_policy(unit);
    let unit = (target_bytes.saturating_mul(unit) / estimate.len().max(1)).max(1);
    write_policy(unit)
}

/// Turns HuJSON into plain JSON: removes comments and trailing commas, leaving strings alone.
pub fn strip_hujson(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut pending_comma = false;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'"' => {
                if std::mem::take(&mut pending_comma) {
                    out.push(b',');
                }
                let start = i;
                i += 1;
                while let Some(&c) = bytes.get(i) {
                    i += if c == b'\\' { 2 } else { 1 };
                    if c == b'"' {
                        break;
                    }
                }
                out.extend_from_slice(bytes.get(start..i.min(bytes.len())).unwrap_or_default());
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while bytes.get(i).is_some_and(|&c| c != b'\n') {
                    i += 1;
                }
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i < bytes.len()
                    && !(bytes.get(i) == Some(&b'*') && bytes.get(i + 1) == Some(&b'/'))
                {
                    i += 1;
                }
                i += 2;
                continue;
            }
            b',' => pending_comma = true,
            b' ' | b'\t' | b'\r' | b'\n' => out.push(b),
            b']' | b'}' => {
                pending_comma = false;
                out.push(b);
            }
            _ => {
                if std::mem::take(&mut pending_comma) {
                    out.push(b',');
                }
                out.push(b);
            }
        }
        i += 1;
    }
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_policy_parses_and_strips_to_the_same_json() {
        let text = generate_policy(300_000);
        assert!((250_000..350_000).contains(&text.len()), "{}", text.len());
        assert_eq!(text, generate_policy(300_000), "deterministic");
        let out = tailpolicy::syntax::parse(&text);
        assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics.first());
        assert!(out.comments.len() > 20);
        let stripped = strip_hujson(&text);
        assert!(!stripped.contains("//") && !stripped.contains("/*"));
        let baseline: serde_json::Value = serde_json::from_str(&stripped).unwrap();
        assert_eq!(out.value.unwrap().to_json(), baseline);
        for section in ["groups", "hosts", "tagOwners", "acls", "grants", "ssh"] {
            assert!(baseline.get(section).is_some(), "{section}");
        }
    }

    #[test]
    fn strip_keeps_comment_markers_and_commas_inside_strings() {
        let text =
            "{\"a\": \"// x, /* y */ ]\", /* c */ \"b\": [1, 2, // t\n],\n \"e\": \"\\\"\",}";
        let stripped = strip_hujson(text);
        let value: serde_json::Value = serde_json::from_str(&stripped).unwrap();
        assert_eq!(
            value,
            serde_json::json!({"a": "// x, /* y */ ]", "b": [1, 2], "e": "\""})
        );
    }

    #[test]
    fn every_reference_is_defined() {
        let text = generate_policy(200_000);
        let policy: serde_json::Value = serde_json::from_str(&strip_hujson(&text)).unwrap();
        let keys = |section: &str| -> std::collections::HashSet<String> {
            policy[section]
                .as_object()
                .unwrap()
                .keys()
                .cloned()
                .collect()
        };
        let (groups, hosts, tags) = (keys("groups"), keys("hosts"), keys("tagOwners"));
        let mut selectors: Vec<String> = Vec::new();
        for rule in policy["acls"].as_array().unwrap() {
            selectors.extend(
                rule["src"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s.as_str().unwrap().to_owned()),
            );
            for dst in rule["dst"].as_array().unwrap() {
                let dst = dst.as_str().unwrap();
                selectors.push(dst[..dst.rfind(':').unwrap()].to_owned());
            }
        }
        for section in ["grants", "ssh"] {
            for rule in policy[section].as_array().unwrap() {
                for side in ["src", "dst"] {
                    selectors.extend(
                        rule[side]
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|s| s.as_str().unwrap().to_owned()),
                    );
                }
            }
        }
        for owners in policy["tagOwners"].as_object().unwrap().values() {
            selectors.extend(
                owners
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s.as_str().unwrap().to_owned()),
            );
        }
        for selector in &selectors {
            let ok = if selector.starts_with("group:") {
                groups.contains(selector)
            } else if selector.starts_with("tag:") {
                tags.contains(selector)
            } else if selector.starts_with("host-") || selector.starts_with("net-") {
                hosts.contains(selector)
            } else {
                selector.starts_with("autogroup:")
                    || selector.contains('@')
                    || selector.starts_with("100.")
            };
            assert!(ok, "undefined or unexpected selector {selector}");
        }
    }
}
