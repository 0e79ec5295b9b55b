//! Hover: what a name stands for, what a field means, what a rule grants.

use std::fmt::Write as _;

use crate::span::Span;
use crate::syntax::{Value, ValueKind};

use super::Analysis;
use super::index::{Index, NameKind};
use super::locate::{self, Hit, Step};

/// Markdown to show for the range `span`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hover {
    pub markdown: String,
    pub span: Span,
}

pub(super) fn hover(analysis: &Analysis<'_>, offset: u32) -> Option<Hover> {
    let root = analysis.root()?;
    let index = analysis.index();
    if let Some((kind, name, span)) = index.name_at(offset) {
        return Some(Hover {
            markdown: describe_name(&index, kind, name),
            span,
        });
    }
    let located = locate::locate(analysis.text(), root, offset);
    if let Hit::Key(member) = located.hit {
        let mut steps = located.steps.clone();
        steps.push(Step::Key(&member.key));
        if let Some(field) = locate::field_at(&steps) {
            let mut markdown = format!("`{}`: {}", field.name, field.doc);
            if let Some((section, i)) = locate::rule_of(&steps)
                && let Some(rule) = rule_value(root, section, i)
            {
                markdown.push_str("\n\n");
                markdown.push_str(&describe_rule(section, i, rule));
            }
            return Some(Hover {
                markdown,
                span: member.key_span,
            });
        }
    }
    let (section, i) = locate::rule_of(&located.steps)?;
    let rule = rule_value(root, section, i)?;
    Some(Hover {
        markdown: describe_rule(section, i, rule),
        span: rule.span,
    })
}

fn rule_value<'t>(root: &'t Value, section: &str, i: usize) -> Option<&'t Value> {
    root.as_object()?
        .iter()
        .rev()
        .find(|m| m.key.eq_ignore_ascii_case(section))?
        .value
        .as_array()?
        .get(i)
}

fn strings(value: Option<&Value>) -> Vec<String> {
    match value.map(|v| &v.kind) {
        Some(ValueKind::String(s)) => vec![s.clone()],
        Some(ValueKind::Array(items)) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

fn field<'t>(rule: &'t Value, name: &str) -> Option<&'t Value> {
    rule.as_object()?
        .iter()
        .rev()
        .find(|m| m.key.eq_ignore_ascii_case(name))
        .map(|m| &m.value)
}

fn code_list(items: &[String]) -> String {
    if items.is_empty() {
        return "nothing".to_owned();
    }
    let shown: Vec<String> = items.iter().take(20).map(|s| format!("`{s}`")).collect();
    let mut out = shown.join(", ");
    if items.len() > shown.len() {
        let _ = write!(out, " and {} more", items.len() - shown.len());
    }
    out
}

/// What a rule grants, one line per destination: "`tag:ci` -> `database:5432/tcp`".
pub fn describe_rule(section: &str, i: usize, rule: &Value) -> String {
    let get = |name: &str| field(rule, name);
    let mut out = format!("**{section}[{i}]**");
    match section {
        "acls" => {
            let src = strings(get("src").or_else(|| get("users")));
            let dst = strings(get("dst").or_else(|| get("ports")));
            let proto = get("proto").and_then(Value::as_str);
            let action = get("action").and_then(Value::as_str).unwrap_or("accept");
            let _ = write!(out, " ({action})");
            for d in &dst {
                let target = match proto {
                    Some(p) if !p.is_empty() => format!("{d}/{p}"),
                    _ => d.clone(),
                };
                let _ = write!(out, "\n- {} -> `{target}`", code_list(&src));
            }
        }
        "grants" => {
            let src = strings(get("src"));
            let ip = strings(get("ip"));
            let app: Vec<String> = get("app")
                .and_then(Value::as_object)
                .unwrap_or_default()
                .iter()
                .map(|m| m.key.clone())
                .collect();
            let via = strings(get("via"));
            for d in strings(get("dst")) {
                let _ = write!(out, "\n- {} -> `{d}`", code_list(&src));
                if !ip.is_empty() {
                    let _ = write!(out, " on {}", code_list(&ip));
                }
                if !app.is_empty() {
                    let _ = write!(out, " with {}", code_list(&app));
                }
                if !via.is_empty() {
                    let _ = write!(out, " via {}", code_list(&via));
                }
            }
        }
        "ssh" => {
            let src = strings(get("src"));
            let users = strings(get("users"));
            let action = get("action").and_then(Value::as_str).unwrap_or("accept");
            let _ = write!(out, " ({action})");
            for d in strings(get("dst")) {
                let _ = write!(
                    out,
                    "\n- {} -> `{d}` as {}",
                    code_list(&src),
                    code_list(&users)
                );
            }
        }
        "tests" | "sshTests" => {
            let src = strings(get("src").or_else(|| get("user")));
            for (what, key) in [
                ("must reach", "accept"),
                ("must reach", "allow"),
                ("must reach after a check", "check"),
                ("must not reach", "deny"),
            ] {
                let items = strings(get(key));
                if !items.is_empty() {
                    let _ = write!(out, "\n- {} {what} {}", code_list(&src), code_list(&items));
                }
            }
            if section == "sshTests" {
                let _ = write!(out, "\n- on {}", code_list(&strings(get("dst"))));
            }
        }
        "nodeAttrs" => {
            let _ = write!(
                out,
                "\n- {} get {}",
                code_list(&strings(get("target"))),
                code_list(&strings(get("attr")))
            );
        }
        _ => {}
    }
    out
}

