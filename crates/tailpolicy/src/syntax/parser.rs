//! The strict HuJSON parser.
//!
//! A hand-written, byte-level parser for RFC 8259 JSON plus exactly two relaxations: `//` and
//! `/* */` comments wherever whitespace may stand, and one trailing comma after the last
//! element of a non-empty array or object.
//!
//! Design notes:
//! * The input is `&str`, so it is valid UTF-8. Every structural byte is ASCII, so a slice
//!   that starts or ends next to one lies on a char boundary; the code still goes through
//!   `get` everywhere so that no input can make it panic.
//! * Nesting is tracked on an explicit heap stack, never by recursion, and capped at
//!   [`MAX_DEPTH`]: no input can overflow the call stack.
//! * Strings without escapes are copied in one slice; numbers are validated against the
//!   JSON grammar and kept as written.
//! * Parsing stops at the first syntax error. Duplicate keys are not syntax errors: they are
//!   reported (E002) and both members stay in the tree.

use crate::fasthash::{Entry, FastMap as HashMap};

use super::{Member, ParseOutput, Value, ValueKind};
use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::span::Span;

/// The deepest nesting of arrays and objects the parser accepts. Real policies nest about
/// five levels; the cap keeps every recursive consumer of the tree (drop, `to_json`,
/// validators) far away from a stack overflow.
pub const MAX_DEPTH: usize = 256;

/// Objects with more members than this are checked for duplicate keys with a hash map;
/// smaller ones with a linear scan.
const LINEAR_DUPLICATE_SCAN: usize = 12;

const UNQUOTED_KEY_HELP: &str = "quote this key: policy files are HuJSON, not JSON5";
const SINGLE_QUOTE_HELP: &str = "use double quotes: policy files are HuJSON, not JSON5";
const BOM_HELP: &str = "remove the byte-order mark (U+FEFF) at the start of the file";
const COMMENT_HELP: &str = "HuJSON comments start with `//` or `/*`";
const WHITESPACE_HELP: &str = "only space, tab, CR and LF are whitespace in JSON";

type PResult<T> = Result<T, Box<Diagnostic>>;

/// Parses one HuJSON document.
///
/// Never panics. On a syntax error `value` is `None` and `diagnostics` holds exactly one
/// E001/E003/E004 error (plus any duplicate-key errors found before it).
pub fn parse(text: &str) -> ParseOutput {
    let mut parser = Parser {
        text,
        bytes: text.as_bytes(),
        pos: 0,
        comments: Vec::new(),
        diagnostics: Vec::new(),
    };
    let value = match parser.document() {
        Ok(value) => Some(value),
        Err(error) => {
            parser.diagnostics.push(*error);
            None
        }
    };
    parser.diagnostics.sort_by_key(|d| {
        let span = d.primary_span();
        (span.start, span.end)
    });
    ParseOutput {
        value,
        diagnostics: parser.diagnostics,
        comments: parser.comments,
    }
}

/// What the parser expects where a value may start, for messages.
#[derive(Clone, Copy)]
enum Expect {
    Value,
    ArrayElement,
}

impl Expect {
    fn describe(self) -> &'static str {
        match self {
            Expect::Value => "a value",
            Expect::ArrayElement => "a value or `]`",
        }
    }
}

/// An array or object whose closing bracket has not been seen yet. Its elements so far are
/// the tail of the parser's shared `items` or `members` buffer from `base` on: each
/// container then gets one allocation of its exact size when it closes, not a growing `Vec`.
enum Frame {
    Array {
        start: usize,
        base: usize,
    },
    Object {
        start: usize,
        base: usize,
        /// The key of the member whose value is being parsed.
        key: String,
        key_span: Span,
    },
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    comments: Vec<Span>,
    diagnostics: Vec<Diagnostic>,
}

/// A byte offset as a span offset. `document` rejects texts longer than `u32::MAX` first.
fn offset(pos: usize) -> u32 {
    u32::try_from(pos).unwrap_or(u32::MAX)
}

fn span(start: usize, end: usize) -> Span {
    Span::new(offset(start), offset(end))
}

fn syntax_error(message: impl Into<String>, span: Span) -> Box<Diagnostic> {
    Box::new(Diagnostic::error(codes::SYNTAX, message, span))
}

