//! A forgiving HuJSON reader for documents being edited: it builds the same tree as
//! [`crate::syntax::parse`] but never gives up. Unclosed containers end at the end of the
//! input, an unterminated string ends at its line's end, a key without `:` or value gets an
//! empty `null`, unquoted keys are read as keys, and anything else unexpected is skipped.
//! Only the editor features use it, and only when the strict parser fails.

use crate::span::Span;
use crate::syntax::{Member, Value, ValueKind};

/// Deeper containers are skipped byte by byte (the strict parser's limit).
const MAX_DEPTH: usize = crate::syntax::MAX_DEPTH;

/// The tree of `text`, or `None` when it holds no value at all.
pub fn parse(text: &str) -> Option<Value> {
    let mut reader = Reader {
        bytes: text.as_bytes(),
        text,
        pos: 0,
    };
    loop {
        reader.skip_trivia();
        if reader.pos >= reader.bytes.len() {
            return None;
        }
        if let Some(value) = reader.value(0) {
            return Some(value);
        }
        // `value` consumed the byte it could not use; try the next one.
    }
}

struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

fn offset(pos: usize) -> u32 {
    u32::try_from(pos).unwrap_or(u32::MAX)
}

impl Reader<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn span(&self, start: usize) -> Span {
        Span::new(offset(start), offset(self.pos))
    }

    fn skip_trivia(&mut self) {
        while let Some(b) = self.peek() {
            match b {
                b' ' | b'\t' | b'\r' | b'\n' => self.pos += 1,
                b'/' if self.bytes.get(self.pos + 1) == Some(&b'/') => {
                    while self.peek().is_some_and(|b| b != b'\n') {
                        self.pos += 1;
                    }
                }
                b'/' if self.bytes.get(self.pos + 1) == Some(&b'*') => {
                    self.pos += 2;
                    loop {
                        match self.peek() {
                            None => break,
                            Some(b'*') if self.bytes.get(self.pos + 1) == Some(&b'/') => {
                                self.pos += 2;
                                break;
                            }
                            Some(_) => self.pos += 1,
                        }
                    }
                }
                _ => break,
            }
        }
    }

    /// A value starting at the current byte; `None` (with the byte consumed) when none can
    /// start there.
    fn value(&mut self, depth: usize) -> Option<Value> {
        let start = self.pos;
        match self.peek()? {
            b'{' if depth < MAX_DEPTH => Some(self.object(depth + 1)),
            b'[' if depth < MAX_DEPTH => Some(self.array(depth + 1)),
            b'"' => {
                let (text, span) = self.string();
                Some(Value {
                    kind: ValueKind::String(text),
                    span,
                })
            }
            b if is_word_byte(b) => {
                let word = self.word();
                let kind = match word {
                    "true" => ValueKind::Bool(true),
                    "false" => ValueKind::Bool(false),
                    "null" => ValueKind::Null,
                    _ if word
                        .bytes()
                        .next()
                        .is_some_and(|b| b == b'-' || b.is_ascii_digit()) =>
                    {
                        ValueKind::Number(word.to_owned())
                    }
                    // A bare word is most likely a string whose quotes are still to come.
                    _ => ValueKind::String(word.to_owned()),
                };
                Some(Value {
                    kind,
                    span: self.span(start),
                })
            }
            _ => {
                self.skip_char();
                None
            }
        }
    }

    fn skip_char(&mut self) {
        self.pos += 1;
        while self.pos < self.bytes.len() && !self.text.is_char_boundary(self.pos) {
            self.pos += 1;
        }
    }

    fn word(&mut self) -> &str {
        let start = self.pos;
        while self.peek().is_some_and(is_word_byte) {
            self.pos += 1;
        }
        self.text.get(start..self.pos).unwrap_or("")
    }

    /// A string at `"`; it ends at the closing quote, or before the line break or the end.
    fn string(&mut self) -> (String, Span) {
        let start = self.pos;
        self.pos += 1;
        let mut out = String::new();
        while let Some(b) = self.peek() {
            match b {
                b'"' => {
                    self.pos += 1;
                    break;
                }
                b'\n' | b'\r' => break,
                b'\\' => {
                    self.pos += 1;
                    match self.peek() {
                        Some(b'n') => out.push('\n'),
                        Some(b't') => out.push('\t'),
                        Some(b'r') => out.push('\r'),
                        Some(b'b') => out.push('\u{8}'),
                        Some(b'f') => out.push('\u{c}'),
                        Some(b'u') => {
                            let hex = self.text.get(self.pos + 1..self.pos + 5).unwrap_or("");
                            if let Some(c) =
                                u32::from_str_radix(hex, 16).ok().and_then(char::from_u32)
                            {
                                out.push(c);
                                self.pos += 4;
                            } else {
                                out.push('\u{fffd}');
                            }
                        }
                        Some(b'\n' | b'\r') | None => continue,
                        Some(_) => {
                            let rest = self.text.get(self.pos..).unwrap_or("");
                            if let Some(c) = rest.chars().next() {
                                out.push(c);
                                self.pos += c.len_utf8() - 1;
                            }
                        }
                    }
                    self.pos += 1;
                }
                _ => {
                    let rest = self.text.get(self.pos..).unwrap_or("");
                    let Some(c) = rest.chars().next() else { break };
                    out.push(c);
                    self.pos += c.len_utf8();
                }
            }
        }
        (out, self.span(start))
    }

    fn array(&mut self, depth: usize) -> Value {
        let start = self.pos;
        self.pos += 1;
        let mut items = Vec::new();
        loop {
            self.skip_trivia();
            match self.peek() {
                None => break,
                Some(b']') => {
                    self.pos += 1;
                    break;
                }
                // A `}` closes an enclosing object: leave it to that one.
                Some(b'}') => break,
                Some(b',' | b':') => self.pos += 1,
                Some(_) => {
                    if let Some(value) = self.value(depth) {
                        items.push(value);
                    }
                }
            }
        }
        Value {
            kind: ValueKind::Array(items),
            span: self.span(start),
        }
    }

    fn object(&mut self, depth: usize) -> Value {
        let start = self.pos;
        self.pos += 1;
        let mut members = Vec::new();
        loop {
            self.skip_trivia();
            let key_start = self.pos;
            let key = match self.peek() {
                None => break,
                Some(b'}') => {
                    self.pos += 1;
                    break;
                }
                Some(b']') => break,
                Some(b',') => {
                    self.pos += 1;
                    continue;
                }
                Some(b'"') => self.string().0,
                Some(b) if is_word_byte(b) => self.word().to_owned(),
                Some(_) => {
                    // A value where a key belongs (`{[`): read it as the value of an
                    // empty key so that its contents keep their place in the tree.
                    match self.value(depth) {
                        Some(value) => {
                            members.push(Member {
                                key: String::new(),
                                key_span: Span::at(offset(key_start)),
                                value,
                            });
                        }
                        None => continue,
                    }
                    continue;
                }
            };
            let key_span = self.span(key_start);
            self.skip_trivia();
            let had_colon = self.peek() == Some(b':');
            if had_colon {
                self.pos += 1;
                self.skip_trivia();
            }
            let missing = Value {
                kind: ValueKind::Null,
                span: Span::at(offset(self.pos)),
            };
            let value = match self.peek() {
                None | Some(b',' | b'}' | b']') => missing,
                // `"a" "b": 1`: the next string is a key, not this one's value.
                Some(b'"') if !had_colon => missing,
                Some(_) => self.value(depth).unwrap_or(missing),
            };
            members.push(Member {
                key,
                key_span,
                value,
            });
        }
        Value {
            kind: ValueKind::Object(members),
            span: self.span(start),
        }
    }
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'+' | b'.' | b'_' | b'@' | b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_valid_document_reads_as_the_strict_parser_reads_it() {
        let text = r#"{"a": [1, "x\n", true, null], /* c */ "b": {"c": -1.5e3},}"#;
        assert_eq!(parse(text), crate::syntax::parse(text).value);
    }

    #[test]
    fn broken_documents_still_give_a_tree() {
        let text = "{\"groups\": {\"group:eng\": [\"alice@\n  \"acls\": [{\"src\": [\"gr";
        let root = parse(text).unwrap();
        let groups = root.get("groups").unwrap();
        assert!(groups.get("group:eng").is_some());
        let text = "{\"tagOwners\": {\"tag:a\"}, acls: [{\"action\": }]";
        let root = parse(text).unwrap();
        assert!(
            root.get("tagOwners")
                .unwrap()
                .get("tag:a")
                .unwrap()
                .is_null()
        );
        assert!(root.get("acls").unwrap().as_array().unwrap().len() == 1);
    }

    #[test]
    fn garbage_never_loops() {
        for text in [
            "}}}",
            "]]",
            "{]",
            "[}",
            ":::",
            "{\"a\" \"b\"",
            "\u{1F600}{",
            "{{{{",
            "/*",
            "//",
        ] {
            let _ = parse(text);
        }
    }
}