/// Where a name is used, by rule.
fn used_in(index: &Index<'_>, kind: NameKind, name: &str, skip_place: Option<&str>) -> String {
    let mut places: Vec<&str> = index
        .references_to(kind, name)
        .map(|r| r.place.as_str())
        .filter(|p| skip_place.is_none_or(|s| !p.starts_with(s)))
        .collect();
    places.dedup();
    if places.is_empty() {
        return "not used by any rule".to_owned();
    }
    let shown: Vec<String> = places.iter().take(20).map(|p| p.to_string()).collect();
    let mut out = format!("used in {}", shown.join(", "));
    if places.len() > shown.len() {
        let _ = write!(out, " and {} more", places.len() - shown.len());
    }
    out
}

fn describe_name(index: &Index<'_>, kind: NameKind, name: &str) -> String {
    let definition = index.definitions_of(kind, name).last();
    let values = definition
        .map(|d| strings(Some(&d.member.value)))
        .unwrap_or_default();
    let mut out = format!("**{}** `{name}`\n\n", kind.describe());
    match kind {
        NameKind::Tag => match definition {
            Some(_) if values.is_empty() => {
                out.push_str("owned by no one: only admins may apply it")
            }
            Some(_) => {
                let _ = write!(out, "owned by {}", code_list(&values));
            }
            None => out.push_str("not defined in `tagOwners`"),
        },
        NameKind::Group => match definition {
            Some(_) => {
                let _ = write!(out, "members: {}", code_list(&values));
            }
            None => out.push_str("not defined in `groups`"),
        },
        NameKind::Host => {
            let _ = write!(out, "address: {}", code_list(&values));
        }
        NameKind::Ipset => match definition {
            Some(_) => {
                let _ = write!(out, "addresses: {}", code_list(&values));
            }
            None => out.push_str("not defined in `ipsets`"),
        },
        NameKind::Posture => match definition {
            Some(_) => {
                let _ = write!(out, "conditions: {}", code_list(&values));
            }
            None => out.push_str("not defined in `postures`"),
        },
        NameKind::Autogroup => out.push_str(autogroup_meaning(name)),
        NameKind::Service => out.push_str("a Tailscale service, defined in the admin console"),
    }
    out.push_str("\n\n");
    let skip = kind.section().filter(|_| kind != NameKind::Group);
    out.push_str(&used_in(index, kind, name, skip));
    out
}

/// What an autogroup means (Tailscale's documentation, "Autogroups").
pub fn autogroup_meaning(name: &str) -> &'static str {
    match name {
        "autogroup:member" => {
            "every user of the tailnet, on their own devices (not tagged devices, not shared-in users)"
        }
        "autogroup:tagged" => "every tagged device",
        "autogroup:self" => "as a destination: the source user's own devices (not tagged devices)",
        "autogroup:internet" => "as a destination: the internet through exit nodes",
        "autogroup:shared" => "users who accepted a device shared with them from another tailnet",
        "autogroup:danger-all" => {
            "every device and user, shared-in users included: anyone who can reach the tailnet"
        }
        "autogroup:nonroot" => "as an SSH user: any local user except root",
        "autogroup:owner" => "the tailnet's owner",
        "autogroup:admin" => "users with the Admin role",
        "autogroup:it-admin" => "users with the IT admin role",
        "autogroup:network-admin" => "users with the Network admin role",
        "autogroup:billing-admin" => "users with the Billing admin role",
        "autogroup:auditor" => "users with the Auditor role",
        _ => "not an autogroup Tailscale knows",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hover_at(text: &str, needle: &str) -> String {
        let offset = text.find(needle).unwrap() as u32 + 2;
        Analysis::new(text).hover(offset).unwrap().markdown
    }

    const TEXT: &str = r#"{
  "groups": {"group:eng": ["alice@example.com", "bob@example.com"]},
  "tagOwners": {"tag:depot-runner": ["group:eng"]},
  "hosts": {"database": "100.101.102.103"},
  "acls": [{"action": "accept", "src": ["tag:depot-runner"], "proto": "tcp", "dst": ["database:5432"]}],
}"#;

    #[test]
    fn hover_names_owners_members_addresses_and_rules() {
        let tag = hover_at(TEXT, "tag:depot-runner\"]");
        assert!(tag.contains("owned by `group:eng`"), "{tag}");
        assert!(tag.contains("used in acls[0]"), "{tag}");
        let group = hover_at(TEXT, "group:eng\"]");
        assert!(
            group.contains("members: `alice@example.com`, `bob@example.com`"),
            "{group}"
        );
        let host = hover_at(TEXT, "database:5432");
        assert!(host.contains("address: `100.101.102.103`"), "{host}");
        let rule = hover_at(TEXT, "accept\"");
        assert!(
            rule.contains("`tag:depot-runner` -> `database:5432/tcp`"),
            "{rule}"
        );
        let field = hover_at(TEXT, "proto\"");
        assert!(field.starts_with("`proto`: the IP protocol"), "{field}");
    }
}
