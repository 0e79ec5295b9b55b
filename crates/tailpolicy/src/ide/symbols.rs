//! The document outline: sections, and in them rules and definitions.

use crate::span::Span;
use crate::syntax::{Value, ValueKind};

use super::fields::{self, Ty};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SymbolKind {
    /// A top-level section.
    Section,
    /// An entry of `acls`, `grants`, `ssh`, `nodeAttrs`, `tests` or `sshTests`.
    Rule,
    /// A named definition (group, tag, host, ipset, posture, ...).
    Definition,
    /// Another field.
    Field,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Symbol {
    pub name: String,
    pub detail: Option<String>,
    pub kind: SymbolKind,
    /// The whole entry, key and value.
    pub span: Span,
    /// The part to select (the key, or the rule's opening).
    pub selection_span: Span,
    pub children: Vec<Symbol>,
}

pub(super) fn symbols(_text: &str, root: &Value) -> Vec<Symbol> {
    let Some(members) = root.as_object() else {
        return Vec::new();
    };
    members
        .iter()
        .map(|section| {
            let ty = fields::find(fields::POLICY, &section.key).map(|f| f.ty);
            let children = match (ty, &section.value.kind) {
                (Some(Ty::ObjectList(_)), ValueKind::Array(items)) => items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| Symbol {
                        name: format!("{}[{i}]", section.key),
                        detail: rule_detail(item),
                        kind: SymbolKind::Rule,
                        span: item.span,
                        selection_span: Span::new(
                            item.span.start,
                            item.span.start.saturating_add(1).min(item.span.end),
                        ),
                        children: Vec::new(),
                    })
                    .collect(),
                (_, ValueKind::Object(entries)) => entries
                    .iter()
                    .map(|entry| Symbol {
                        name: entry.key.clone(),
                        detail: None,
                        kind: if matches!(ty, Some(Ty::Map { .. })) {
                            SymbolKind::Definition
                        } else {
                            SymbolKind::Field
                        },
                        span: entry.key_span.cover(entry.value.span),
                        selection_span: entry.key_span,
                        children: Vec::new(),
                    })
                    .collect(),
                _ => Vec::new(),
            };
            Symbol {
                name: section.key.clone(),
                detail: ty
                    .map(|_| format!("{} entries", children.len()))
                    .filter(|_| !children.is_empty()),
                kind: SymbolKind::Section,
                span: section.key_span.cover(section.value.span),
                selection_span: section.key_span,
                children,
            }
        })
        .collect()
}

/// A one-line summary of a rule: `src -> dst`.
fn rule_detail(rule: &Value) -> Option<String> {
    let first = |names: &[&str]| -> Option<String> {
        let value = rule
            .as_object()?
            .iter()
            .rev()
            .find(|m| names.iter().any(|n| m.key.eq_ignore_ascii_case(n)))?;
        Some(match &value.value.kind {
            ValueKind::String(s) => s.clone(),
            ValueKind::Array(items) => items
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(", "),
            _ => String::new(),
        })
    };
    let src = first(&["src", "users", "user", "target"]);
    let dst = first(&["dst", "ports", "accept", "attr"]);
    match (src, dst) {
        (Some(s), Some(d)) => Some(format!("{s} -> {d}")),
        (Some(s), None) => Some(s),
        (None, Some(d)) => Some(d),
        (None, None) => None,
    }
}