/// The elements of `buffer` from `base` on, removed, in a `Vec` of exactly their number.
fn take_tail<T>(buffer: &mut Vec<T>, base: usize) -> Vec<T> {
    let base = base.min(buffer.len());
    buffer.drain(base..).collect()
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'$' | b'-' | b'.' | b'+') || b >= 0x80
}

fn is_hex(b: u8) -> bool {
    b.is_ascii_hexdigit()
}

fn hex_value(b: u8) -> u16 {
    match b {
        b'0'..=b'9' => u16::from(b - b'0'),
        b'a'..=b'f' => u16::from(b - b'a' + 10),
        b'A'..=b'F' => u16::from(b - b'A' + 10),
        _ => 0,
    }
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn slice(&self, start: usize, end: usize) -> &'a str {
        self.text.get(start..end).unwrap_or("")
    }

    fn rest(&self, from: usize) -> &'a [u8] {
        self.bytes.get(from..).unwrap_or(&[])
    }

    fn document(&mut self) -> PResult<Value> {
        if u32::try_from(self.text.len()).is_err() {
            return Err(syntax_error(
                "expected a document of at most 4 GiB",
                Span::at(0),
            ));
        }
        if self.text.starts_with('\u{feff}') {
            return Err(Box::new(
                Diagnostic::error(
                    codes::SYNTAX,
                    "expected a value, found a UTF-8 byte-order mark",
                    span(0, 3),
                )
                .with_help(BOM_HELP),
            ));
        }
        self.skip_trivia()?;
        if self.pos >= self.bytes.len() {
            let message = if self.comments.is_empty() {
                "expected a value, found an empty document"
            } else {
                "expected a value, found a document with only comments"
            };
            return Err(Box::new(
                Diagnostic::error(codes::EMPTY_DOCUMENT, message, Span::at(0))
                    .with_help("a policy file holds one JSON object, such as `{}`"),
            ));
        }
        self.value_tree()
    }

    /// Skips whitespace and comments, recording every comment.
    fn skip_trivia(&mut self) -> PResult<()> {
        loop {
            match self.peek() {
                Some(b' ' | b'\t' | b'\n' | b'\r') => self.pos += 1,
                Some(b'/') => match self.bytes.get(self.pos + 1) {
                    Some(b'/') => self.line_comment()?,
                    Some(b'*') => self.block_comment()?,
                    _ => return Ok(()),
                },
                _ => return Ok(()),
            }
        }
    }

    /// `self.pos` is at `//`. The comment runs up to, not including, the next `\n`, which
    /// must be there: `github.com/tailscale/hujson` rejects a `//` comment that ends the input
    /// (`parsing comment: unexpected EOF`), and so does Tailscale's server.
    fn line_comment(&mut self) -> PResult<()> {
        let start = self.pos;
        let Some(end) = self
            .rest(start)
            .iter()
            .position(|&b| b == b'\n')
            .map(|i| start + i)
        else {
            return Err(Box::new(
                Diagnostic::error(
                    codes::SYNTAX,
                    "expected a line break after the `//` comment, found the end of the input",
                    span(start, self.bytes.len()),
                )
                .with_help("end the comment with a newline"),
            ));
        };
        // Leave the `\r` of a CRLF line ending out of the comment.
        let text_end = if self.bytes.get(end.wrapping_sub(1)) == Some(&b'\r') {
            end - 1
        } else {
            end
        };
        self.comments.push(span(start, text_end.max(start + 2)));
        self.pos = end;
        Ok(())
    }

    /// `self.pos` is at `/*`. Block comments do not nest: the first `*/` closes it.
    fn block_comment(&mut self) -> PResult<()> {
        let start = self.pos;
        let mut i = start + 2;
        loop {
            match self.rest(i).iter().position(|&b| b == b'*') {
                Some(star) => {
                    let star = i + star;
                    if self.bytes.get(star + 1) == Some(&b'/') {
                        self.comments.push(span(start, star + 2));
                        self.pos = star + 2;
                        return Ok(());
                    }
                    i = star + 1;
                }
                None => {
                    return Err(Box::new(
                        Diagnostic::error(
                            codes::SYNTAX,
                            "unterminated block comment: expected `*/` before the end of the input",
                            span(start, start + 2),
                        )
                        .with_help("close the comment with `*/`"),
                    ));
                }
            }
        }
    }

    fn check_depth(&self, depth: usize) -> PResult<()> {
        if depth < MAX_DEPTH {
            return Ok(());
        }
        Err(Box::new(
            Diagnostic::error(
                codes::NESTING_TOO_DEEP,
                format!("nesting too deep: expected at most {MAX_DEPTH} nested arrays and objects"),
                span(self.pos, self.pos + 1),
            )
            .with_help("flatten the document: policy files need only a few levels"),
        ))
    }

    /// Parses the value at `self.pos` (trivia already skipped) and everything nested in it,
    /// then checks that only trivia follows.
    fn value_tree(&mut self) -> PResult<Value> {
        let mut stack: Vec<Frame> = Vec::new();
        let mut pending_items: Vec<Value> = Vec::new();
        let mut pending_members: Vec<Member> = Vec::new();
        let mut expect = Expect::Value;
        'values: loop {
            let mut value = match self.peek() {
                Some(b'[') => {
                    self.check_depth(stack.len())?;
                    let start = self.pos;
                    self.pos += 1;
                    self.skip_trivia()?;
                    if self.peek() == Some(b']') {
                        self.pos += 1;
                        Value {
                            kind: ValueKind::Array(Vec::new()),
                            span: span(start, self.pos),
                        }
                    } else {
                        stack.push(Frame::Array {
                            start,
                            base: pending_items.len(),
                        });
                        expect = Expect::ArrayElement;
                        continue 'values;
                    }
                }
                Some(b'{') => {
                    self.check_depth(stack.len())?;
                    let start = self.pos;
                    self.pos += 1;
                    self.skip_trivia()?;
                    if self.peek() == Some(b'}') {
                        self.pos += 1;
                        Value {
                            kind: ValueKind::Object(Vec::new()),
                            span: span(start, self.pos),
                        }
                    } else {
                        let (key, key_span) = self.member_key()?;
                        stack.push(Frame::Object {
                            start,
                            base: pending_members.len(),
                            key,
                            key_span,
                        });
                        expect = Expect::Value;
                        continue 'values;
                    }
                }
                _ => self.scalar(expect)?,
            };

            // `value` is complete: hand it to its parent, closing every container that ends
            // right after it.
            loop {
                self.skip_trivia()?;
                let Some(frame) = stack.last_mut() else {
                    if self.pos < self.bytes.len() {
                        return Err(self.trailing_garbage());
                    }
                    return Ok(value);
                };
                match frame {
                    Frame::Array { start, base } => {
                        pending_items.push(value);
                        match self.peek() {
                            Some(b',') => {
                                self.pos += 1;
                                self.skip_trivia()?;
                                if self.peek() != Some(b']') {
                                    expect = Expect::ArrayElement;
                                    continue 'values;
                                }
                            }
                            Some(b']') => {}
                            _ => {
                                return Err(self.unexpected(
                                    "`,` or `]`",
                                    Some("add a `,` between the elements"),
                                ));
                            }
                        }
                        self.pos += 1;
                        let start = *start;
                        let items = take_tail(&mut pending_items, *base);
                        stack.pop();
                        value = Value {
                            kind: ValueKind::Array(items),
                            span: span(start, self.pos),
                        };
                    }
                    Frame::Object {
                        start,
                        base,
                        key,
                        key_span,
                    } => {
                        pending_members.push(Member {
                            key: std::mem::take(key),
                            key_span: *key_span,
                            value,
                        });
                        match self.peek() {
                            Some(b',') => {
                                self.pos += 1;
                                self.skip_trivia()?;
                                if self.peek() != Some(b'}') {
                                    let (next_key, next_span) = self.member_key()?;
                                    *key = next_key;
                                    *key_span = next_span;
                                    expect = Expect::Value;
                                    continue 'values;
                                }
                            }
                            Some(b'}') => {}
                            _ => {
                                return Err(self.unexpected(
                                    "`,` or `}`",
                                    Some("add a `,` between the members"),
                                ));
                            }
                        }
                        self.pos += 1;
                        let start = *start;
                        let members = take_tail(&mut pending_members, *base);
                        stack.pop();
                        self.report_duplicates(&members);
                        value = Value {
                            kind: ValueKind::Object(members),
                            span: span(start, self.pos),
                        };
                    }
                }
            }
        }
    }

    /// Parses `"key" :` and the trivia after the colon. `self.pos` is at the key.
    fn member_key(&mut self) -> PResult<(String, Span)> {
        if self.peek() != Some(b'"') {
            let help = match self.peek() {
                Some(b',') => Some("remove this comma"),
                Some(b'\'') => Some(SINGLE_QUOTE_HELP),
                Some(b) if is_word_byte(b) => Some(UNQUOTED_KEY_HELP),
                _ => None,
            };
            return Err(self.unexpected("a double-quoted object key or `}`", help));
        }
        let (key, key_span) = self.string()?;
        self.skip_trivia()?;
        if self.peek() != Some(b':') {
            return Err(self.unexpected(
                "`:` after the object key",
                Some("separate the key from its value with `:`"),
            ));
        }
        self.pos += 1;
        self.skip_trivia()?;
        Ok((key, key_span))
    }

    /// A string, number or literal at `self.pos`.
    fn scalar(&mut self, expect: Expect) -> PResult<Value> {
        match self.peek() {
            Some(b'"') => {
                let (text, span) = self.string()?;
                Ok(Value {
                    kind: ValueKind::String(text),
                    span,
                })
            }
            Some(b'-' | b'+' | b'.' | b'0'..=b'9') => self.number(),
            Some(b) if b.is_ascii_alphabetic() => {
                let start = self.pos;
                let end = self.word_end(start);
                let kind = match self.rest(start).get(..end - start) {
                    Some(b"true") => ValueKind::Bool(true),
                    Some(b"false") => ValueKind::Bool(false),
                    Some(b"null") => ValueKind::Null,
                    _ => {
                        let word = self.slice(start, end);
                        let help = if matches!(word, "NaN" | "Infinity") {
                            "JSON numbers must be finite: `NaN` and `Infinity` are not allowed"
                        } else if ["true", "false", "null"]
                            .iter()
                            .any(|l| l.eq_ignore_ascii_case(word))
                        {
                            "JSON literals are lowercase: `true`, `false`, `null`"
                        } else {
                            "quote this string: policy files are HuJSON, not JSON5"
                        };
                        return Err(Box::new(
                            Diagnostic::error(
                                codes::SYNTAX,
                                format!(
                                    "expected {}, found `{}`",
                                    expect.describe(),
                                    shorten(word)
                                ),
                                span(start, end),
                            )
                            .with_help(help),
                        ));
                    }
                };
                self.pos = end;
                Ok(Value {
                    kind,
                    span: span(start, end),
                })
            }
            _ => {
                let help = match self.peek() {
                    Some(b',') => Some("remove this comma"),
                    _ => None,
                };
                Err(self.unexpected(expect.describe(), help))
            }
        }
    }

    /// The end of the word (identifier- or number-like run) starting at `start`. Stops only
    /// at ASCII bytes, so the end is a char boundary.
    fn word_end(&self, start: usize) -> usize {
        self.rest(start)
            .iter()
            .position(|&b| !is_word_byte(b))
            .map_or(self.bytes.len(), |i| start + i)
    }

    /// A number at `self.pos` (which holds `-`, `+`, `.` or a digit).
    fn number(&mut self) -> PResult<Value> {
        let start = self.pos;
        let end = self.word_end(start);
        let token = self.rest(start).get(..end - start).unwrap_or(&[]);
        if let Some(help) = number_error(token) {
            return Err(Box::new(
                Diagnostic::error(
                    codes::SYNTAX,
                    format!(
                        "expected a JSON number, found `{}`",
                        shorten(self.slice(start, end))
                    ),
                    span(start, end),
                )
                .with_help(help),
            ));
        }
        self.pos = end;
        Ok(Value {
            kind: ValueKind::Number(self.slice(start, end).to_owned()),
            span: span(start, end),
        })
    }

    /// A double-quoted string at `self.pos`: returns the decoded text and the span including
    /// the quotes.
    fn string(&mut self) -> PResult<(String, Span)> {
        let start = self.pos;
        let content = start + 1;
        let special = |b: &u8| *b == b'"' || *b == b'\\' || *b < 0x20;
        let Some(first) = self.rest(content).iter().position(special) else {
            return Err(self.unterminated_string(start));
        };
        let mut i = content + first;
        if self.bytes.get(i) == Some(&b'"') {
            // Fast path: no escapes, one copy.
            self.pos = i + 1;
            return Ok((self.slice(content, i).to_owned(), span(start, self.pos)));
        }
        let mut out = String::with_capacity(i - content + 16);
        out.push_str(self.slice(content, i));
        loop {
            match self.bytes.get(i).copied() {
                Some(b'"') => {
                    self.pos = i + 1;
                    return Ok((out, span(start, self.pos)));
                }
                Some(b'\\') => i = self.escape(start, i, &mut out)?,
                Some(b'\n' | b'\r') => {
                    return Err(Box::new(
                        Diagnostic::error(
                            codes::SYNTAX,
                            "unterminated string: expected a closing `\"` before the end of the line",
                            span(start, i),
                        )
                        .with_help("a JSON string cannot span lines: write `\\n` for a line break"),
                    ));
                }
                Some(control) if control < 0x20 => {
                    let escape = match control {
                        b'\t' => "`\\t`".to_owned(),
                        0x08 => "`\\b`".to_owned(),
                        0x0c => "`\\f`".to_owned(),
                        _ => format!("`\\u{control:04x}`"),
                    };
                    return Err(Box::new(
                        Diagnostic::error(
                            codes::SYNTAX,
                            format!(
                                "expected an escape sequence, found raw control character U+{control:04X} in a string"
                            ),
                            span(i, i + 1),
                        )
                        .with_help(format!("write it escaped, as {escape}")),
                    ));
                }
                Some(_) => {
                    let Some(next) = self.rest(i).iter().position(special) else {
                        return Err(self.unterminated_string(start));
                    };
                    out.push_str(self.slice(i, i + next));
                    i += next;
                }
                None => return Err(self.unterminated_string(start)),
            }
        }
    }

    fn unterminated_string(&self, start: usize) -> Box<Diagnostic> {
        Box::new(
            Diagnostic::error(
                codes::SYNTAX,
                "unterminated string: expected a closing `\"` before the end of the input",
                span(start, self.bytes.len()),
            )
            .with_help("add the closing `\"`"),
        )
    }

    /// Decodes the escape at `i` (a backslash) into `out`; returns the index after it.
    fn escape(&self, string_start: usize, i: usize, out: &mut String) -> PResult<usize> {
        let decoded = match self.bytes.get(i + 1).copied() {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => {
                let Some(unit) = self.hex4(i + 2) else {
                    let mut end = i + 2;
                    for c in self.text.get(i + 2..).unwrap_or("").chars().take(4) {
                        if c == '"' || c < ' ' {
                            break;
                        }
                        end += c.len_utf8();
                    }
                    return Err(Box::new(
                        Diagnostic::error(
                            codes::SYNTAX,
                            format!(
                                "expected 4 hex digits after `\\u`, found `{}`",
                                self.slice(i, end)
                            ),
                            span(i, end),
                        )
                        .with_help(
                            "write a code unit as `\\u` and 4 hex digits, such as `\\u00e9`",
                        ),
                    ));
                };
                // Like Go's encoding/json: a valid surrogate pair decodes to one char; any
                // other surrogate becomes U+FFFD and is not an error.
                if (0xD800..0xDC00).contains(&unit)
                    && self.bytes.get(i + 6) == Some(&b'\\')
                    && self.bytes.get(i + 7) == Some(&b'u')
                    && let Some(low) = self.hex4(i + 8)
                    && (0xDC00..0xE000).contains(&low)
                {
                    let scalar =
                        0x10000 + ((u32::from(unit) - 0xD800) << 10) + (u32::from(low) - 0xDC00);
                    out.push(char::from_u32(scalar).unwrap_or('\u{fffd}'));
                    return Ok(i + 12);
                }
                out.push(char::from_u32(u32::from(unit)).unwrap_or('\u{fffd}'));
                return Ok(i + 6);
            }
            Some(_) => {
                let escaped = self
                    .text
                    .get(i + 1..)
                    .and_then(|s| s.chars().next())
                    .unwrap_or('\u{fffd}');
                let end = i + 1 + escaped.len_utf8();
                let found =
                    if escaped.is_control() || escaped.is_whitespace() || is_invisible(escaped) {
                        format!("`\\` followed by character U+{:04X}", u32::from(escaped))
                    } else {
                        format!("`\\{escaped}`")
                    };
                return Err(Box::new(
                    Diagnostic::error(
                        codes::SYNTAX,
                        format!(
                            "expected an escape sequence (`\\\"`, `\\\\`, `\\/`, `\\b`, `\\f`, `\\n`, `\\r`, `\\t` or `\\uXXXX`), found {found}"
                        ),
                        span(i, end),
                    )
                    .with_help("to write a backslash, escape it as `\\\\`"),
                ));
            }
            None => return Err(self.unterminated_string(string_start)),
        };
        out.push(decoded);
        Ok(i + 2)
    }

    fn hex4(&self, at: usize) -> Option<u16> {
        let digits = self.bytes.get(at..at + 4)?;
        if !digits.iter().all(|&b| is_hex(b)) {
            return None;
        }
        Some(
            digits
                .iter()
                .fold(0u16, |acc, &b| (acc << 4) | hex_value(b)),
        )
    }

    /// The span of the token at `pos` and how to name it in "found ..." messages.
    fn token_at(&self, pos: usize) -> (Span, String) {
        let Some(&b) = self.bytes.get(pos) else {
            return (Span::at(offset(pos)), "the end of the input".to_owned());
        };
        match b {
            b'"' => {
                // Up to the closing quote on the same line.
                let mut i = pos + 1;
                loop {
                    match self.bytes.get(i) {
                        Some(b'"') => return (span(pos, i + 1), "a string".to_owned()),
                        Some(b'\\') => i += 2,
                        Some(b'\n' | b'\r') | None => {
                            return (span(pos, i.min(self.bytes.len())), "a string".to_owned());
                        }
                        Some(_) => i += 1,
                    }
                }
            }
            b'\'' => {
                let end = self
                    .rest(pos + 1)
                    .iter()
                    .position(|&b| matches!(b, b'\'' | b'\n' | b'\r'))
                    .and_then(|i| {
                        (self.bytes.get(pos + 1 + i) == Some(&b'\'')).then_some(pos + i + 2)
                    })
                    .unwrap_or(pos + 1);
                (span(pos, end), "a single-quoted string".to_owned())
            }
            _ if b.is_ascii_alphanumeric() || matches!(b, b'_' | b'$' | b'-' | b'+' | b'.') => {
                let end = self.word_end(pos);
                (
                    span(pos, end),
                    format!("`{}`", shorten(self.slice(pos, end))),
                )
            }
            _ if b < 0x80 => {
                let described = if b.is_ascii_graphic() {
                    format!("`{}`", char::from(b))
                } else {
                    format!("character U+{b:04X}")
                };
                (span(pos, pos + 1), described)
            }
            _ => {
                let c = self
                    .text
                    .get(pos..)
                    .and_then(|s| s.chars().next())
                    .unwrap_or('\u{fffd}');
                let end = pos + c.len_utf8();
                if starts_word(c) {
                    let end = self.word_end(pos);
                    return (
                        span(pos, end),
                        format!("`{}`", shorten(self.slice(pos, end))),
                    );
                }
                let described = if c == '\u{feff}' {
                    "a byte-order mark (U+FEFF)".to_owned()
                } else if c.is_whitespace() || c.is_control() || is_invisible(c) {
                    format!("character U+{:04X}", u32::from(c))
                } else {
                    format!("`{c}`")
                };
                (span(pos, end), described)
            }
        }
    }

    /// "expected X, found Y" at the current position. Help specific to what was found wins
    /// over `help`.
    fn unexpected(&self, expected: &str, help: Option<&str>) -> Box<Diagnostic> {
        let (found_span, found) = self.token_at(self.pos);
        let mut diagnostic = Diagnostic::error(
            codes::SYNTAX,
            format!("expected {expected}, found {found}"),
            found_span,
        );
        if let Some(help) = self.found_help().or(help) {
            diagnostic = diagnostic.with_help(help);
        }
        Box::new(diagnostic)
    }

    /// Help for tokens that betray another format: `#` comments, single quotes, a BOM.
    fn found_help(&self) -> Option<&'static str> {
        match self.peek()? {
            b'#' | b';' => Some(COMMENT_HELP),
            b'/' => Some(COMMENT_HELP),
            b'\'' => Some(SINGLE_QUOTE_HELP),
            0x0b | 0x0c => Some(WHITESPACE_HELP),
            b if b >= 0x80 => {
                let c = self.text.get(self.pos..)?.chars().next()?;
                if c == '\u{feff}' {
                    Some("remove the byte-order mark (U+FEFF)")
                } else if c.is_whitespace() || is_invisible(c) {
                    Some(WHITESPACE_HELP)
                } else {
                    None
                }
            }
            _ => None,
        }
    }

    fn trailing_garbage(&self) -> Box<Diagnostic> {
        let (found_span, found) = self.token_at(self.pos);
        let help = self
            .found_help()
            .unwrap_or("remove it: a policy file holds exactly one top-level value");
        Box::new(
            Diagnostic::error(
                codes::SYNTAX,
                format!(
                    "unexpected {} after the top-level value",
                    found.strip_prefix("a ").unwrap_or(&found)
                ),
                found_span,
            )
            .with_help(help),
        )
    }

    /// Adds an E002 error for every member whose key already appeared in this object.
    fn report_duplicates(&mut self, members: &[Member]) {
        if members.len() < 2 {
            return;
        }
        if members.len() <= LINEAR_DUPLICATE_SCAN {
            for (i, member) in members.iter().enumerate() {
                if let Some(first) = members.iter().take(i).find(|m| m.key == member.key) {
                    self.diagnostics.push(duplicate_key(first, member));
                }
            }
            return;
        }
        let mut seen: HashMap<&str, &Member> = HashMap::with_capacity(members.len());
        for member in members {
            match seen.entry(member.key.as_str()) {
                Entry::Occupied(first) => self.diagnostics.push(duplicate_key(first.get(), member)),
                Entry::Vacant(slot) => {
                    slot.insert(member);
                }
            }
        }
    }
}

