use std::net::IpAddr;

use crate::fasthash::{FastMap, FastSet};
use crate::lint::RuleContext;
use crate::lint::registry::declare_rule;
use crate::model::Str;
use crate::ports::{PortRange, parse_port_spec, split_destination_and_port};
use crate::proto::{Protocol, parse_grant_ip, parse_protocol};
use crate::selector::Selector;
use crate::text::Trimmed;

declare_rule! {
    /// ### What it does
    /// Flags a tag that a rule lets reach a sensitive service over TCP when no entry of the
    /// policy's `tests` has that tag as its `src`. The access is sensitive when a rule opens,
    /// on one testable host (a tag, a host alias of one address, or an IP), a port of SSH,
    /// RDP, a database or a cluster API (22, 3389, 5432, 3306, 1433, 6379, 27017, 9200, 2379,
    /// 6443); or any port of a host whose name says database, production or secrets (`db`,
    /// `database`, `postgres`, `mysql`, `redis`, `mongo`, `prod`, `vault`, `secret`, `admin`,
    /// `k8s`, `kube`). The help gives a `tests` entry that Tailscale accepts as written: one
    /// host, one port, TCP (the default of a test with no `proto`).
    ///
    /// Not flagged: sources other than tags (a test needs one concrete source), access that
    /// is ICMP-only, UDP-only or another protocol, and destinations a test cannot name
    /// (`*`, CIDRs, `autogroup:internet`, users and groups): for these the lint could not
    /// suggest a test that pins the access down, so it stays silent.
    ///
    /// ### Why is this bad
    /// Tags are what machines act as: CI runners, servers, subnet routers. Whoever can take
    /// the tag (its `tagOwners`, an OAuth client) gets its access. A `tests` entry pins that
    /// access down: Tailscale refuses any later edit that widens or breaks it, so a
    /// copy-pasted rule cannot quietly give the CI runner the production database.
    ///
    /// ### Example
    /// ```jsonc
    /// "acls": [{"action": "accept", "src": ["tag:depot-runner"], "dst": ["database:5432"]}],
    /// ```
    ///
    /// ### Use instead
    /// ```jsonc
    /// "acls": [{"action": "accept", "src": ["tag:depot-runner"], "dst": ["database:5432"]}],
    /// "tests": [{"src": "tag:depot-runner", "accept": ["database:5432"], "deny": ["database:22"]}],
    /// ```
    code: "TP021",
    name: "untested-sensitive-access",
    category: Security,
    severity: Warning,
    summary: "a tag that reaches a database, SSH or another sensitive service with no `tests` entry guarding it",
}

const SENSITIVE_PORTS: &[u16] = &[22, 3389, 5432, 3306, 1433, 6379, 27017, 9200, 2379, 6443];
const SENSITIVE_WORDS: &[&str] = &[
    "db", "database", "postgres", "mysql", "redis", "mongo", "prod", "vault", "secret", "admin",
    "k8s", "kube",
];

fn check(cx: &mut RuleContext<'_>) {
    let policy = cx.policy;
    let mut tested: FastSet<String> = FastSet::default();
    for test in &policy.tests {
        if let Some(src) = &test.src {
            tested.insert(src.value.trimmed().to_ascii_lowercase());
        }
    }
    let mut hosts: FastMap<&str, IpAddr> = FastMap::default();
    for h in &policy.hosts {
        if let Ok(ip) = h.value.value.trimmed().parse::<IpAddr>() {
            hosts.insert(h.name.value.trimmed(), ip);
        }
    }
    let mut findings = Findings {
        tested,
        seen: FastSet::default(),
        list: Vec::new(),
    };
    for rule in crate::text::items(&policy.acls).iter() {
        let proto = rule
            .proto
            .as_ref()
            .map(|p| parse_protocol(p.value.trimmed()));
        if !matches!(proto, None | Some(Ok(Protocol::TCP))) {
            continue;
        }
        if !rule.src.iter().any(|s| findings.wants(s)) {
            continue;
        }
        for entry in rule.dst.iter() {
            let Ok((target, ports)) = split_destination_and_port(&entry.value) else {
                continue;
            };
            let Ok(ranges) = parse_port_spec(ports) else {
                continue;
            };
            if let Some(test) = sensitive(&hosts, &target, &Ports::of(&ranges)) {
                for src in rule.src.iter() {
                    findings.add(src, &test);
                }
                break;
            }
        }
    }
    for grant in crate::text::items(&policy.grants).iter() {
        if !grant.src.iter().any(|s| findings.wants(s)) {
            continue;
        }
        // Port ranges the grant opens to TCP.
        let mut ranges: Vec<PortRange> = Vec::new();
        for entry in crate::text::items(&grant.ip) {
            if let Ok(ip) = parse_grant_ip(entry.value.trimmed())
                && matches!(ip.proto, None | Some(Protocol::TCP))
            {
                ranges.extend(ip.ports);
            }
        }
        if ranges.is_empty() {
            continue;
        }
        let ports = Ports::of(&ranges);
        for entry in grant.dst.iter() {
            if let Some(test) = sensitive(&hosts, entry.value.trimmed(), &ports) {
                for src in grant.src.iter() {
                    findings.add(src, &test);
                }
                break;
            }
        }
    }
    for (src, tag, destination) in findings.list {
        let diagnostic = cx
            .diagnostic(
                format!("`{tag}` reaches `{destination}`, but no `tests` entry has `{tag}` as its src"),
                src.span,
            )
            .with_help(format!(
                "pin the access down: add `{{\"src\": \"{tag}\", \"accept\": [\"{destination}\"]}}` to `tests`, with the ports it must not reach under `deny`"
            ));
        cx.push(diagnostic);
    }
}

