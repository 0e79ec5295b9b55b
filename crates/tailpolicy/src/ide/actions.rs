//! Code actions: the safe fixes of some diagnostics, and "add a `tests` entry for this rule".

use crate::Diagnostic;
use crate::span::Span;
use crate::syntax::{Value, ValueKind};

use super::locate;
use super::{Analysis, TextEdit};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeActionKind {
    QuickFix,
    Refactor,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeAction {
    pub title: String,
    pub kind: CodeActionKind,
    pub edits: Vec<TextEdit>,
    /// The index, in the diagnostics given, of the diagnostic this fixes.
    pub diagnostic: Option<usize>,
    /// The fix to apply when there is one obvious choice.
    pub preferred: bool,
}

/// Codes whose finding is a definition nothing uses: removing it changes nothing.
const UNUSED: &[(&str, &str)] = &[
    ("TP004", "group"),
    ("TP005", "tag"),
    ("TP006", "host"),
    ("TP007", "ipset"),
    ("TP008", "posture"),
];
const DUPLICATE_LIST_ENTRY: &str = "TP010";

pub(super) fn code_actions(
    analysis: &Analysis<'_>,
    range: Span,
    diagnostics: &[Diagnostic],
) -> Vec<CodeAction> {
    let Some(root) = analysis.root() else {
        return Vec::new();
    };
    let text = analysis.text();
    let mut out = Vec::new();
    for (i, diagnostic) in diagnostics.iter().enumerate() {
        let span = diagnostic.primary_span();
        if span.end < range.start || span.start > range.end {
            continue;
        }
        let fix = if let Some((_, what)) = UNUSED.iter().find(|(c, _)| *c == diagnostic.code) {
            find_member(root, span).map(|(object, at)| {
                let name = text.get(span.range()).unwrap_or("");
                (
                    format!("remove unused {what} {name}"),
                    remove_entry(text, object, at),
                )
            })
        } else if diagnostic.code == DUPLICATE_LIST_ENTRY {
            find_element(root, span).map(|(array, at)| {
                let entry = text.get(span.range()).unwrap_or("");
                (
                    format!("remove the second {entry}"),
                    remove_entry(text, array, at),
                )
            })
        } else if matches!(diagnostic.code, "E301" | "E203") {
            missing_port(text, root, span)
        } else {
            None
        };
        if let Some((title, edit)) = fix {
            out.push(CodeAction {
                title,
                kind: CodeActionKind::QuickFix,
                edits: vec![edit],
                diagnostic: Some(i),
                preferred: true,
            });
        }
    }
    if let Some(action) = add_test(analysis, root, range.start) {
        out.push(action);
    }
    out
}

/// The object holding the member whose key is at `span`, and its position.
fn find_member(root: &Value, span: Span) -> Option<(&Value, usize)> {
    let mut stack = vec![root];
    while let Some(value) = stack.pop() {
        match &value.kind {
            ValueKind::Object(members) => {
                if let Some(at) = members.iter().position(|m| m.key_span == span) {
                    return Some((value, at));
                }
                stack.extend(members.iter().map(|m| &m.value));
            }
            ValueKind::Array(items) => stack.extend(items),
            _ => {}
        }
    }
    None
}

/// The array holding the element at `span`, and its position.
fn find_element(root: &Value, span: Span) -> Option<(&Value, usize)> {
    let mut stack = vec![root];
    while let Some(value) = stack.pop() {
        match &value.kind {
            ValueKind::Object(members) => stack.extend(members.iter().map(|m| &m.value)),
            ValueKind::Array(items) => {
                if let Some(at) = items.iter().position(|i| i.span == span) {
                    return Some((value, at));
                }
                stack.extend(items);
            }
            _ => {}
        }
    }
    None
}

/// Deletes entry `at` of a container with the comma after it, and its whole line when it
/// stands alone on it. A comma left before it becomes a trailing comma, which HuJSON allows.
fn remove_entry(text: &str, container: &Value, at: usize) -> TextEdit {
    let span = match &container.kind {
        ValueKind::Object(members) => members
            .get(at)
            .map(|m| m.key_span.cover(m.value.span))
            .unwrap_or_default(),
        ValueKind::Array(items) => items.get(at).map(|i| i.span).unwrap_or_default(),
        _ => Span::default(),
    };
    let bytes = text.as_bytes();
    let mut end = span.end as usize;
    let skip_blanks = |mut i: usize| {
        while bytes.get(i).is_some_and(|b| *b == b' ' || *b == b'\t') {
            i += 1;
        }
        i
    };
    end = skip_blanks(end);
    if bytes.get(end) == Some(&b',') {
        end = skip_blanks(end + 1);
    }
    let mut start = span.start as usize;
    let mut line_start = start;
    while line_start > 0
        && bytes
            .get(line_start - 1)
            .is_some_and(|b| *b == b' ' || *b == b'\t')
    {
        line_start -= 1;
    }
    let alone = (line_start == 0 || bytes.get(line_start - 1) == Some(&b'\n'))
        && matches!(bytes.get(end), Some(b'\n' | b'\r'));
    if alone {
        start = line_start;
        if bytes.get(end) == Some(&b'\r') {
            end += 1;
        }
        if bytes.get(end) == Some(&b'\n') {
            end += 1;
        }
    }
    let offset = |i: usize| u32::try_from(i).unwrap_or(u32::MAX);
    TextEdit {
        span: Span::new(offset(start), offset(end)),
        new_text: String::new(),
    }
}

/// `"tag:web"` in an ACL destination lacks its port: append `:*`.
fn missing_port(text: &str, root: &Value, span: Span) -> Option<(String, TextEdit)> {
    let acls = root
        .as_object()?
        .iter()
        .rev()
        .find(|m| m.key.eq_ignore_ascii_case("acls"))?;
    let in_dst = acls.value.as_array()?.iter().any(|rule| {
        rule.as_object().unwrap_or_default().iter().any(|m| {
            (m.key.eq_ignore_ascii_case("dst") || m.key.eq_ignore_ascii_case("ports"))
                && m.value
                    .as_array()
                    .unwrap_or_default()
                    .iter()
                    .any(|d| d.span == span)
        })
    });
    if !in_dst {
        return None;
    }
    let raw = text.get(span.range())?;
    let inner = raw.strip_prefix('"')?.strip_suffix('"')?;
    let has_port = inner.rsplit_once(':').is_some_and(|(_, port)| {
        !port.is_empty()
            && port
                .bytes()
                .all(|b| b.is_ascii_digit() || b"*,-".contains(&b))
    });
    let bare_word = inner
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-_.:@/".contains(&b));
    if has_port || !bare_word || inner.is_empty() {
        return None;
    }
    Some((
        format!("add the port: `{inner}:*` (all ports)"),
        TextEdit {
            span: Span::at(span.end - 1),
            new_text: ":*".to_owned(),
        },
    ))
}

fn strings(value: Option<&Value>) -> Vec<&str> {
    value
        .and_then(Value::as_array)
        .unwrap_or_default()
        .iter()
        .filter_map(Value::as_str)
        .collect()
}

fn field<'t>(rule: &'t Value, name: &str) -> Option<&'t Value> {
    rule.as_object()?
        .iter()
        .rev()
        .find(|m| m.key.eq_ignore_ascii_case(name))
        .map(|m| &m.value)
}

