//! The policy's own `tests` and `sshTests`, run offline with Tailscale's semantics
//! (policy-semantics §7).
//!
//! * A `tests` entry runs from a device with the `src` identity: a node of the inventory
//!   with exactly that identity, or a hypothetical one (Tailscale fails a test whose user has
//!   no device; we evaluate it as if the user had one, and say so in `docs/tests.md`).
//!   `accept` entries must be allowed and `deny` entries denied, over `proto` (TCP or UDP when
//!   omitted: either counts as allowed).
//! * An `sshTests` entry checks, for every device of the `src` identity and every device of
//!   each `dst`, that each login in `accept`, `check` and `deny` gets exactly that verdict
//!   from the `ssh` rules alone.
//!
//! Malformed entries are validation errors (see `validate`); the runner assumes a valid
//! policy.

use crate::text::Trimmed;
use serde::Serialize;

use crate::codes;
use crate::compile::{Compiled, SshVerdict};
use crate::diagnostic::Diagnostic;
use crate::inventory::Inventory;
use crate::model::{Policy, Str};
use crate::query::{Simulator, with_identities};
use crate::selector::{Autogroup, Selector};
use crate::span::Span;

/// Which block an assertion belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub enum Block {
    Tests,
    SshTests,
}

/// The outcome of one assertion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assertion {
    pub block: Block,
    /// Index of the entry in its block.
    pub index: usize,
    pub src: String,
    /// `accept`, `deny` (tests) or `accept`, `check`, `deny` (sshTests).
    pub expect: &'static str,
    /// The destination (tests) or `dst login` (sshTests).
    pub target: String,
    pub passed: bool,
    /// For an outcome that depends on a fact the tool does not have (a role, the identity
    /// of the device at an address): the condition under which the assertion passes (or,
    /// for `deny`, fails). Such an assertion is not failed; it is a warning.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub undetermined: Option<String>,
    /// What happened, with the rule that decided it.
    pub detail: String,
    #[serde(skip)]
    pub span: Span,
    /// The rules that decided (the allowing rules of a failed `deny`), for secondary labels.
    #[serde(skip)]
    pub rules: Vec<Span>,
}

/// Runs every `tests` and `sshTests` entry.
pub fn run(policy: &Policy, inventory: Option<&Inventory>) -> Vec<Assertion> {
    let base = inventory.cloned().unwrap_or_default();
    let mut identities: Vec<&str> = Vec::new();
    for test in &policy.tests {
        if let Some(src) = &test.src {
            identities.push(src.value.as_str());
        }
    }
    for test in &policy.ssh_tests {
        if let Some(src) = &test.src {
            identities.push(src.value.as_str());
        }
        for d in test.dst.iter() {
            identities.push(d.value.as_str());
        }
    }
    let augmented = with_identities(policy, &base, identities);
    let mut out = Vec::new();
    if !policy.tests.is_empty() {
        let simulator = Simulator::for_tests(policy, &augmented, inventory);
        for (index, test) in policy.tests.iter().enumerate() {
            let Some(src) = &test.src else { continue };
            let proto = test.proto.as_ref().map(|p| p.value.trimmed());
            for (entries, expect_allowed) in [(&test.accept, true), (&test.deny, false)] {
                for entry in entries {
                    let mut assertion =
                        acl_assertion(&simulator, index, src, entry, proto, expect_allowed);
                    if !assertion.passed && !expect_allowed {
                        let member = membership_decides(policy, &augmented, inventory, src);
                        if let Some(shared) = member
                            && acl_assertion(&shared, index, src, entry, proto, false).passed
                        {
                            assertion.passed = true;
                            assertion.undetermined = Some(format!(
                                "`{}` is a member of the tailnet (not a user shared in from another)",
                                src.value.trimmed()
                            ));
                        }
                    }
                    out.push(assertion);
                }
            }
        }
    }
    if !policy.ssh_tests.is_empty() {
        let compiled = Compiled::new(policy, &augmented);
        let simulator = std::cell::OnceCell::new();
        let simulator =
            || simulator.get_or_init(|| Simulator::for_tests(policy, &augmented, inventory));
        // An address no device of the inventory has: who owns the device there is unknown
        // when the inventory may not list every node (or there is none).
        let unowned = |text: &str| {
            inventory.is_none_or(|inv| inv.unknown.nodes)
                && text.trimmed().parse::<std::net::IpAddr>().is_ok_and(|ip| {
                    !base.nodes.iter().any(|n| {
                        n.ipv4.map(std::net::IpAddr::V4) == Some(ip)
                            || n.ipv6.map(std::net::IpAddr::V6) == Some(ip)
                    })
                })
        };
        for (index, test) in policy.ssh_tests.iter().enumerate() {
            let Some(src) = &test.src else { continue };
            let sources = nodes_for(&compiled, &src.value);
            let mut own_devices: Vec<usize> = sources.clone();
            own_devices.retain(|&i| {
                compiled
                    .resolver
                    .nodes
                    .get(i)
                    .is_some_and(|n| !n.is_tagged())
            });
            let mut destinations: Vec<(usize, &Str)> = Vec::new();
            for d in test.dst.iter() {
                // `autogroup:self` is the source user's own devices.
                let nodes =
                    if Selector::parse(&d.value) == Selector::Autogroup(Autogroup::SelfDevices) {
                        own_devices.clone()
                    } else {
                        nodes_for(&compiled, &d.value)
                    };
                for n in nodes {
                    destinations.push((n, d));
                }
            }
            for (logins, want, expect) in [
                (&test.accept, SshVerdict::Accept, "accept"),
                (&test.check, SshVerdict::Check, "check"),
                (&test.deny, SshVerdict::Deny, "deny"),
            ] {
                for login in logins {
                    out.push(ssh_assertion(
                        &simulator,
                        &compiled,
                        index,
                        src,
                        &sources,
                        &destinations,
                        login,
                        want,
                        expect,
                        &unowned,
                    ));
                }
            }
        }
    }
    out
}

