//! Completion: field names where a key goes; tags, groups, hosts, ipsets, postures,
//! autogroups and `svc:` names where each may stand; the values of enumerated fields.

use crate::span::Span;
use crate::syntax::{Value, ValueKind};

use super::Analysis;
use super::fields::{Keys, Ty, Values};
use super::hover::autogroup_meaning;
use super::index::{Index, NameKind};
use super::locate::{self, Hit, Step};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompletionKind {
    Field,
    /// A group, tag, host, ipset, posture, autogroup or service.
    Name(NameKind),
    /// A keyword value (`accept`, `tcp`, `true`).
    Value,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    pub label: String,
    pub kind: CompletionKind,
    pub detail: Option<String>,
    /// Replaces `edit_span` with `new_text`.
    pub edit_span: Span,
    pub new_text: String,
}

const PROTOCOLS: &[&str] = &[
    "tcp",
    "udp",
    "icmp",
    "ipv6-icmp",
    "sctp",
    "gre",
    "esp",
    "ah",
    "igmp",
    "ipv4",
    "ip-in-ip",
    "egp",
    "igp",
    "ospf",
];

/// Autogroups as sources (and owners of approvals), as destinations, as SSH users.
const SOURCE_AUTOGROUPS: &[&str] = &[
    "autogroup:member",
    "autogroup:tagged",
    "autogroup:shared",
    "autogroup:danger-all",
];
const ROLE_AUTOGROUPS: &[&str] = &[
    "autogroup:owner",
    "autogroup:admin",
    "autogroup:it-admin",
    "autogroup:network-admin",
    "autogroup:billing-admin",
    "autogroup:auditor",
];
const DESTINATION_AUTOGROUPS: &[&str] = &[
    "autogroup:self",
    "autogroup:member",
    "autogroup:tagged",
    "autogroup:internet",
];

/// Where the new text goes: inside an existing string (`Quoted`: replace its contents) or
/// at a gap (`Bare`: insert a quoted string).
#[derive(Clone, Copy)]
enum Slot {
    Quoted(Span),
    Bare(Span),
}

impl Slot {
    fn edit(self, text: &str) -> (Span, String) {
        match self {
            Slot::Quoted(span) => (span, text.to_owned()),
            Slot::Bare(span) => (span, format!("\"{text}\"")),
        }
    }
}

pub(super) fn completions(analysis: &Analysis<'_>, offset: u32) -> Vec<Completion> {
    let Some(root) = analysis.root() else {
        return Vec::new();
    };
    let text = analysis.text();
    let located = locate::locate(text, root, offset);
    let index = analysis.index();
    let mut out = Vec::new();
    match located.hit {
        Hit::Key(member) => {
            let slot = Slot::Quoted(contents(text, member.key_span, offset));
            keys(
                &mut out,
                &index,
                &located.steps,
                located.containers.last().copied(),
                slot,
            );
        }
        Hit::Gap(container) => {
            let slot = Slot::Bare(Span::at(offset));
            match container.kind {
                ValueKind::Object(_) => {
                    keys(&mut out, &index, &located.steps, Some(container), slot);
                }
                ValueKind::Array(_) => {
                    let mut steps = located.steps.clone();
                    steps.push(Step::Index(0));
                    values(&mut out, &index, &steps, slot);
                }
                _ => {}
            }
        }
        Hit::Value(value) => {
            let slot = match &value.kind {
                ValueKind::String(_) => Slot::Quoted(contents(text, value.span, offset)),
                ValueKind::Null if value.span.is_empty() => Slot::Bare(value.span),
                _ => Slot::Bare(value.span),
            };
            values(&mut out, &index, &located.steps, slot);
        }
        Hit::Outside => {}
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|c| seen.insert(c.label.clone()));
    out
}

