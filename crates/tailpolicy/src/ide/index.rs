//! Every name a policy defines (groups, tags, hosts, ipsets, postures) and every place it is
//! used, found on the syntax tree so that documents with errors are indexed too.

use crate::span::Span;
use crate::syntax::{Member, Value, ValueKind};

/// The kinds of names a policy defines and refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NameKind {
    Group,
    Tag,
    Host,
    Ipset,
    Posture,
    /// Not defined in the policy: the closed set of autogroups.
    Autogroup,
    /// `svc:` services, named in grants and `autoApprovers.services`.
    Service,
}

impl NameKind {
    /// The prefix of names of this kind (`group:`), empty for hosts.
    pub fn prefix(self) -> &'static str {
        match self {
            NameKind::Group => "group:",
            NameKind::Tag => "tag:",
            NameKind::Host => "",
            NameKind::Ipset => "ipset:",
            NameKind::Posture => "posture:",
            NameKind::Autogroup => "autogroup:",
            NameKind::Service => "svc:",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            NameKind::Group => "group",
            NameKind::Tag => "tag",
            NameKind::Host => "host",
            NameKind::Ipset => "ipset",
            NameKind::Posture => "posture",
            NameKind::Autogroup => "autogroup",
            NameKind::Service => "service",
        }
    }

    /// The section that defines names of this kind.
    pub fn section(self) -> Option<&'static str> {
        match self {
            NameKind::Group => Some("groups"),
            NameKind::Tag => Some("tagOwners"),
            NameKind::Host => Some("hosts"),
            NameKind::Ipset => Some("ipsets"),
            NameKind::Posture => Some("postures"),
            NameKind::Autogroup | NameKind::Service => None,
        }
    }

    /// Tags compare case-insensitively, everything else as written.
    pub fn same(self, a: &str, b: &str) -> bool {
        match self {
            NameKind::Tag => a.eq_ignore_ascii_case(b),
            _ => a == b,
        }
    }
}

/// A definition: a member of `groups`, `tagOwners`, `hosts`, `ipsets` or `postures`.
#[derive(Debug, Clone)]
pub struct Definition<'t> {
    pub kind: NameKind,
    pub name: String,
    /// The key, with its quotes.
    pub key_span: Span,
    /// The name inside the key, without quotes (`None` when written with escapes).
    pub name_span: Option<Span>,
    pub member: &'t Member,
}

/// A use of a name inside a string value (or a key that is not a definition).
#[derive(Debug, Clone)]
pub struct Reference {
    pub kind: NameKind,
    pub name: String,
    /// The name inside the string (`tag:web` of `"tag:web:443"`), or the whole string with
    /// its quotes when the source has escapes (then it cannot be renamed in place).
    pub span: Span,
    pub exact: bool,
    /// The rule or entry it is in: `acls[3]`, `groups`, ...
    pub place: String,
    /// The span of that rule or entry.
    pub place_span: Span,
}

/// The names of one document.
#[derive(Debug, Default)]
pub struct Index<'t> {
    pub definitions: Vec<Definition<'t>>,
    pub references: Vec<Reference>,
}

/// Where the strings of a field name things.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Slot {
    /// Selectors, possibly with a `:port` suffix.
    Selectors,
    /// Posture names.
    Postures,
    /// Ipset entries (`add `/`remove ` prefixes allowed).
    IpsetEntries,
    /// Nothing to index.
    Skip,
}

