//! Conformance vectors for the value modules.
//!
//! * Every file in `headscale/unit/vectors/` (function-level vectors from headscale's unit
//!   tests). A vector's `error` must be a substring of our message.
//! * Cross-checks against the SaaS captures: every address string in a captured filter
//!   parses and formats back to itself, and every port spec, grant `ip` entry, protocol,
//!   tag, capability name, `ipPool` and `checkPeriod` in a policy SaaS accepted is accepted
//!   here, while the ones SaaS rejected give SaaS's message.
#![expect(
    clippy::panic,
    reason = "test code: a panic fails the test, and clippy.toml's test exemptions do not reach helpers outside `#[test]` functions"
)]

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;
use tailpolicy::addr::{IpSet, internet_wire_strings, tailnet};
use tailpolicy::duration::parse_check_period;
use tailpolicy::names::{check_capability_name, check_ip_pool, check_tag};
use tailpolicy::ports::{
    PortRange, parse_acl_destination, parse_port, parse_port_spec, split_destination_and_port,
};
use tailpolicy::proto::{check_ports_for_protocol, parse_grant_ip, parse_protocol};

fn vectors_dir() -> Option<PathBuf> {
    common::corpus_dir().map(|d| d.join("headscale").join("unit").join("vectors"))
}

fn saas_dir() -> Option<PathBuf> {
    common::corpus_dir().map(|d| d.join("headscale").join("saas"))
}

/// Reads and parses one JSON file of the corpus.
fn read_json(path: &Path) -> Value {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()))
}

/// Every `*.json` file under `dir`, recursively, sorted.
fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "json") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn str_field<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// Checks one outcome against a vector's `error` field; returns a failure description.
fn check_error(
    file: &str,
    input: &str,
    expected: Option<&str>,
    got: Result<(), String>,
) -> Option<String> {
    match (expected, got) {
        (None, Ok(())) => None,
        (None, Err(e)) => Some(format!(
            "{file}: {input:?}: expected success, got error {e:?}"
        )),
        (Some(want), Ok(())) => Some(format!(
            "{file}: {input:?}: expected error {want:?}, got success"
        )),
        (Some(want), Err(e)) if e.contains(want) => None,
        (Some(want), Err(e)) => Some(format!(
            "{file}: {input:?}: error {e:?} does not contain {want:?}"
        )),
    }
}

fn run_vector(file: &str, v: &Value) -> Option<String> {
    match file {
        "split_destination_and_port" => {
            let input = str_field(v, "input")?;
            let got = split_destination_and_port(input);
            if let Ok((dst, port)) = &got {
                let want = (str_field(v, "dst"), str_field(v, "port"));
                if want != (Some(dst.as_ref()), Some(*port)) {
                    return Some(format!(
                        "{file}: {input:?}: got ({dst:?}, {port:?}), want {want:?}"
                    ));
                }
            }
            check_error(
                file,
                input,
                str_field(v, "error"),
                got.map(|_| ()).map_err(|e| e.to_string()),
            )
        }
        "parse_port" => {
            let input = str_field(v, "input")?;
            let got = parse_port(input);
            if let Ok(port) = got
                && v.get("port").and_then(Value::as_u64) != Some(u64::from(port))
            {
                return Some(format!("{file}: {input:?}: got {port}, want {}", v["port"]));
            }
            check_error(
                file,
                input,
                str_field(v, "error"),
                got.map(|_| ()).map_err(|e| e.to_string()),
            )
        }
        "parse_port_range" => {
            let input = str_field(v, "input")?;
            let got = parse_port_spec(input);
            if let Ok(ranges) = &got {
                let want: Option<Vec<PortRange>> =
                    serde_json::from_value(v.get("ranges").cloned().unwrap_or(Value::Null)).ok();
                if want.as_ref() != Some(ranges) {
                    return Some(format!("{file}: {input:?}: got {ranges:?}, want {want:?}"));
                }
            }
            check_error(
                file,
                input,
                str_field(v, "error"),
                got.map(|_| ()).map_err(|e| e.to_string()),
            )
        }
        "tag_name" => {
            let input = str_field(v, "tag")?;
            check_error(
                file,
                input,
                str_field(v, "error"),
                check_tag(input).map_err(|e| e.to_string()),
            )
        }
        "grant_app_capability_name" => {
            let input = str_field(v, "cap")?;
            let got = check_capability_name(input).map_err(|e| e.to_string());
            check_error(file, input, str_field(v, "error"), got)
        }
        "nodeattrs_ippool" => {
            let input = str_field(v, "prefix")?;
            let got = match input.parse() {
                Ok(net) => check_ip_pool(&net).map_err(|e| e.to_string()),
                Err(e) => Err(format!("unparsable prefix: {e}")),
            };
            check_error(file, input, str_field(v, "error"), got)
        }
        other => Some(format!("{other}: no runner for this vector file")),
    }
}