/// The contents of a string at `span` (inside the quotes; up to its end when unterminated).
fn contents(text: &str, span: Span, offset: u32) -> Span {
    let raw = text.get(span.range()).unwrap_or("");
    let start = span.start + u32::from(raw.starts_with('"'));
    let closed = raw.len() > 1 && raw.ends_with('"');
    let end = if closed { span.end - 1 } else { span.end };
    Span::new(start.min(offset), end.max(start))
}

/// Adds a completion (duplicate labels are removed at the end, in one pass).
fn push(out: &mut Vec<Completion>, label: &str, kind: CompletionKind, detail: &str, slot: Slot) {
    let (edit_span, new_text) = slot.edit(label);
    out.push(Completion {
        label: label.to_owned(),
        kind,
        detail: (!detail.is_empty()).then(|| detail.to_owned()),
        edit_span,
        new_text,
    });
}

/// Key completions in the object at `steps`.
fn keys(
    out: &mut Vec<Completion>,
    index: &Index<'_>,
    steps: &[Step<'_>],
    container: Option<&Value>,
    slot: Slot,
) {
    let present: Vec<&str> = container
        .and_then(Value::as_object)
        .unwrap_or_default()
        .iter()
        .map(|m| m.key.as_str())
        .collect();
    match locate::type_at(steps) {
        Some(Ty::Object(fields)) => {
            for field in fields {
                if field.doc.starts_with("legacy") {
                    continue;
                }
                if present.iter().any(|p| p.eq_ignore_ascii_case(field.name)) {
                    continue;
                }
                let (edit_span, new_text) = match slot {
                    Slot::Quoted(span) => (span, field.name.to_owned()),
                    Slot::Bare(span) => {
                        (span, format!("\"{}\": {}", field.name, skeleton(field.ty)))
                    }
                };
                out.push(Completion {
                    label: field.name.to_owned(),
                    kind: CompletionKind::Field,
                    detail: Some(field.doc.to_owned()),
                    edit_span,
                    new_text,
                });
            }
        }
        Some(Ty::Map { key, .. }) => {
            let kind = match key {
                Keys::Group => NameKind::Group,
                Keys::Tag => NameKind::Tag,
                Keys::Ipset => NameKind::Ipset,
                Keys::Posture => NameKind::Posture,
                Keys::Service => {
                    for r in index
                        .references
                        .iter()
                        .filter(|r| r.kind == NameKind::Service)
                    {
                        push(
                            out,
                            &r.name,
                            CompletionKind::Name(NameKind::Service),
                            "service",
                            slot,
                        );
                    }
                    return;
                }
                _ => return,
            };
            // Names used but not yet defined come first: that is what is being typed.
            let defined: std::collections::HashSet<String> = index
                .definitions
                .iter()
                .filter(|d| d.kind == kind)
                .map(|d| fold(kind, &d.name))
                .collect();
            for r in index.references.iter().filter(|r| r.kind == kind) {
                if !defined.contains(&fold(kind, &r.name)) {
                    push(
                        out,
                        &r.name,
                        CompletionKind::Name(kind),
                        "used but not defined",
                        slot,
                    );
                }
            }
            push(
                out,
                kind.prefix(),
                CompletionKind::Name(kind),
                kind.describe(),
                slot,
            );
        }
        _ => {}
    }
}

/// A name as compared: tags ignore ASCII case.
fn fold(kind: NameKind, name: &str) -> String {
    match kind {
        NameKind::Tag => name.to_ascii_lowercase(),
        _ => name.to_owned(),
    }
}

/// A placeholder value for a new field.
fn skeleton(ty: Ty) -> &'static str {
    match ty {
        Ty::String | Ty::Enum(_) => "\"\"",
        Ty::Bool => "false",
        Ty::Strings(_) | Ty::ObjectList(_) => "[]",
        Ty::Object(_) | Ty::Map { .. } | Ty::Any => "{}",
    }
}