impl<'t> Index<'t> {
    pub fn new(text: &str, root: &'t Value) -> Self {
        let mut index = Index::default();
        let Some(sections) = root.as_object() else {
            return index;
        };
        // Definitions first: whether a plain word is a host depends on them.
        for section in sections {
            let kind = match section.key.to_ascii_lowercase().as_str() {
                "groups" => NameKind::Group,
                "tagowners" => NameKind::Tag,
                "hosts" => NameKind::Host,
                "ipsets" => NameKind::Ipset,
                "postures" => NameKind::Posture,
                _ => continue,
            };
            for member in section.value.as_object().unwrap_or_default() {
                index.definitions.push(Definition {
                    kind,
                    name: member.key.clone(),
                    key_span: member.key_span,
                    name_span: inner_span(text, member.key_span, &member.key),
                    member,
                });
            }
        }
        let hosts: Vec<String> = index
            .definitions
            .iter()
            .filter(|d| d.kind == NameKind::Host)
            .map(|d| d.name.clone())
            .collect();
        let mut cx = Collect {
            text,
            hosts: &hosts,
            out: Vec::new(),
        };
        for section in sections {
            let key = section.key.to_ascii_lowercase();
            let value = &section.value;
            match key.as_str() {
                "groups" | "tagowners" | "ipsets" => {
                    let slot = if key == "ipsets" {
                        Slot::IpsetEntries
                    } else {
                        Slot::Selectors
                    };
                    for member in value.as_object().unwrap_or_default() {
                        let place = format!("{} `{}`", section.key, member.key);
                        cx.strings(&member.value, slot, &place, member.value.span);
                    }
                }
                "defaultsrcposture" => {
                    cx.strings(value, Slot::Postures, &section.key, value.span);
                }
                "autoapprovers" => {
                    for kind in value.as_object().unwrap_or_default() {
                        let place = format!("autoApprovers.{}", kind.key);
                        if kind.value.as_array().is_some() {
                            cx.strings(&kind.value, Slot::Selectors, &place, kind.value.span);
                        }
                        for member in kind.value.as_object().unwrap_or_default() {
                            // `services` keys are `svc:` names or tags.
                            if kind.key.eq_ignore_ascii_case("services") {
                                cx.string(
                                    &member.key,
                                    member.key_span,
                                    Slot::Selectors,
                                    &place,
                                    kind.value.span,
                                );
                            }
                            cx.strings(&member.value, Slot::Selectors, &place, kind.value.span);
                        }
                    }
                }
                "acls" | "grants" | "ssh" | "nodeattrs" | "tests" | "sshtests" => {
                    for (i, rule) in value.as_array().unwrap_or_default().iter().enumerate() {
                        let place = format!("{}[{i}]", section.key);
                        for field in rule.as_object().unwrap_or_default() {
                            let slot = field_slot(&key, &field.key);
                            cx.strings(&field.value, slot, &place, rule.span);
                        }
                    }
                }
                _ => {}
            }
        }
        index.references = cx.out;
        index
    }

    /// The definitions of `kind` named `name`.
    pub fn definitions_of<'s>(
        &'s self,
        kind: NameKind,
        name: &'s str,
    ) -> impl Iterator<Item = &'s Definition<'t>> + 's {
        self.definitions
            .iter()
            .filter(move |d| d.kind == kind && kind.same(&d.name, name))
    }

    /// The references to `kind` named `name`.
    pub fn references_to<'s>(
        &'s self,
        kind: NameKind,
        name: &'s str,
    ) -> impl Iterator<Item = &'s Reference> + 's {
        self.references
            .iter()
            .filter(move |r| r.kind == kind && kind.same(&r.name, name))
    }

    /// The name at `offset`: a reference, or a definition's key.
    pub fn name_at(&self, offset: u32) -> Option<(NameKind, &str, Span)> {
        if let Some(r) = self.references.iter().find(|r| contains(r.span, offset)) {
            return Some((r.kind, &r.name, r.span));
        }
        self.definitions
            .iter()
            .find(|d| contains(d.key_span, offset))
            .map(|d| (d.kind, d.name.as_str(), d.name_span.unwrap_or(d.key_span)))
    }
}

/// True when `offset` is inside `span` or at its end (where the cursor stands after typing).
pub fn contains(span: Span, offset: u32) -> bool {
    span.start <= offset && offset <= span.end
}

/// Which strings of `section[].field` name things.
fn field_slot(section: &str, field: &str) -> Slot {
    let field = field.to_ascii_lowercase();
    match (section, field.as_str()) {
        (_, "srcposture") => Slot::Postures,
        ("acls", "src" | "dst" | "users" | "ports") => Slot::Selectors,
        ("grants", "src" | "dst" | "via") => Slot::Selectors,
        ("ssh", "src" | "dst" | "recorder") => Slot::Selectors,
        ("nodeattrs", "target") => Slot::Selectors,
        ("tests", "src" | "user" | "accept" | "allow" | "deny") => Slot::Selectors,
        ("sshtests", "src" | "dst") => Slot::Selectors,
        _ => Slot::Skip,
    }
}

struct Collect<'a> {
    text: &'a str,
    hosts: &'a [String],
    out: Vec<Reference>,
}