/// Failed assertions as diagnostics, located at the assertion. Tailscale's message for a
/// failing block is `test(s) failed`; ours starts with it. Undetermined assertions are
/// warnings that name the condition.
pub fn diagnostics(assertions: &[Assertion]) -> Vec<Diagnostic> {
    // Two plain loops, failures first (module size: no adapter chain).
    let mut out = Vec::new();
    for a in assertions {
        if a.passed {
            continue;
        }
        let (code, block) = match a.block {
            Block::Tests => (codes::TEST_FAILED, "tests"),
            Block::SshTests => (codes::SSH_TEST_FAILED, "sshTests"),
        };
        let mut diagnostic = Diagnostic::error(
            code,
            format!(
                "test(s) failed: {block}[{}]: {} {} from {}: {}",
                a.index, a.expect, a.target, a.src, a.detail
            ),
            a.span,
        )
        .with_help(match a.expect {
            "deny" => "remove or narrow the rule that allows it, or fix the test",
            _ => "add a rule that allows it, or fix the test",
        });
        for rule in &a.rules {
            diagnostic = diagnostic.with_secondary(*rule, "this rule decides it");
        }
        out.push(diagnostic);
    }
    for a in assertions {
        let Some(condition) = &a.undetermined else {
            continue;
        };
        let block = match a.block {
            Block::Tests => "tests",
            Block::SshTests => "sshTests",
        };
        let outcome = if a.expect == "deny" && a.block == Block::Tests {
            "fails"
        } else {
            "passes"
        };
        out.push(
            Diagnostic::warning(
                codes::TEST_UNDETERMINED,
                format!(
                    "test undetermined without the tailnet's state: {block}[{}]: {} {} from {} {outcome} if {condition}",
                    a.index, a.expect, a.target, a.src
                ),
                a.span,
            )
            .with_help("pass an inventory that has this fact (`--inventory`) to decide it"),
        );
    }
    out
}

