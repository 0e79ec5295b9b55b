use crate::fasthash::FastMap;
use crate::lint::RuleContext;
use crate::lint::registry::declare_rule;
use crate::model::{NodeAttr, Str};
use crate::text::Trimmed;

declare_rule! {
    /// ### What it does
    /// Flags a `nodeAttrs` entry identical to an earlier one: the same targets, attributes,
    /// `app` capabilities and `ipPool`, in any order (tags compare without regard to case).
    ///
    /// ### Why is this bad
    /// Entries for the same device are merged, so the copy changes nothing. It is usually a
    /// leftover from an edit or a copy-paste slip where other targets or attributes were
    /// meant, and whoever later edits one copy finds that the other still applies.
    ///
    /// ### Example
    /// ```jsonc
    /// "nodeAttrs": [
    ///   {"target": ["tag:exit"], "attr": ["funnel"]},
    ///   {"target": ["tag:exit"], "attr": ["funnel"]},
    /// ],
    /// ```
    ///
    /// ### Use instead
    /// ```jsonc
    /// "nodeAttrs": [
    ///   {"target": ["tag:exit"], "attr": ["funnel"]},
    /// ],
    /// ```
    code: "TP023",
    name: "duplicate-node-attr",
    category: Style,
    severity: Warning,
    summary: "a `nodeAttrs` entry identical to an earlier one",
}

fn check(cx: &mut RuleContext<'_>) {
    let source = cx.lint.source;
    let mut first_of: FastMap<Key, usize> = FastMap::default();
    for (index, entry) in cx.policy.node_attrs.iter().enumerate() {
        let first = *first_of.entry(key(source, entry)).or_insert(index);
        let Some(original) = cx.policy.node_attrs.get(first).filter(|_| first != index) else {
            continue;
        };
        let diagnostic = cx
            .diagnostic(
                format!("`nodeAttrs[{index}]` repeats `nodeAttrs[{first}]`"),
                super::head(entry.span),
            )
            .with_secondary(super::head(original.span), "first given here")
            .with_help(
                "remove the copy, or change it to the targets or attributes that were meant",
            );
        cx.push(diagnostic);
    }
}

/// Targets, attributes, pools (each sorted) and the `app` text without whitespace.
type Key = (Vec<String>, Vec<String>, Vec<String>, String);

fn key(source: &str, entry: &NodeAttr) -> Key {
    let mut app = String::new();
    let app_text = entry
        .app
        .as_ref()
        .and_then(|app| source.get(app.span.range()));
    for c in app_text.unwrap_or_default().chars() {
        if !c.is_whitespace() {
            app.push(c);
        }
    }
    (
        sorted(&entry.target.items, true),
        sorted(&entry.attr, false),
        sorted(&entry.ip_pool, false),
        app,
    )
}

/// The items' texts sorted without repeats; with `fold`, tags in lower case.
fn sorted(items: &[Str], fold: bool) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(items.len());
    for s in items {
        let text = s.value.trimmed();
        let tag = text
            .get(..4)
            .is_some_and(|p| p.eq_ignore_ascii_case("tag:"));
        out.push(if fold && tag {
            text.to_ascii_lowercase()
        } else {
            text.to_owned()
        });
    }
    out.sort_unstable();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use crate::lint::test_support::{findings, messages};

    #[test]
    fn flags_identical_entries_in_any_order() {
        let text = r#"{
  "tagOwners": {"tag:exit": [], "tag:web": []},
  "nodeAttrs": [
    {"target": ["tag:exit", "tag:web"], "attr": ["funnel", "randomize-client-port"]},
    {"target": ["tag:web"], "attr": ["funnel"]},
    {"attr": ["randomize-client-port", "funnel"], "target": ["tag:WEB", "tag:exit"]},
    {"target": ["tag:web"], "attr": ["funnel"], "ipPool": ["100.81.0.0/16"]},
  ],
}"#;
        assert_eq!(findings(text, "TP023"), ["{"]);
        assert_eq!(
            messages(text, "TP023"),
            ["`nodeAttrs[2]` repeats `nodeAttrs[0]`"]
        );
    }

    #[test]
    fn entries_that_differ_only_in_app_are_not_duplicates() {
        let text = r#"{
  "tagOwners": {"tag:connector": []},
  "nodeAttrs": [
    {"target": ["*"], "app": {"example.com/cap/connectors": [{"name": "a", "connectors": ["tag:connector"], "domains": ["a.example.com"]}]}},
    {"target": ["*"], "app": {"example.com/cap/connectors": [{"name": "b", "connectors": ["tag:connector"], "domains": ["b.example.com"]}]}},
    {"target": ["*"], "app": {"example.com/cap/connectors": [{"name": "b", "connectors": ["tag:connector"],   "domains": ["b.example.com"]}]}},
  ],
}"#;
        assert_eq!(
            messages(text, "TP023"),
            ["`nodeAttrs[2]` repeats `nodeAttrs[1]`"]
        );
    }
}