impl Collect<'_> {
    /// The strings of `value` (a string or an array of them).
    fn strings(&mut self, value: &Value, slot: Slot, place: &str, place_span: Span) {
        if slot == Slot::Skip {
            return;
        }
        match &value.kind {
            ValueKind::String(s) => self.string(s, value.span, slot, place, place_span),
            ValueKind::Array(items) => {
                for item in items {
                    if let ValueKind::String(s) = &item.kind {
                        self.string(s, item.span, slot, place, place_span);
                    }
                }
            }
            _ => {}
        }
    }

    fn string(&mut self, s: &str, span: Span, slot: Slot, place: &str, place_span: Span) {
        let Some((kind, start, len)) = classify(s, slot, self.hosts) else {
            return;
        };
        let name = s.get(start..start + len).unwrap_or(s).to_owned();
        let (span, exact) = match inner_span(self.text, span, s) {
            Some(inner) => {
                let at = inner.start + u32::try_from(start).unwrap_or(0);
                (Span::new(at, at + u32::try_from(len).unwrap_or(0)), true)
            }
            None => (span, false),
        };
        self.out.push(Reference {
            kind,
            name,
            span,
            exact,
            place: place.to_owned(),
            place_span,
        });
    }
}

/// The name a string refers to: its kind, and its byte range in the decoded string.
fn classify(s: &str, slot: Slot, hosts: &[String]) -> Option<(NameKind, usize, usize)> {
    let (skip, body) = match slot {
        Slot::IpsetEntries => {
            let rest = s
                .strip_prefix("add ")
                .or_else(|| s.strip_prefix("remove "))
                .unwrap_or(s);
            (s.len() - rest.len(), rest)
        }
        _ => (0, s),
    };
    if slot == Slot::Postures {
        return body
            .starts_with("posture:")
            .then_some((NameKind::Posture, skip, body.len()));
    }
    for kind in [
        NameKind::Group,
        NameKind::Tag,
        NameKind::Ipset,
        NameKind::Autogroup,
        NameKind::Service,
    ] {
        let prefix = kind.prefix();
        let matches = body
            .get(..prefix.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(prefix));
        if matches {
            // The name ends at the `:` of a port, if any.
            let rest = body.get(prefix.len()..).unwrap_or("");
            let len = prefix.len() + rest.find(':').unwrap_or(rest.len());
            return Some((kind, skip, len));
        }
    }
    // A host: the whole string, or the part before a `:port`.
    let name = body.strip_prefix("host:").unwrap_or(body);
    let lead = body.len() - name.len();
    let name = match name.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') && is_port_spec(port) => host,
        _ => name,
    };
    hosts
        .iter()
        .any(|h| h == name)
        .then_some((NameKind::Host, skip + lead, name.len()))
}

fn is_port_spec(port: &str) -> bool {
    !port.is_empty()
        && port
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'*' | b'-' | b','))
}

/// The span of a string's contents without quotes, when the source spells it exactly as
/// decoded (no escapes), so that offsets inside it map one to one.
pub fn inner_span(text: &str, span: Span, decoded: &str) -> Option<Span> {
    let raw = text.get(span.range())?;
    let inner = raw.strip_prefix('"')?;
    let inner = inner.strip_suffix('"').unwrap_or(inner);
    (inner == decoded).then(|| {
        let start = span.start + 1;
        Span::new(start, start + u32::try_from(inner.len()).unwrap_or(0))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_definitions_and_references() {
        let text = r#"{
  "groups": {"group:eng": ["alice@example.com"]},
  "tagOwners": {"tag:web": ["group:eng"]},
  "hosts": {"db": "100.64.0.1"},
  "acls": [{"action": "accept", "src": ["group:eng"], "dst": ["tag:web:443", "db:5432"]}],
  "tests": [{"src": "alice@example.com", "accept": ["db:5432"]}],
}"#;
        let root = crate::syntax::parse(text).value.unwrap();
        let index = Index::new(text, &root);
        assert_eq!(index.definitions.len(), 3);
        let refs: Vec<(&str, &str)> = index
            .references
            .iter()
            .map(|r| (r.name.as_str(), text.get(r.span.range()).unwrap()))
            .collect();
        assert_eq!(
            refs,
            [
                ("group:eng", "group:eng"),
                ("group:eng", "group:eng"),
                ("tag:web", "tag:web"),
                ("db", "db"),
                ("db", "db"),
            ]
        );
        assert_eq!(index.references_to(NameKind::Host, "db").count(), 2);
    }
}