fn acl_assertion(
    simulator: &Simulator<'_>,
    index: usize,
    src: &Str,
    entry: &Str,
    proto: Option<&str>,
    expect_allowed: bool,
) -> Assertion {
    let mut destination = entry.value.trimmed().to_owned();
    // `autogroup:self:<port>` means another device of the source user.
    if let Some(port) = destination.strip_prefix("autogroup:self:") {
        destination = format!("{}:{port}", src.value.trimmed());
    }
    let protocols: Vec<&str> = match proto {
        Some(p) if !p.is_empty() => vec![p],
        _ => vec!["tcp", "udp"],
    };
    let mut allowed_by = None;
    let mut detail = String::new();
    for protocol in &protocols {
        match simulator.query(&src.value, &destination, Some(protocol)) {
            Ok(answer) if answer.allowed => {
                allowed_by = Some(answer);
                break;
            }
            Ok(answer) => detail = answer.explanation,
            Err(error) => detail = error.to_string(),
        }
    }
    // Allowed only on a condition the tests decide on (a role, the device at an address):
    // the outcome is undetermined, not a failure.
    let undetermined = allowed_by.as_ref().and_then(|answer| {
        let mut texts: Vec<&str> = Vec::new();
        for c in &answer.conditions {
            if c.decides_tests() {
                texts.push(c.text.as_str());
            }
        }
        (!texts.is_empty()).then(|| texts.join(" and "))
    });
    let passed = undetermined.is_some() || allowed_by.is_some() == expect_allowed;
    let proto_label = protocols.join("/");
    let mut rules = Vec::new();
    if let Some(answer) = &allowed_by {
        for m in &answer.matches {
            rules.push(m.span);
        }
    }
    let detail = match (&allowed_by, expect_allowed) {
        (Some(answer), _) => format!(
            "{} ({proto_label}, from {}{} to {}), {}",
            if expect_allowed {
                "allowed"
            } else {
                "want drop, got accept"
            },
            answer.src_addr,
            if answer.src_hypothetical {
                ", a new device with this identity"
            } else {
                ""
            },
            answer.dst_addr,
            answer.explanation
        ),
        (None, true) => format!("want accept, got drop ({proto_label}): {detail}"),
        (None, false) => format!("dropped ({proto_label})"),
    };
    Assertion {
        block: Block::Tests,
        index,
        src: src.value.trimmed().to_owned(),
        expect: if expect_allowed { "accept" } else { "deny" },
        target: entry.value.trimmed().to_owned(),
        passed,
        undetermined,
        detail,
        span: entry.span,
        rules,
    }
}

/// For a user `src` whose membership the tool does not know (no inventory, or one whose
/// user list may be partial, without this user): a simulator in which that user is shared
/// in from another tailnet, so not in `autogroup:member`. A `deny` test that holds there
/// depends on a fact the tool lacks.
fn membership_decides<'p>(
    policy: &'p Policy,
    augmented: &Inventory,
    inventory: Option<&Inventory>,
    src: &Str,
) -> Option<Simulator<'p>> {
    let login = src.value.trimmed();
    if !matches!(Selector::parse(login), Selector::User(_)) {
        return None;
    }
    let same = |u: &crate::inventory::User| u.login().eq_ignore_ascii_case(login);
    if inventory.is_some_and(|inv| !inv.unknown.users || inv.users.iter().any(same)) {
        return None;
    }
    let mut shared = augmented.clone();
    match shared.users.iter_mut().find(|u| same(u)) {
        Some(user) => user.shared = true,
        None => shared.users.push(crate::inventory::User {
            id: 0,
            name: login.to_owned(),
            email: Some(login.to_owned()),
            roles: Vec::new(),
            shared: true,
        }),
    }
    Some(Simulator::for_tests(policy, &shared, inventory))
}

/// The devices an sshTests `src` or `dst` stands for.
fn nodes_for(compiled: &Compiled<'_>, text: &str) -> Vec<usize> {
    let selector = Selector::parse(text);
    if matches!(selector, Selector::Autogroup(Autogroup::SelfDevices)) {
        return Vec::new();
    }
    let by_address = matches!(
        selector,
        Selector::Prefix(_) | Selector::Host(_) | Selector::HostRef(_)
    );
    let mut out = Vec::new();
    for (i, n) in compiled.resolver.nodes.iter().enumerate() {
        if compiled.resolver.node_matches(&selector, n) || (!by_address && n.name == text.trimmed())
        {
            out.push(i);
        }
    }
    out
}

