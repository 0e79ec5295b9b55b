//! Ownership rows: who can apply a tag, approve a route or exit node, is in a group, or gets
//! a node attribute. Names are compared as written (case-insensitively for tags, groups and
//! autogroups; trimmed), so a group change shows as a `groups` row, not as every tag it owns.

use std::collections::BTreeMap;

use super::OwnerRow;
use crate::model::{NamedList, Policy};
use crate::span::Span;

/// Per section and target: who, with the entry's span.
type Entries = BTreeMap<(&'static str, String), (Vec<String>, Span)>;

fn norm(text: &str) -> String {
    let text = text.trim();
    let lower = text.to_ascii_lowercase();
    if lower.starts_with("tag:") || lower.starts_with("group:") || lower.starts_with("autogroup:") {
        lower
    } else {
        text.to_owned()
    }
}

fn lists(out: &mut Entries, section: &'static str, lists: &[NamedList]) {
    for list in lists {
        let slot = out
            .entry((section, norm(&list.name.value)))
            .or_insert_with(|| (Vec::new(), list.name.span));
        slot.0
            .extend(list.values.items.iter().map(|v| norm(&v.value)));
    }
}

fn entries(policy: &Policy) -> Entries {
    let mut out = Entries::new();
    lists(&mut out, "tagOwners", &policy.tag_owners);
    lists(&mut out, "groups", &policy.groups);
    lists(
        &mut out,
        "autoApprovers.routes",
        &policy.auto_approvers.routes,
    );
    lists(
        &mut out,
        "autoApprovers.services",
        &policy.auto_approvers.services,
    );
    if let Some(first) = policy.auto_approvers.exit_node.first() {
        let slot = out
            .entry(("autoApprovers.exitNode", "exit node".to_owned()))
            .or_insert_with(|| (Vec::new(), first.span));
        slot.0.extend(
            policy
                .auto_approvers
                .exit_node
                .iter()
                .map(|v| norm(&v.value)),
        );
    }
    for attr in &policy.node_attrs {
        for name in &attr.attr {
            let slot = out
                .entry(("nodeAttrs", name.value.trim().to_owned()))
                .or_insert_with(|| (Vec::new(), attr.span));
            slot.0
                .extend(attr.target.items.iter().map(|t| norm(&t.value)));
        }
        if let Some(app) = &attr.app {
            for (name, _) in &app.entries {
                let slot = out
                    .entry(("nodeAttrs", name.value.trim().to_owned()))
                    .or_insert_with(|| (Vec::new(), attr.span));
                slot.0
                    .extend(attr.target.items.iter().map(|t| norm(&t.value)));
            }
        }
    }
    for (who, _) in out.values_mut() {
        who.sort();
        who.dedup();
    }
    out
}

/// (added, removed) ownership rows.
pub fn owner_changes(old: &Policy, new: &Policy) -> (Vec<OwnerRow>, Vec<OwnerRow>) {
    let (old, new) = (entries(old), entries(new));
    let mut added = Vec::new();
    let mut removed = Vec::new();
    let empty = (Vec::new(), Span::default());
    let keys: std::collections::BTreeSet<&(&'static str, String)> =
        old.keys().chain(new.keys()).collect();
    for key in keys {
        let (in_old, in_new) = (old.get(key), new.get(key));
        let (old_who, old_span) = in_old.unwrap_or(&empty);
        let (new_who, new_span) = in_new.unwrap_or(&empty);
        let row = |who: Vec<String>| OwnerRow {
            section: key.0,
            target: key.1.clone(),
            who,
            old_span: in_old.map(|_| *old_span),
            new_span: in_new.map(|_| *new_span),
        };
        let gained: Vec<String> = new_who
            .iter()
            .filter(|w| !old_who.contains(w))
            .cloned()
            .collect();
        let lost: Vec<String> = old_who
            .iter()
            .filter(|w| !new_who.contains(w))
            .cloned()
            .collect();
        if !gained.is_empty() {
            added.push(row(gained));
        }
        if !lost.is_empty() {
            removed.push(row(lost));
        }
    }
    (added, removed)
}