/// Untested tag sources, each with the first sensitive destination it reaches.
struct Findings<'a> {
    tested: FastSet<String>,
    seen: FastSet<String>,
    list: Vec<(&'a Str, String, String)>,
}

impl<'a> Findings<'a> {
    /// Is `src` an untested tag not reported yet?
    fn wants(&self, src: &Str) -> bool {
        let Selector::Tag(tag) = Selector::parse(&src.value) else {
            return false;
        };
        let tag = tag.to_ascii_lowercase();
        !self.tested.contains(&tag) && !self.seen.contains(&tag)
    }

    fn add(&mut self, src: &'a Str, destination: &str) {
        if !self.wants(src) {
            return;
        }
        let Selector::Tag(tag) = Selector::parse(&src.value) else {
            return;
        };
        let tag = tag.to_ascii_lowercase();
        self.seen.insert(tag.clone());
        self.list.push((src, tag, destination.to_owned()));
    }
}

/// What matters about the TCP ports a rule opens, worked out once per rule.
struct Ports {
    /// The first sensitive port some range short of every port holds.
    sensitive: Option<u16>,
    /// Some range holds every port.
    all: bool,
    /// The first port opened.
    first: Option<u16>,
}

impl Ports {
    fn of(ranges: &[PortRange]) -> Self {
        let all_ports = |r: &PortRange| r.first <= 1 && r.last == u16::MAX;
        Ports {
            sensitive: SENSITIVE_PORTS
                .iter()
                .copied()
                .find(|p| ranges.iter().any(|r| !all_ports(r) && r.contains(*p))),
            all: ranges.iter().any(all_ports),
            first: ranges.first().map(|r| r.first.max(1)),
        }
    }
}

/// The `tests` destination (`host:port`, one port) that pins down access to `target` on
/// `ports`, when that access is sensitive and a test can name the host.
fn sensitive(hosts: &FastMap<&str, IpAddr>, target: &str, ports: &Ports) -> Option<String> {
    let target = target.trimmed();
    let host = match Selector::parse(target) {
        Selector::Tag(_) => target.to_owned(),
        Selector::Host(name) | Selector::HostRef(name) if hosts.contains_key(name) => {
            name.to_owned()
        }
        // A bare address; a CIDR (even `/32`) is not a test destination.
        Selector::Prefix(_) => match target.parse::<IpAddr>().ok()? {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => format!("[{v6}]"),
        },
        _ => return None,
    };
    let named = sensitive_name(target);
    let port = match (ports.sensitive, named) {
        (Some(port), _) => port,
        (None, true) if ports.all => 22,
        (None, true) => ports.first?,
        (None, false) => return None,
    };
    Some(format!("{host}:{port}"))
}

/// Names something that sounds like a database, production or secrets.
fn sensitive_name(target: &str) -> bool {
    let target = target.to_ascii_lowercase();
    let name = target.rsplit(':').next().unwrap_or(&target);
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .any(|word| SENSITIVE_WORDS.contains(&word))
}

#[cfg(test)]
mod tests {
    use crate::lint::test_support::{findings, messages};

