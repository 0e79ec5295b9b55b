use std::borrow::Cow;

use crate::fasthash::FastSet;
use crate::lint::RuleContext;
use crate::lint::registry::declare_rule;
use crate::model::Str;
use crate::ports::{parse_port_spec, split_destination_and_port};
use crate::proto::parse_grant_ip;
use crate::selector::Selector;
use crate::text::Trimmed;

declare_rule! {
    /// ### What it does
    /// Flags a tag that a rule lets reach a sensitive destination when no entry of the
    /// policy's `tests` has that tag as its `src`. A destination is sensitive when it is
    /// `*`, when the rule opens all ports or a port of SSH, RDP, a database or a cluster
    /// API (22, 3389, 5432, 3306, 1433, 6379, 27017, 9200, 2379, 6443), or when its name
    /// says so (`db`, `database`, `postgres`, `mysql`, `redis`, `mongo`, `prod`, `vault`,
    /// `secret`, `admin`, `k8s`, `kube`).
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
    summary: "a tag that reaches a sensitive destination (databases, SSH, `*`) with no `tests` entry guarding it",
}

const SENSITIVE_PORTS: &[u16] = &[22, 3389, 5432, 3306, 1433, 6379, 27017, 9200, 2379, 6443];
const SENSITIVE_WORDS: &[&str] = &[
    "db", "database", "postgres", "mysql", "redis", "mongo", "prod", "vault", "secret", "admin",
    "k8s", "kube",
];

fn check(cx: &mut RuleContext<'_>) {
    let policy = cx.policy;
    let tested: FastSet<String> = policy
        .tests
        .iter()
        .filter_map(|t| t.src.as_ref())
        .map(|s| s.value.trimmed().to_ascii_lowercase())
        .collect();
    // (tag source, the destination that makes it sensitive), first per tag
    let mut findings = Findings {
        tested,
        seen: FastSet::default(),
        list: Vec::new(),
    };
    for rule in policy.acls.iter().flat_map(|l| l.iter()) {
        for entry in rule.dst.iter() {
            let Ok((target, ports)) = split_destination_and_port(&entry.value) else {
                continue;
            };
            let all_ports = ports.trimmed() == "*";
            let port_sensitive = parse_port_spec(ports).is_ok_and(|ranges| {
                ranges.iter().any(|r| {
                    r.first <= 1 && r.last == u16::MAX
                        || SENSITIVE_PORTS.iter().any(|p| r.contains(*p))
                })
            });
            if all_ports || port_sensitive || sensitive_name(&target) {
                for src in rule.src.iter() {
                    findings.add(src, entry.value.trimmed());
                }
            }
        }
    }
    for grant in policy.grants.iter().flat_map(|l| l.iter()) {
        let port_sensitive = grant.ip.iter().flat_map(|l| l.iter()).any(|entry| {
            parse_grant_ip(entry.value.trimmed()).is_ok_and(|ip| {
                ip.ports.iter().any(|r| {
                    r.first <= 1 && r.last == u16::MAX
                        || SENSITIVE_PORTS.iter().any(|p| r.contains(*p))
                })
            })
        });
        for entry in grant.dst.iter() {
            if port_sensitive || sensitive_name(&entry.value) {
                for src in grant.src.iter() {
                    findings.add(src, entry.value.trimmed());
                }
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
                "pin the access down: add `{{\"src\": \"{tag}\", \"accept\": [\"{destination}\"], \"deny\": [...]}}` to `tests`"
            ));
        cx.push(diagnostic);
    }
}

/// Untested tag sources, each with the first sensitive destination it reaches.
struct Findings<'a> {
    tested: FastSet<String>,
    seen: FastSet<Cow<'a, str>>,
    list: Vec<(&'a Str, Cow<'a, str>, &'a str)>,
}

impl<'a> Findings<'a> {
    fn add(&mut self, src: &'a Str, destination: &'a str) {
        let Selector::Tag(tag) = Selector::parse(&src.value) else {
            return;
        };
        // Tags are compared lowercased; most are written so already.
        let tag: Cow<'a, str> = if tag.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(tag.to_ascii_lowercase())
        } else {
            Cow::Borrowed(tag)
        };
        if !self.tested.contains(&*tag) && !self.seen.contains(&tag) {
            self.seen.insert(tag.clone());
            self.list.push((src, tag, destination));
        }
    }
}

/// Is `*`, or names something that sounds like a database, production or secrets.
fn sensitive_name(target: &str) -> bool {
    let target = target.trimmed();
    if target == "*" {
        return true;
    }
    let name = target.rsplit(':').next().unwrap_or(target);
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .any(|word| SENSITIVE_WORDS.iter().any(|w| w.eq_ignore_ascii_case(word)))
}

#[cfg(test)]
mod tests {
    use crate::lint::test_support::findings;

    #[test]
    fn flags_untested_tags_reaching_sensitive_destinations() {
        let text = r#"{
  "tagOwners": {"tag:ci": [], "tag:web": [], "tag:prod-db": [], "tag:tested": []},
  "acls": [
    {"action": "accept", "src": ["tag:ci"], "dst": ["tag:prod-db:443"]},
    {"action": "accept", "src": ["tag:web"], "dst": ["tag:web:8080"]},
    {"action": "accept", "src": ["tag:tested"], "dst": ["tag:web:22"]},
  ],
  "grants": [{"src": ["tag:web"], "dst": ["*"], "ip": ["443"]}],
  "tests": [{"src": "tag:tested", "accept": ["tag:web:22"]}],
}"#;
        assert_eq!(findings(text, "TP021"), ["\"tag:ci\"", "\"tag:web\""]);
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
}