/// The first port of a port list (`80,443` -> 80, `1000-2000` -> 1000, `*` -> 443).
fn first_port(ports: &str) -> Option<String> {
    let first = ports.split(',').next()?.split('-').next()?.trim();
    match first {
        "*" => Some("443".to_owned()),
        p if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => Some(p.to_owned()),
        _ => None,
    }
}

/// "add a `tests` entry for this rule": the rule's first source must reach its first
/// destination.
fn add_test(analysis: &Analysis<'_>, root: &Value, offset: u32) -> Option<CodeAction> {
    let text = analysis.text();
    let located = locate::locate(text, root, offset);
    let (section, i) = locate::rule_of(&located.steps)?;
    let rule = root
        .as_object()?
        .iter()
        .rev()
        .find(|m| m.key.eq_ignore_ascii_case(section))?
        .value
        .as_array()?
        .get(i)?;
    let src = |list: Vec<&str>| -> Option<String> {
        list.into_iter()
            .find(|s| *s != "*" && !s.starts_with("autogroup:") && !s.contains('/'))
            .map(str::to_owned)
    };
    let (src, dst, proto) = match section {
        "acls" => {
            let src = src(strings(field(rule, "src").or_else(|| field(rule, "users"))))?;
            let dst = strings(field(rule, "dst").or_else(|| field(rule, "ports")))
                .into_iter()
                .find_map(|d| {
                    let (host, ports) = d.rsplit_once(':')?;
                    (host != "*" && !host.starts_with("autogroup:"))
                        .then(|| first_port(ports).map(|p| format!("{host}:{p}")))?
                })?;
            let proto = field(rule, "proto")
                .and_then(Value::as_str)
                .map(str::to_owned);
            (src, dst, proto)
        }
        "grants" => {
            let src = src(strings(field(rule, "src")))?;
            let host = strings(field(rule, "dst"))
                .into_iter()
                .find(|d| *d != "*" && !d.starts_with("autogroup:") && !d.starts_with("svc:"))?;
            let ip = strings(field(rule, "ip"));
            let first = ip.first()?;
            let (proto, ports) = match first.split_once(':') {
                Some((proto, ports)) => (Some(proto.to_owned()), ports),
                None => (None, *first),
            };
            let port = first_port(ports)?;
            let proto = proto.filter(|p| p != "*");
            (src, format!("{host}:{port}"), proto)
        }
        _ => return None,
    };
    let quote = |s: &str| serde_json::Value::String(s.to_owned()).to_string();
    let mut entry = format!("{{\"src\": {}, ", quote(&src));
    if let Some(proto) = proto.filter(|p| !p.is_empty()) {
        entry.push_str(&format!("\"proto\": {}, ", quote(&proto)));
    }
    entry.push_str(&format!("\"accept\": [{}]}}", quote(&dst)));
    let edit = insert_test(text, root, &entry)?;
    Some(CodeAction {
        title: format!("add a `tests` entry for {section}[{i}]: `{src}` -> `{dst}`"),
        kind: CodeActionKind::Refactor,
        edits: vec![edit],
        diagnostic: None,
        preferred: false,
    })
}

