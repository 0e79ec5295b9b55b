//! Suppression comments: `// tailpolicy-ignore TP012, TP013: reason`.
//!
//! A suppression on a line of its own applies to the next line that holds something other
//! than comments; one after a value (trailing) applies to its own line. It hides findings of
//! the named rules (codes or names) whose primary span starts on that line. A suppression
//! without a reason, or naming an unknown rule, is reported (`invalid-suppression`); one
//! that hides nothing is reported too (`unused-suppression`). Both keep working, and both
//! can be turned off in the configuration like any rule.

use crate::diagnostic::Diagnostic;
use crate::span::Span;
use crate::text::Trimmed;

use super::LintContext;
use super::registry::{self, Rule};
use super::rules::{invalid_suppression, unused_suppression};

/// The word that starts a suppression comment.
pub const MARKER: &str = "tailpolicy-ignore";

/// One parsed suppression comment.
#[derive(Debug, Clone)]
struct Suppression {
    /// The rules named, each with the span of its name in the comment.
    rules: Vec<(&'static Rule, Span)>,
    /// Byte offset of the start of the line it applies to; `None` when nothing follows.
    target: Option<u32>,
}

/// Filters `found` through the suppression comments of `ctx.source` and adds the findings
/// about the comments themselves.
pub(crate) fn apply(found: Vec<Diagnostic>, ctx: &LintContext<'_>) -> Vec<Diagnostic> {
    let mut meta = Vec::new();
    let mut suppressions: Vec<Suppression> = Vec::new();
    let mut used: Vec<Vec<bool>> = Vec::new();
    for &comment in ctx.comments {
        if let Some(suppression) = parse(ctx, comment, &mut meta) {
            used.push(vec![false; suppression.rules.len()]);
            suppressions.push(suppression);
        }
    }

    // Suppressions by the line they apply to, and the start of every line: each finding
    // costs two lookups, not a pass over the comments or back through the text.
    let mut by_line: crate::fasthash::FastMap<u32, Vec<usize>> = Default::default();
    for (i, suppression) in suppressions.iter().enumerate() {
        if let Some(line) = suppression.target {
            by_line.entry(line).or_default().push(i);
        }
    }
    let mut line_starts: Vec<u32> = Vec::new();
    if !by_line.is_empty() {
        line_starts.push(0);
        for (i, b) in ctx.source.bytes().enumerate() {
            if let (b'\n', Ok(start)) = (b, u32::try_from(i + 1)) {
                line_starts.push(start);
            }
        }
    }
    let mut kept = Vec::with_capacity(found.len());
    for diagnostic in found {
        let mut suppressed = false;
        if !by_line.is_empty() {
            let at = diagnostic.primary_span().start;
            let line = line_starts
                .get(line_starts.partition_point(|&s| s <= at).saturating_sub(1))
                .copied()
                .unwrap_or(0);
            for &i in by_line.get(&line).map_or(&[][..], Vec::as_slice) {
                let (Some(suppression), Some(used)) = (suppressions.get(i), used.get_mut(i)) else {
                    continue;
                };
                for ((rule, _), used) in suppression.rules.iter().zip(used.iter_mut()) {
                    if rule.code == diagnostic.code {
                        *used = true;
                        suppressed = true;
                    }
                }
            }
        }
        if !suppressed {
            kept.push(diagnostic);
        }
    }

    for (suppression, used) in suppressions.iter().zip(&used) {
        for ((rule, span), used) in suppression.rules.iter().zip(used) {
            // A rule that did not run could not have fired.
            if !*used && ctx.config.is_enabled(rule) {
                meta.push(
                    Diagnostic::new(
                        unused_suppression::RULE.code,
                        unused_suppression::RULE.default_severity,
                        format!("unused suppression: no `{}` finding here", rule.code),
                        *span,
                    )
                    .with_help("remove it, or move it to the line before the finding"),
                );
            }
        }
    }

    for mut diagnostic in meta {
        let Some(rule) = registry::find(diagnostic.code) else {
            continue;
        };
        if ctx.config.is_enabled(rule) {
            diagnostic.severity = ctx.config.severity(rule);
            kept.push(diagnostic);
        }
    }
    kept
}

/// Parses one comment; `None` when it is not a suppression. Problems go to `meta`.
fn parse(ctx: &LintContext<'_>, comment: Span, meta: &mut Vec<Diagnostic>) -> Option<Suppression> {
    let text = ctx.source.get(comment.range())?;
    let (body, body_offset) = if let Some(body) = text.strip_prefix("//") {
        (body, 2)
    } else {
        let inner = text.strip_prefix("/*")?;
        (inner.strip_suffix("*/").unwrap_or(inner), 2)
    };
    let leading = body.len() - body.trim_start().len();
    let after_marker = body.trim_start().strip_prefix(MARKER)?;
    if !(after_marker.is_empty()
        || after_marker.starts_with(':')
        || after_marker.starts_with(char::is_whitespace))
    {
        return None;
    }
    let list_offset = comment.start as usize + body_offset + leading + MARKER.len();
    let (list, reason) = match after_marker.split_once(':') {
        Some((list, reason)) => (list, Some(reason.trimmed())),
        None => (after_marker, None),
    };

    let invalid = |message: String, span: Span, help: &str| {
        Diagnostic::new(
            invalid_suppression::RULE.code,
            invalid_suppression::RULE.default_severity,
            message,
            span,
        )
        .with_help(help.to_owned())
    };

    let mut rules = Vec::new();
    let mut names = 0;
    for (start, name) in tokens(list) {
        names += 1;
        let span = span_of(list_offset + start, name.len());
        match registry::find(name) {
            Some(rule) if rule.check.is_none() => meta.push(invalid(
                format!("`{}` cannot be suppressed with a comment", rule.code),
                span,
                "turn it off with `ignore` in tailpolicy.toml",
            )),
            Some(rule) => rules.push((rule, span)),
            None => {
                let mut candidates = Vec::new();
                for rule in registry::RULES.iter() {
                    candidates.push(rule.code);
                    candidates.push(rule.name);
                }
                let help = match crate::fuzzy::closest(name, candidates.into_iter()) {
                    Some(near) => format!("did you mean `{near}`?"),
                    None => {
                        "name rules by code (`TP012`) or name; see docs/rules/README.md".to_owned()
                    }
                };
                meta.push(invalid(
                    format!("unknown rule `{name}` in suppression"),
                    span,
                    &help,
                ));
            }
        }
    }
    if names == 0 {
        meta.push(invalid(
            "suppression names no rule".to_owned(),
            comment,
            "write `// tailpolicy-ignore TP012: why this is fine`",
        ));
    }
    if reason.is_none_or(str::is_empty) {
        meta.push(invalid(
            "suppression without a reason".to_owned(),
            comment,
            "say why the finding is fine after a colon: `// tailpolicy-ignore TP012: why this is fine`",
        ));
    }
    Some(Suppression {
        rules,
        target: target_line(ctx, comment),
    })
}

/// The rule names in a list such as ` TP012, unused-group `, with their byte offsets.
fn tokens(list: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in list.char_indices() {
        let separator = c == ',' || c.is_whitespace();
        match (separator, start) {
            (true, Some(s)) => {
                out.extend(list.get(s..i).map(|t| (s, t)));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        out.extend(list.get(s..).map(|t| (s, t)));
    }
    out
}

fn span_of(start: usize, len: usize) -> Span {
    let start = u32::try_from(start).unwrap_or(u32::MAX);
    let len = u32::try_from(len).unwrap_or(0);
    Span::new(start, start.saturating_add(len))
}

/// The start of the line a suppression applies to.
fn target_line(ctx: &LintContext<'_>, comment: Span) -> Option<u32> {
    let source = ctx.source;
    let own_line = line_start(source, comment.start);
    let before = source
        .get(own_line as usize..comment.start as usize)
        .unwrap_or("");
    if !before.trimmed().is_empty() {
        return Some(own_line);
    }
    // Skip whitespace and further comments to the next code.
    let mut at = comment.end as usize;
    loop {
        let rest = source.get(at..)?;
        let skipped = rest.len() - rest.trim_start().len();
        at += skipped;
        if at >= source.len() {
            return None;
        }
        let offset = u32::try_from(at).ok()?;
        match ctx.comments.iter().find(|c| c.start == offset) {
            Some(next) => at = next.end as usize,
            None => return Some(line_start(source, offset)),
        }
    }
}

/// The byte offset of the start of the line holding `offset`.
fn line_start(source: &str, offset: u32) -> u32 {
    let offset = (offset as usize).min(source.len());
    let start = source
        .as_bytes()
        .get(..offset)
        .and_then(|before| before.iter().rposition(|&b| b == b'\n'))
        .map_or(0, |i| i + 1);
    u32::try_from(start).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use crate::lint::LintConfig;
    use crate::lint::test_support::lint_with;

    fn run(text: &str) -> Vec<(String, String)> {
        lint_with(
            text,
            &LintConfig::default().with_select(&["empty-group", "TP000", "TP001"]),
        )
        .into_iter()
        .map(|d| {
            let shown = text.get(d.primary_span().range()).unwrap_or("").to_owned();
            (d.code.to_owned(), shown)
        })
        .collect()
    }

    #[test]
    fn a_suppression_hides_the_next_line_only() {
        let text = r#"{
  "groups": {
    // tailpolicy-ignore empty-group: filled by SCIM later
    "group:a": [],
    "group:b": [],
  },
  "acls": [{"action": "accept", "src": ["group:a", "group:b"], "dst": ["*:*"]}],
}"#;
        assert_eq!(run(text), [("TP009".to_owned(), "\"group:b\"".to_owned())]);
    }

    #[test]
    fn trailing_and_stacked_suppressions() {
        let text = r#"{
  "groups": {
    "group:a": [], // tailpolicy-ignore TP009: trailing
    // tailpolicy-ignore TP009: stacked
    /* another comment */
    "group:b": [],
  },
  "acls": [{"action": "accept", "src": ["group:a", "group:b"], "dst": ["*:*"]}],
}"#;
        assert_eq!(run(text), []);
    }

    #[test]
    fn missing_reasons_unknown_rules_and_unused_suppressions_are_reported() {
        let text = r#"{
  "groups": {
    // tailpolicy-ignore TP009
    "group:a": [],
    // tailpolicy-ignore TP009, TP998: reason
    "group:b": ["x@example.com"],
    // tailpolicy-ignore: reason
    "group:c": ["x@example.com"],
  },
  "acls": [{"action": "accept", "src": ["group:a", "group:b", "group:c"], "dst": ["*:*"]}],
}"#;
        let found = run(text);
        let codes: Vec<(&str, &str)> = found
            .iter()
            .map(|(c, s)| (c.as_str(), s.as_str()))
            .collect();
        assert_eq!(
            codes,
            [
                ("TP000", "// tailpolicy-ignore TP009"),
                ("TP001", "TP009"),
                ("TP000", "TP998"),
                ("TP000", "// tailpolicy-ignore: reason"),
            ]
        );
    }