#[test]
fn unit_vector_files() {
    let Some(dir) = vectors_dir() else { return };
    let files = json_files(&dir);
    assert!(!files.is_empty(), "no vector files in {}", dir.display());
    let mut failures = Vec::new();
    let mut ran = 0;
    let mut names = BTreeSet::new();
    for path in &files {
        let doc = read_json(path);
        assert_eq!(
            doc["schema"],
            "headscale-conformance-vectors/1",
            "{}",
            path.display()
        );
        let name = str_field(&doc, "name").unwrap_or_default().to_owned();
        let vectors = doc["vectors"].as_array().expect("vectors array");
        assert!(!vectors.is_empty(), "{name}: no vectors");
        for v in vectors {
            ran += 1;
            failures.extend(run_vector(&name, v));
        }
        names.insert(name);
    }
    assert!(
        failures.is_empty(),
        "{} of {ran} vectors failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // The six files the README documents (87 vectors) must all have run.
    for expected in [
        "split_destination_and_port",
        "parse_port",
        "parse_port_range",
        "tag_name",
        "grant_app_capability_name",
        "nodeattrs_ippool",
    ] {
        assert!(names.contains(expected), "vector file {expected} missing");
    }
    assert!(ran >= 87, "only {ran} vectors ran");
}

/// Every SaaS case, as (file name, parsed case).
fn saas_cases(dir: &Path) -> Vec<(String, Value)> {
    json_files(dir)
        .into_iter()
        .map(|p| {
            let name = p
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default()
                .to_owned();
            (name, read_json(&p))
        })
        .collect()
}

/// Every address string in captured filters and peer AllowedIPs round-trips through
/// `IpSet::parse_tailscale` and the wire formatter.
#[test]
fn saas_address_strings_round_trip() {
    let Some(dir) = saas_dir() else { return };
    let mut strings = BTreeSet::new();
    let mut wildcard_sources = 0;
    let mut cap_dsts = 0;
    for (name, case) in saas_cases(&dir) {
        let expect = &case["expect"];
        for rules in expect["filter"]
            .as_object()
            .into_iter()
            .flat_map(|m| m.values())
        {
            for rule in rules.as_array().into_iter().flatten() {
                let srcs: Vec<&str> = rule["SrcIPs"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                if srcs.contains(&"100.64.0.0-100.115.91.255") {
                    wildcard_sources += 1;
                    let set = IpSet::parse_tailscale_list(srcs.iter().copied())
                        .unwrap_or_else(|e| panic!("{name}: {e}"));
                    assert!(
                        tailnet().is_subset(&set),
                        "{name}: wildcard SrcIPs miss the tailnet"
                    );
                }
                strings.extend(srcs.iter().map(|s| s.to_string()));
                for dp in rule["DstPorts"].as_array().into_iter().flatten() {
                    strings.extend(str_field(dp, "IP").map(str::to_owned));
                }
                // CapGrant destinations are prefixes (`netip.Prefix`), `/32` included.
                for cg in rule["CapGrant"].as_array().into_iter().flatten() {
                    for dst in strings_of(&cg["Dsts"]) {
                        let net: ipnet::IpNet =
                            dst.parse().unwrap_or_else(|e| panic!("{name}: {dst}: {e}"));
                        assert_eq!(net.to_string(), dst);
                        cap_dsts += 1;
                    }
                }
            }
        }
        for peers in expect["peers"]
            .as_object()
            .into_iter()
            .flat_map(|m| m.values())
        {
            for ips in peers.as_object().into_iter().flat_map(|m| m.values()) {
                strings.extend(
                    ips.as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                        .map(str::to_owned),
                );
            }
        }
    }
    assert!(
        strings.len() > 100,
        "too few address strings: {}",
        strings.len()
    );
    assert!(wildcard_sources > 0);
    assert!(cap_dsts > 0);
    for s in &strings {
        let set = IpSet::parse_tailscale(s).unwrap_or_else(|e| panic!("{s}: {e}"));
        if s == "*" {
            assert!(set.is_all());
            continue;
        }
        assert_eq!(set.range_count(), 1, "{s}");
        let wire = set.to_wire_strings();
        let ranges = set.to_range_strings();
        assert!(
            wire.first() == Some(s) || ranges.first() == Some(s),
            "{s} formats as {wire:?} / {ranges:?}"
        );
    }
    // The internet ranges appear verbatim in the captures (exit-node cases).
    let internet = internet_wire_strings();
    for r in &internet {
        assert!(strings.contains(r), "{r} not in any capture");
    }
}

fn get<'a>(v: &'a Value, key: &str) -> &'a Value {
    v.get(key).unwrap_or(&Value::Null)
}