/// The indentation of the line holding `offset`.
fn indent_at(text: &str, offset: u32) -> &str {
    let before = text.get(..offset as usize).unwrap_or("");
    let line = before.rsplit('\n').next().unwrap_or("");
    let width = line.len() - line.trim_start_matches([' ', '\t']).len();
    line.get(..width).unwrap_or("")
}

fn insert_test(text: &str, root: &Value, entry: &str) -> Option<TextEdit> {
    let members = root.as_object()?;
    let tests = members
        .iter()
        .rev()
        .find(|m| m.key.eq_ignore_ascii_case("tests"));
    let closed = |v: &Value| {
        text.as_bytes()
            .get((v.span.end as usize).wrapping_sub(1))
            .is_some_and(|b| matches!(b, b']' | b'}'))
    };
    match tests {
        Some(tests) => {
            let items = tests.value.as_array()?;
            if !closed(&tests.value) {
                return None;
            }
            match items.last() {
                Some(last) => Some(TextEdit {
                    span: Span::at(last.span.end),
                    new_text: format!(",\n{}{entry}", indent_at(text, last.span.start)),
                }),
                None => Some(TextEdit {
                    span: tests.value.span,
                    new_text: format!("[{entry}]"),
                }),
            }
        }
        None => {
            if !closed(root) {
                return None;
            }
            match members.last() {
                Some(last) => Some(TextEdit {
                    span: Span::at(last.value.span.end),
                    new_text: format!(
                        ",\n{}\"tests\": [{entry}]",
                        indent_at(text, last.key_span.start)
                    ),
                }),
                None => Some(TextEdit {
                    span: root.span,
                    new_text: format!("{{\"tests\": [{entry}]}}"),
                }),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::apply_edits;
    use super::*;

    fn fixed(text: &str, code: &str) -> Vec<String> {
        let report = crate::check(text, &Default::default());
        let analysis = Analysis::new(text);
        let whole = Span::new(0, text.len() as u32);
        analysis
            .code_actions(whole, &report.diagnostics)
            .into_iter()
            .filter(|a| {
                a.diagnostic
                    .is_some_and(|i| report.diagnostics[i].code == code)
            })
            .map(|a| apply_edits(text, &a.edits))
            .collect()
    }

    #[test]
    fn removes_unused_definitions_and_duplicates() {
        let text = "{\n  \"groups\": {\n    \"group:used\": [\"a@example.com\"],\n    \"group:unused\": [\"b@example.com\"],\n  },\n  \"acls\": [{\"action\": \"accept\", \"src\": [\"group:used\", \"group:used\"], \"dst\": [\"*:*\"]}],\n}\n";
        let unused = fixed(text, "TP004");
        assert_eq!(unused.len(), 1);
        assert!(
            !unused[0].contains("group:unused")
                && crate::check(&unused[0], &Default::default()).is_valid()
        );
        let dup = fixed(text, "TP010");
        assert_eq!(dup.len(), 1);
        assert!(dup[0].contains("\"src\": [\"group:used\", ]"), "{}", dup[0]);
        assert!(crate::syntax::parse(&dup[0]).value.is_some());
    }

    #[test]
    fn adds_a_missing_port_and_a_test() {
        let text = "{\n\t\"tagOwners\": {\"tag:a\": []},\n\t\"acls\": [{\"action\": \"accept\", \"src\": [\"tag:a\"], \"dst\": [\"tag:a\"]}],\n}\n";
        let port = fixed(text, "E301");
        assert_eq!(port.len(), 1);
        assert!(
            crate::check(&port[0], &Default::default()).is_valid(),
            "{}",
            port[0]
        );

        let text = &port[0];
        let analysis = Analysis::new(text);
        let at = text.find("accept").unwrap() as u32;
        let actions = analysis.code_actions(Span::at(at), &[]);
        let test = actions
            .iter()
            .find(|a| a.title.starts_with("add a `tests`"))
            .unwrap();
        let with_test = apply_edits(text, &test.edits);
        assert!(
            with_test.contains("\"tests\": [{\"src\": \"tag:a\", \"accept\": [\"tag:a:443\"]}]"),
            "{with_test}"
        );
        let report = crate::check(&with_test, &Default::default());
        assert!(report.is_valid(), "{:?}", report.diagnostics);
    }
}