    #[test]
    fn other_comments_are_not_suppressions() {
        let text = r#"{
  // tailpolicy-ignored TP009: not the marker
  // see tailpolicy-ignore
  "groups": {"group:a": []},
  "acls": [{"action": "accept", "src": ["group:a"], "dst": ["*:*"]}],
}"#;
        assert_eq!(run(text), [("TP009".to_owned(), "\"group:a\"".to_owned())]);
    }

    #[test]
    fn suppressions_of_disabled_rules_are_not_unused() {
        let text = r#"{
  // tailpolicy-ignore TP004: not run
  "groups": {"group:a": ["x@example.com"]},
  "acls": [{"action": "accept", "src": ["group:a"], "dst": ["*:*"]}],
}"#;
        assert_eq!(run(text), []);
    }

    #[test]
    fn rule_lists_split_on_commas_and_any_whitespace() {
        assert_eq!(
            super::tokens(" TP012,\u{3000}unused-group ,TP013"),
            [(1, "TP012"), (10, "unused-group"), (24, "TP013")]
        );
        assert!(super::tokens(" , ").is_empty());
    }

    #[test]
    fn a_suppression_at_the_end_suppresses_nothing() {
        let text = "{\"acls\": []}\n// tailpolicy-ignore TP009: nothing follows\n";
        assert_eq!(run(text), [("TP001".to_owned(), "TP009".to_owned())]);
    }
}