    #[test]
    fn flags_untested_tags_reaching_sensitive_destinations() {
        let text = r#"{
  "tagOwners": {"tag:ci": [], "tag:web": [], "tag:prod-db": [], "tag:tested": []},
  "hosts": {"db1": "100.64.1.2"},
  "acls": [
    {"action": "accept", "src": ["tag:ci"], "dst": ["tag:prod-db:443"]},
    {"action": "accept", "src": ["tag:web"], "dst": ["tag:web:8080"]},
    {"action": "accept", "src": ["tag:tested"], "dst": ["tag:web:22"]},
  ],
  "grants": [{"src": ["tag:web"], "dst": ["db1"], "ip": ["tcp:5000-5500"]}],
  "tests": [{"src": "tag:tested", "accept": ["tag:web:22"]}],
}"#;
        assert_eq!(findings(text, "TP021"), ["\"tag:ci\"", "\"tag:web\""]);
        assert_eq!(
            messages(text, "TP021"),
            [
                "`tag:ci` reaches `tag:prod-db:443`, but no `tests` entry has `tag:ci` as its src",
                "`tag:web` reaches `db1:5432`, but no `tests` entry has `tag:web` as its src",
            ]
        );
    }

    #[test]
    fn silent_when_every_tag_is_tested() {
        let text = r#"{
  "tagOwners": {"tag:ci": [], "tag:db": []},
  "acls": [{"action": "accept", "src": ["tag:ci"], "dst": ["tag:db:5432"]}],
  "tests": [{"src": "tag:ci", "accept": ["tag:db:5432"]}],
}"#;
        assert!(findings(text, "TP021").is_empty());
    }

    #[test]
    fn silent_on_access_no_test_could_pin_down_or_that_is_not_sensitive() {
        let text = r#"{
  "tagOwners": {"tag:ci": [], "tag:db": [], "tag:web": []},
  "groups": {"group:admins": ["alice@example.com"]},
  "hosts": {"office": "192.0.2.0/24", "prod-net": "10.1.0.0/16"},
  "acls": [
    {"action": "accept", "src": ["tag:ci"], "dst": ["*:*", "office:22", "10.0.0.0/8:5432"]},
    {"action": "accept", "src": ["tag:ci"], "proto": "icmp", "dst": ["tag:db:*"]},
    {"action": "accept", "src": ["tag:ci"], "proto": "udp", "dst": ["tag:db:5432"]},
    {"action": "accept", "src": ["group:admins"], "dst": ["tag:db:5432"]},
    {"action": "accept", "src": ["tag:ci"], "dst": ["tag:web:443", "prod-net:443", "autogroup:internet:22"]},
  ],
  "grants": [
    {"src": ["tag:ci"], "dst": ["tag:db"], "ip": ["icmp:*"]},
    {"src": ["tag:ci"], "dst": ["tag:db"], "ip": ["udp:6379"]},
    {"src": ["tag:ci"], "dst": ["*"], "ip": ["*"]},
    {"src": ["tag:ci"], "dst": ["tag:web"], "ip": ["*"]},
  ],
}"#;
        assert!(findings(text, "TP021").is_empty());
    }

    #[test]
    fn the_suggested_test_names_one_host_and_one_port() {
        let text = r#"{
  "tagOwners": {"tag:ci": [], "tag:vault": [], "tag:a": []},
  "acls": [{"action": "accept", "src": ["tag:ci"], "dst": ["tag:vault:*"]}],
  "grants": [{"src": ["tag:a"], "dst": ["fd7a:115c:a1e0::1"], "ip": ["tcp:20-30"]}],
}"#;
        let helps: Vec<String> = crate::lint::test_support::lint_with(text, &Default::default())
            .into_iter()
            .filter(|d| d.code == "TP021")
            .filter_map(|d| d.help)
            .collect();
        assert_eq!(helps.len(), 2);
        assert!(
            helps[0].contains(r#"{"src": "tag:ci", "accept": ["tag:vault:22"]}"#),
            "{helps:?}"
        );
        assert!(
            helps[1].contains(r#"{"src": "tag:a", "accept": ["[fd7a:115c:a1e0::1]:22"]}"#),
            "{helps:?}"
        );
        // Added as suggested, each entry is a valid test that passes.
        for help in &helps {
            let entry = help.split('`').nth(1).unwrap();
            let with_test = text.replacen("\n}", &format!("\n  \"tests\": [{entry}],\n}}"), 1);
            let report = crate::check(&with_test, &Default::default());
            let errors: Vec<_> = report.diagnostics.iter().filter(|d| d.is_error()).collect();
            assert!(errors.is_empty(), "{with_test}\n{errors:#?}");
            let tag = entry.split('"').nth(3).unwrap();
            let still = format!("`{tag}` reaches");
            assert!(
                !report
                    .diagnostics
                    .iter()
                    .any(|d| d.message.starts_with(&still))
            );
        }
    }
}
