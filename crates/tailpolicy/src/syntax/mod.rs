//! HuJSON (JWCC: JSON with comments and trailing commas) parsed strictly into a tree whose
//! every key and value keeps its byte span.
//!
//! Exactly two relaxations over RFC 8259 are accepted, as in `github.com/tailscale/hujson`:
//! `//` and `/* */` comments wherever whitespace may stand (a `//` comment ends with a line
//! break, also at the end of the input), and one trailing comma after the last element of a
//! non-empty array or object. Everything JSON5 adds is rejected.
//!
//! The parser accepts exactly what `hujson.Parse` accepts (checked against the library by
//! `tests/hujson_oracle.rs`), with two deliberate differences: the input is a `&str`, so text
//! that is not UTF-8 is refused before parsing (hujson lets invalid UTF-8 through in strings),
//! and nesting deeper than [`MAX_DEPTH`] is an error (a resource limit; hujson has none).

mod parser;

use crate::diagnostic::Diagnostic;
use crate::span::Span;

pub use parser::{MAX_DEPTH, parse};

/// The result of parsing one document.
#[derive(Debug, Clone, Default)]
pub struct ParseOutput {
    /// The root value; `None` when a syntax error stopped the parse.
    pub value: Option<Value>,
    /// Syntax errors (at most one, parsing stops at the first) and duplicate-key errors.
    pub diagnostics: Vec<Diagnostic>,
    /// Every comment, `//` and `/* */` alike, in source order, including its delimiters.
    pub comments: Vec<Span>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Value {
    pub kind: ValueKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ValueKind {
    Null,
    Bool(bool),
    /// The number exactly as written (already checked against the JSON grammar).
    Number(String),
    /// The decoded string (escapes resolved).
    String(String),
    Array(Vec<Value>),
    /// Members in source order; duplicates are kept (and reported by the parser).
    Object(Vec<Member>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    /// The decoded key.
    pub key: String,
    /// The span of the key including its quotes.
    pub key_span: Span,
    pub value: Value,
}

impl Value {
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            ValueKind::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Value]> {
        match &self.kind {
            ValueKind::Array(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&[Member]> {
        match &self.kind {
            ValueKind::Object(members) => Some(members),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self.kind {
            ValueKind::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// The value of member `key` of an object (the last one, if the key is repeated).
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_object()?
            .iter()
            .rev()
            .find(|member| member.key == key)
            .map(|member| &member.value)
    }

    pub fn is_null(&self) -> bool {
        matches!(self.kind, ValueKind::Null)
    }

    /// The JSON type name, as used in messages: `string`, `array`, ...
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            ValueKind::Null => "null",
            ValueKind::Bool(_) => "boolean",
            ValueKind::Number(_) => "number",
            ValueKind::String(_) => "string",
            ValueKind::Array(_) => "array",
            ValueKind::Object(_) => "object",
        }
    }

    /// Converts to a `serde_json::Value` (last duplicate key wins).
    pub fn to_json(&self) -> serde_json::Value {
        match &self.kind {
            ValueKind::Null => serde_json::Value::Null,
            ValueKind::Bool(b) => serde_json::Value::Bool(*b),
            ValueKind::Number(raw) => number_to_json(raw),
            ValueKind::String(s) => serde_json::Value::String(s.clone()),
            ValueKind::Array(items) => {
                serde_json::Value::Array(items.iter().map(Value::to_json).collect())
            }
            ValueKind::Object(members) => serde_json::Value::Object(
                members
                    .iter()
                    .map(|m| (m.key.clone(), m.value.to_json()))
                    .collect(),
            ),
        }
    }
}

/// Converts a number literal (already valid JSON) the way `serde_json::from_str` types it:
/// integers that fit become `i64`/`u64`, everything else `f64`, but correctly rounded (serde_json
/// without `float_roundtrip` may be off by one ulp). Numbers out of `f64` range become `null`.
fn number_to_json(raw: &str) -> serde_json::Value {
    let is_integer = !raw.contains(['.', 'e', 'E']);
    if is_integer {
        if let Ok(n) = raw.parse::<u64>() {
            return serde_json::Value::Number(n.into());
        }
        // serde_json reads `-0` as the float -0.0.
        if let Ok(n) = raw.parse::<i64>()
            && n != 0
        {
            return serde_json::Value::Number(n.into());
        }
    }
    raw.parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
        .map_or(serde_json::Value::Null, serde_json::Value::Number)
}