/// Value completions for the value at `steps` (a string, or an element of a list).
fn values(out: &mut Vec<Completion>, index: &Index<'_>, steps: &[Step<'_>], slot: Slot) {
    let Some((last, parent)) = steps.split_last() else {
        return;
    };
    let ty = match last {
        Step::Index(_) => match locate::type_at(parent) {
            Some(Ty::Strings(values)) => Ty::Strings(values),
            _ => return,
        },
        Step::Key(_) => match locate::type_at(steps) {
            Some(ty) => ty,
            None => return,
        },
    };
    let field = steps.iter().rev().find_map(|s| match s {
        Step::Key(k) => Some(*k),
        Step::Index(_) => None,
    });
    let section = match steps.first() {
        Some(Step::Key(k)) => k.to_ascii_lowercase(),
        _ => String::new(),
    };
    match ty {
        Ty::Enum(options) => {
            for option in options {
                push(out, option, CompletionKind::Value, "", slot);
            }
        }
        Ty::Bool => {
            if let Slot::Bare(span) = slot {
                for b in ["true", "false"] {
                    out.push(Completion {
                        label: b.to_owned(),
                        kind: CompletionKind::Value,
                        detail: None,
                        edit_span: span,
                        new_text: b.to_owned(),
                    });
                }
            }
        }
        Ty::String if field.is_some_and(|f| f.eq_ignore_ascii_case("proto")) => {
            for p in PROTOCOLS {
                push(out, p, CompletionKind::Value, "", slot);
            }
        }
        Ty::String
            if field.is_some_and(|f| {
                f.eq_ignore_ascii_case("src") || f.eq_ignore_ascii_case("user")
            }) =>
        {
            names(
                out,
                index,
                &[NameKind::Group, NameKind::Tag, NameKind::Host],
                "",
                slot,
            );
        }
        Ty::Strings(values) => match values {
            Values::Sources => {
                names(
                    out,
                    index,
                    &[
                        NameKind::Group,
                        NameKind::Tag,
                        NameKind::Host,
                        NameKind::Ipset,
                    ],
                    "",
                    slot,
                );
                let roles = if section == "ssh" {
                    ROLE_AUTOGROUPS
                } else {
                    &[]
                };
                autogroups(out, SOURCE_AUTOGROUPS.iter().chain(roles), slot);
                push(out, "*", CompletionKind::Value, "every source", slot);
            }
            Values::AclDestinations => {
                names(
                    out,
                    index,
                    &[
                        NameKind::Tag,
                        NameKind::Host,
                        NameKind::Group,
                        NameKind::Ipset,
                    ],
                    ":*",
                    slot,
                );
                for a in DESTINATION_AUTOGROUPS {
                    push(
                        out,
                        &format!("{a}:*"),
                        CompletionKind::Name(NameKind::Autogroup),
                        autogroup_meaning(a),
                        slot,
                    );
                }
                push(
                    out,
                    "*:*",
                    CompletionKind::Value,
                    "every destination, every port",
                    slot,
                );
            }
            Values::GrantDestinations => {
                names(
                    out,
                    index,
                    &[
                        NameKind::Tag,
                        NameKind::Host,
                        NameKind::Group,
                        NameKind::Ipset,
                        NameKind::Service,
                    ],
                    "",
                    slot,
                );
                autogroups(out, DESTINATION_AUTOGROUPS.iter(), slot);
                push(out, "*", CompletionKind::Value, "every destination", slot);
            }
            Values::SshDestinations => {
                names(out, index, &[NameKind::Tag, NameKind::Host], "", slot);
                autogroups(
                    out,
                    ["autogroup:self", "autogroup:member", "autogroup:tagged"].iter(),
                    slot,
                );
            }
            Values::Owners => {
                names(out, index, &[NameKind::Group, NameKind::Tag], "", slot);
                autogroups(
                    out,
                    ["autogroup:member", "autogroup:tagged"]
                        .iter()
                        .chain(ROLE_AUTOGROUPS),
                    slot,
                );
            }
            Values::Tags => names(out, index, &[NameKind::Tag], "", slot),
            Values::Postures => names(out, index, &[NameKind::Posture], "", slot),
            Values::TestDestinations => {
                names(out, index, &[NameKind::Host, NameKind::Tag], ":", slot);
            }
            Values::SshUsers => {
                if section == "ssh" {
                    push(
                        out,
                        "autogroup:nonroot",
                        CompletionKind::Name(NameKind::Autogroup),
                        autogroup_meaning("autogroup:nonroot"),
                        slot,
                    );
                    push(
                        out,
                        "localpart:*@",
                        CompletionKind::Value,
                        "the local part of the user's login",
                        slot,
                    );
                }
                push(out, "root", CompletionKind::Value, "", slot);
            }
            Values::Other => {}
        },
        _ => {}
    }
}