fn duplicate_key(first: &Member, again: &Member) -> Diagnostic {
    let quoted = serde_json::to_string(&again.key).unwrap_or_default();
    Diagnostic::error(
        codes::DUPLICATE_KEY,
        format!("duplicate key `{}`", shorten(&quoted)),
        again.key_span,
    )
    .with_secondary(first.key_span, "first defined here")
    .with_help("remove or merge one of them: which one Tailscale keeps is not guaranteed")
}

/// Zero-width and other invisible characters worth naming by code point.
/// Does a non-ASCII character found out of place begin a word to quote whole (a letter or
/// digit of a common script), rather than a mark to quote alone? Judged by Unicode block,
/// not by `char::is_alphanumeric`, whose tables were 2 KB of the gzipped WASM module for
/// this one message; a miss only changes how much of the text the message quotes.
fn starts_word(c: char) -> bool {
    matches!(
        c,
        '\u{00c0}'..='\u{00d6}'
            | '\u{00d8}'..='\u{00f6}'
            | '\u{00f8}'..='\u{02af}'
            | '\u{0370}'..='\u{0373}'
            | '\u{0376}'..='\u{0377}'
            | '\u{037b}'..='\u{037d}'
            | '\u{0386}'
            | '\u{0388}'..='\u{038a}'
            | '\u{038c}'
            | '\u{038e}'..='\u{03a1}'
            | '\u{03a3}'..='\u{03f5}'
            | '\u{03f7}'..='\u{0481}'
            | '\u{048a}'..='\u{052f}'
            | '\u{0531}'..='\u{0556}'
            | '\u{0561}'..='\u{0587}'
            | '\u{05d0}'..='\u{05ea}'
            | '\u{0620}'..='\u{064a}'
            | '\u{0660}'..='\u{0669}'
            | '\u{0904}'..='\u{0939}'
            | '\u{0e01}'..='\u{0e30}'
            | '\u{1e00}'..='\u{1f15}'
            | '\u{3041}'..='\u{3096}'
            | '\u{30a1}'..='\u{30fa}'
            | '\u{3400}'..='\u{4dbf}'
            | '\u{4e00}'..='\u{9fff}'
            | '\u{ac00}'..='\u{d7a3}'
            | '\u{ff10}'..='\u{ff19}'
            | '\u{ff21}'..='\u{ff3a}'
            | '\u{ff41}'..='\u{ff5a}'
    )
}

fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200b}'..='\u{200f}' | '\u{2028}' | '\u{2029}' | '\u{2060}' | '\u{00ad}'
    )
}

/// Cuts user text quoted in a message to a readable length, on a char boundary.
fn shorten(text: &str) -> String {
    const MAX_CHARS: usize = 40;
    match text.char_indices().nth(MAX_CHARS) {
        Some((cut, _)) => format!("{}...", text.get(..cut).unwrap_or("")),
        None => text.to_owned(),
    }
}

/// Checks a number-like token against the JSON grammar
/// `-? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)?`; returns help for an invalid one.
fn number_error(token: &[u8]) -> Option<&'static str> {
    const FINITE: &str = "JSON numbers must be finite: `NaN` and `Infinity` are not allowed";
    let mut i = 0;
    match token.first() {
        Some(b'+') => return Some("remove the `+`: JSON numbers have no plus sign"),
        Some(b'.') => return Some("write a digit before the decimal point, as in `0.5`"),
        Some(b'-') => i = 1,
        _ => {}
    }
    let body = token.get(i..).unwrap_or(&[]);
    if body.len() > 1 && body.first() == Some(&b'0') && matches!(body.get(1), Some(b'x' | b'X')) {
        return Some("write the number in decimal: JSON has no hexadecimal numbers");
    }
    if body.eq_ignore_ascii_case(b"infinity") || body.eq_ignore_ascii_case(b"nan") {
        return Some(FINITE);
    }
    let digits = |from: usize| {
        token
            .get(from..)
            .unwrap_or(&[])
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count()
    };
    match token.get(i) {
        Some(b'0') => {
            i += 1;
            if token.get(i).is_some_and(u8::is_ascii_digit) {
                return Some("remove the leading zeros");
            }
        }
        Some(b'1'..=b'9') => i += digits(i),
        Some(b'.') => return Some("write a digit before the decimal point, as in `-0.5`"),
        _ => return Some("write digits after the `-`"),
    }
    if token.get(i) == Some(&b'.') {
        i += 1;
        let n = digits(i);
        if n == 0 {
            return Some("write a digit after the decimal point, or drop the point");
        }
        i += n;
    }
    if matches!(token.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(token.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let n = digits(i);
        if n == 0 {
            return Some("write the exponent's digits, as in `1e10`");
        }
        i += n;
    }
    if i != token.len() {
        return Some("a JSON number is digits with an optional `-`, fraction and exponent");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::starts_word;

    /// The blocks `starts_word` accepts hold letters and digits only, so a message never
    /// quotes a word where `char::is_alphanumeric` would quote one mark.
    #[test]
    fn every_character_that_starts_a_word_is_alphanumeric() {
        let mismatches: Vec<char> = ('\u{80}'..=char::MAX)
            .filter(|&c| starts_word(c) && !c.is_alphanumeric())
            .collect();
        assert_eq!(mismatches, Vec::<char>::new());
    }

    #[test]
    fn letters_of_common_scripts_start_words_and_marks_do_not() {
        for c in [
            'é', 'ß', 'Ж', 'λ', 'א', 'ب', 'क', 'ก', 'あ', 'カ', '中', '한', 'Ａ', '５',
        ] {
            assert!(starts_word(c), "{c}");
        }
        for c in [
            '“', '”', '‘', '«', '»', '…', '—', '€', '×', '÷', '😀', '、', '\u{a0}',
        ] {
            assert!(!starts_word(c), "{c}");
        }
    }
}