fn strings_of(v: &Value) -> impl Iterator<Item = &str> {
    v.as_array().into_iter().flatten().filter_map(Value::as_str)
}

/// The messages our value modules give for one policy, one per rejected value.
fn value_errors(policy: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    for acl in get(policy, "acls").as_array().into_iter().flatten() {
        let proto = str_field(acl, "proto").unwrap_or("");
        let parsed_proto = if proto.is_empty() {
            None
        } else {
            match parse_protocol(proto) {
                Ok(p) => Some(p),
                Err(e) => {
                    errors.push(e.to_string());
                    None
                }
            }
        };
        for dst in strings_of(get(acl, "dst")) {
            match parse_acl_destination(dst) {
                Ok(d) => {
                    if let Err(e) = check_ports_for_protocol(parsed_proto, proto, &d.ports) {
                        errors.push(e.to_string());
                    }
                }
                Err(e) => errors.push(e.to_string()),
            }
        }
    }
    for grant in get(policy, "grants").as_array().into_iter().flatten() {
        for ip in strings_of(get(grant, "ip")) {
            if let Err(e) = parse_grant_ip(ip) {
                errors.push(e.to_string());
            }
        }
        for cap in get(grant, "app")
            .as_object()
            .into_iter()
            .flat_map(|m| m.keys())
        {
            if let Err(e) = check_capability_name(cap) {
                errors.push(e.to_string());
            }
        }
    }
    for tag in get(policy, "tagOwners")
        .as_object()
        .into_iter()
        .flat_map(|m| m.keys())
    {
        if let Err(e) = check_tag(tag) {
            errors.push(format!("tagOwners[{tag:?}]: {e}"));
        }
    }
    for ssh in get(policy, "ssh").as_array().into_iter().flatten() {
        if let Some(period) = str_field(ssh, "checkPeriod")
            && let Err(e) = parse_check_period(period)
        {
            errors.push(e.to_string());
        }
    }
    for attr in get(policy, "nodeAttrs").as_array().into_iter().flatten() {
        for pool in strings_of(get(attr, "ipPool")) {
            match pool.parse() {
                Ok(net) => {
                    if let Err(e) = check_ip_pool(&net) {
                        errors.push(e.to_string());
                    }
                }
                Err(_) => errors.push(format!("{pool:?}: invalid prefix")),
            }
        }
    }
    errors
}

/// Policies SaaS accepted pass every value check; policies it rejected for a value this
/// crate checks are rejected with SaaS's message.
#[test]
fn saas_policy_values() {
    let Some(dir) = saas_dir() else { return };
    // Messages that come from the value modules.
    const OURS: [&str; 6] = [
        "port range",
        "capability name",
        "checkPeriod",
        "time: ",
        "IPPool(",
        "tag names",
    ];
    let mut failures = Vec::new();
    let (mut accepted, mut rejected) = (0, 0);
    for (name, case) in saas_cases(&dir) {
        let Some(text) = case["policy"].as_str() else {
            continue;
        };
        let Ok(policy) = serde_json::from_str::<Value>(text) else {
            continue;
        };
        let errors = value_errors(&policy);
        let expect = &case["expect"];
        if expect["valid"] == Value::Bool(true) {
            accepted += 1;
            if !errors.is_empty() {
                failures.push(format!("{name}: SaaS accepted, we reject: {errors:?}"));
            }
        } else if let Some(want) = str_field(expect, "error")
            && OURS.iter().any(|m| want.contains(m))
        {
            rejected += 1;
            if !errors.iter().any(|e| e.contains(want)) {
                failures.push(format!("{name}: want {want:?}, got {errors:?}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(accepted > 500, "only {accepted} accepted cases checked");
    assert!(rejected >= 10, "only {rejected} rejected cases checked");
}