fn autogroups<'a>(out: &mut Vec<Completion>, names: impl Iterator<Item = &'a &'a str>, slot: Slot) {
    for name in names {
        push(
            out,
            name,
            CompletionKind::Name(NameKind::Autogroup),
            autogroup_meaning(name),
            slot,
        );
    }
}

/// The defined names of `kinds` (services: those named anywhere), each followed by `suffix`.
fn names(
    out: &mut Vec<Completion>,
    index: &Index<'_>,
    kinds: &[NameKind],
    suffix: &str,
    slot: Slot,
) {
    for &kind in kinds {
        if kind == NameKind::Service {
            for r in index.references.iter().filter(|r| r.kind == kind) {
                push(
                    out,
                    &format!("{}{suffix}", r.name),
                    CompletionKind::Name(kind),
                    "service",
                    slot,
                );
            }
            continue;
        }
        for d in index.definitions.iter().filter(|d| d.kind == kind) {
            push(
                out,
                &format!("{}{suffix}", d.name),
                CompletionKind::Name(kind),
                kind.describe(),
                slot,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(text: &str) -> Vec<String> {
        let offset = text.find('|').unwrap();
        let text = text.replace('|', "");
        Analysis::new(&text)
            .completions(offset as u32)
            .into_iter()
            .map(|c| c.label)
            .collect()
    }

    #[test]
    fn completes_sections_fields_and_names() {
        let top = labels("{\"acls\": [], |}");
        assert!(
            top.contains(&"grants".to_owned()) && !top.contains(&"acls".to_owned()),
            "{top:?}"
        );
        let acl = labels("{\"acls\": [{\"action\": \"accept\", \"|\"}]}");
        assert!(
            acl.contains(&"src".to_owned()) && !acl.contains(&"action".to_owned()),
            "{acl:?}"
        );
        let policy = "{\"groups\": {\"group:eng\": []}, \"tagOwners\": {\"tag:web\": []}, \"hosts\": {\"db\": \"100.64.0.1\"}, \"acls\": [{\"src\": [\"|\"]}]}";
        let src = labels(policy);
        for want in ["group:eng", "tag:web", "db", "autogroup:member", "*"] {
            assert!(src.contains(&want.to_owned()), "{want}: {src:?}");
        }
        let dst = labels("{\"tagOwners\": {\"tag:web\": []}, \"acls\": [{\"dst\": [\"t|");
        assert!(dst.contains(&"tag:web:*".to_owned()), "{dst:?}");
        let action = labels("{\"ssh\": [{\"action\": \"|\"}]}");
        assert_eq!(action, ["accept", "check"]);
        let owner = labels("{\"tagOwners\": {\"|\"}, \"acls\": [{\"src\": [\"tag:new\"]}]}");
        assert!(owner.contains(&"tag:new".to_owned()), "{owner:?}");
        let svc = labels(
            "{\"autoApprovers\": {\"services\": {\"svc:db\": []}}, \"grants\": [{\"dst\": [|]}]}",
        );
        assert!(svc.contains(&"svc:db".to_owned()), "{svc:?}");
    }
}