#[expect(
    clippy::too_many_arguments,
    reason = "one assertion needs all of these"
)]
fn ssh_assertion<'s>(
    simulator: &dyn Fn() -> &'s Simulator<'s>,
    compiled: &Compiled<'_>,
    index: usize,
    src: &Str,
    sources: &[usize],
    destinations: &[(usize, &Str)],
    login: &Str,
    want: SshVerdict,
    expect: &'static str,
    unowned: &dyn Fn(&str) -> bool,
) -> Assertion {
    let name = |i: usize| {
        compiled
            .resolver
            .nodes
            .get(i)
            .map_or_else(String::new, |n| n.name.clone())
    };
    let mut failure = None;
    let mut undetermined = None;
    if sources.is_empty() || destinations.is_empty() {
        failure = Some("no device matches the src or dst".to_owned());
    }
    for &s in sources {
        for &(d, dst) in destinations {
            let decision = compiled.ssh_decision(s, d, login.value.trimmed());
            if decision.verdict != want
                && failure.is_none()
                && undetermined.is_none()
                && let Some(condition) =
                    simulator().ssh_verdict_if(&src.value, &dst.value, &login.value, want)
            {
                undetermined = Some(condition.text);
                continue;
            }
            // Between addresses whose devices' owners are unknown the verdict depends on
            // who they are (the same user for `autogroup:self`, a role, a tag).
            let mut unknown: Vec<&str> = Vec::new();
            for text in [src.value.trimmed(), dst.value.trimmed()] {
                if unowned(text) {
                    unknown.push(text);
                }
            }
            if decision.verdict != want
                && failure.is_none()
                && undetermined.is_none()
                && !unknown.is_empty()
            {
                undetermined = Some(format!(
                    "the devices at `{}` have the owners this test expects",
                    unknown.join("` and `")
                ));
                continue;
            }
            if decision.verdict != want && failure.is_none() {
                let by = decision
                    .rule
                    .map(|r| format!(" by ssh[{r}]"))
                    .unwrap_or_default();
                failure = Some(format!(
                    "from {} to {} as {}: want {expect}, got {}{by}",
                    name(s),
                    name(d),
                    crate::goquote::quote(login.value.trimmed()),
                    verdict_name(decision.verdict)
                ));
            }
        }
    }
    let mut targets: Vec<&str> = Vec::new();
    for (_, d) in destinations {
        targets.push(d.value.trimmed());
    }
    Assertion {
        block: Block::SshTests,
        index,
        src: src.value.trimmed().to_owned(),
        expect,
        target: format!(
            "{} as {}",
            targets.join(","),
            crate::goquote::quote(login.value.trimmed())
        ),
        passed: failure.is_none(),
        undetermined: undetermined.filter(|_| failure.is_none()),
        detail: failure.unwrap_or_else(|| format!("{expect} as expected")),
        span: login.span,
        rules: Vec::new(),
    }
}

fn verdict_name(verdict: SshVerdict) -> &'static str {
    match verdict {
        SshVerdict::Accept => "accept",
        SshVerdict::Check => "check",
        SshVerdict::Deny => "deny",
    }
}

#[cfg(test)]
mod unknown_facts {
    fn codes(policy: &str) -> Vec<&'static str> {
        crate::check(policy, &Default::default())
            .diagnostics
            .into_iter()
            .filter(|d| d.code.starts_with("E4"))
            .map(|d| d.code)
            .collect()
    }

    /// Without an inventory, whether a user is a member of the tailnet (or shared in) is
    /// not known: a `deny` test that only membership breaks is undetermined, not failed.
    #[test]
    fn membership_of_a_test_user_is_not_assumed() {
        let policy = r#"{
            "tagOwners": {"tag:open": []},
            "acls": [{"action": "accept", "src": ["autogroup:member"], "dst": ["tag:open:*"]}],
            "tests": [{"src": "guest@github", "deny": ["tag:open:80"]}]
        }"#;
        assert_eq!(codes(policy), [crate::codes::TEST_UNDETERMINED]);
        // Named by the rule itself, the user is allowed whatever the tailnet: a failure.
        let named = policy.replace("autogroup:member", "guest@github");
        assert_eq!(codes(&named), [crate::codes::TEST_FAILED]);
    }

    /// Without an inventory, who owns the devices at two addresses is not known.
    #[test]
    fn ssh_tests_between_unknown_addresses_are_undetermined() {
        let policy = r#"{
            "ssh": [{"action": "check", "src": ["autogroup:member"], "dst": ["autogroup:self"], "users": ["root"]}],
            "sshTests": [{"src": "100.88.30.18", "dst": ["100.126.56.39"], "check": ["root"]}]
        }"#;
        assert_eq!(codes(policy), [crate::codes::TEST_UNDETERMINED]);
    }
}
