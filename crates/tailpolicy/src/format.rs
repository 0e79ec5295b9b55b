//! Canonical HuJSON formatting that keeps every comment: `tailpolicy fmt`.
//!
//! The output is byte for byte what `hujson.Format` from `github.com/tailscale/hujson` (the
//! library behind `hujsonfmt`, Tailscale's admin console and its gitops tooling) gives for the
//! same input, so a policy kept in shape by Tailscale's tools is left exactly as it is. The
//! rules below describe what that library's code does (where its comments say otherwise, the
//! code wins); the differential test `crates/tailpolicy/tests/hujson_oracle.rs` checks the
//! output against the library itself.
//!
//! # Values
//!
//! * Numbers, `true`, `false`, `null` and strings without a backslash are copied as written.
//! * A string (key or value) holding a backslash is re-escaped: decoded as Go's `encoding/json`
//!   decodes it, then written with only `"`, `\` and control characters escaped (`\b`, `\t`,
//!   `\n`, `\f`, `\r`, else `\u00xx`): `"\u00e9\/"` becomes `"é/"`. A lone surrogate such as
//!   `\ud800` becomes U+FFFD, which is what Tailscale reads it as anyway.
//! * Members, elements, duplicate keys and every comment are kept, in order.
//!
//! # Layout
//!
//! * A container is **expanded** (each element on its own line, one tab deeper, the closing
//!   bracket on a line of its own, a comma after every element) when a line break stands before
//!   one of its elements or keys, or before its closing bracket (between the last element and
//!   a trailing comma, and in an empty container, only where a comment stands too); or when,
//!   measured as written on one line (`, ` between elements, `: `
//!   after keys, comments counted with one space around them), one of its lines is wider than
//!   80 bytes. Comments before the closing bracket do not count towards that width. Otherwise
//!   it is **inline**: `[1, 2]`, `{"a": 1}`, no spaces inside the brackets, no trailing comma.
//!   An expanded container's first line is measured as its bracket plus what stands before its
//!   first element on that line; nothing else forces expansion (an inline array may hold
//!   expanded objects: `[{` ... `}, {` ... `}]`).
//! * Expanded containers get a comma after the last element too, unless the whole input is
//!   standard JSON (no comment, no trailing comma): then the output stays standard JSON.
//! * Whitespace between tokens is rewritten: spaces and tabs go, line breaks stay (at most two
//!   in a row, so one blank line), `\r\n` and `\n\r` become `\n` and a lone `\r` a space. Blank
//!   lines right after an opening bracket, before a closing one, and around a colon or a comma
//!   go. A line break written between a key and its value is kept: the value then starts the
//!   next line, one level deeper than the key.
//! * Indentation is one tab per level. Lines end in `\n` and never in whitespace; the document
//!   starts with its first comment or value and ends in exactly one `\n`.
//! * Alignment: in every object, members written one per line whose name, colon and value hold
//!   no line break form runs (a blank line or a multi-line member ends a run); within a run the
//!   values start in one column, padded with spaces after the colon. Widths count bytes.
//!
//! # Comments
//!
//! * A comment keeps its place among the tokens: before or after a key, a colon, a value or a
//!   comma. It gets one space before it when it follows something on its line, the indentation
//!   of its position when it starts a line (one level deeper than the element when it stands
//!   between a key and its comma), and one space after it when a token follows on the line.
//! * `//` comments and one-line block comments are copied, minus whitespace at their end.
//!   Continuation lines of a multi-line block comment are re-indented: the indentation they
//!   share is replaced by the comment's own (plus one space when every line starts with `*`),
//!   and a last line holding only `*/` is aligned with the lines above it.
//! * A comma written after a comment stays after it.
//!
//! # Input
//!
//! The formatter accepts exactly what [`crate::syntax::parse`] accepts, which is what
//! `hujson.Parse` accepts except for input that is not UTF-8 (refused before parsing) and
//! nesting deeper than [`crate::syntax::MAX_DEPTH`] (a resource limit). Formatting is
//! idempotent.

use std::borrow::Cow;

use crate::diagnostic::Diagnostic;
use crate::syntax::{self, Value, ValueKind};

/// The width, in bytes, above which a container written on one line is expanded.
pub const MAX_WIDTH: usize = 80;

/// Why a document could not be formatted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    /// The document does not parse. Holds the parser's diagnostics: the syntax error, plus
    /// any duplicate-key errors found before it.
    #[error("the document has a syntax error and was not formatted")]
    Syntax(Vec<Diagnostic>),
    /// The parse tree did not match the text. Never expected; reported rather than risking a
    /// wrong output.
    #[error("internal formatter error: {0}")]
    Internal(&'static str),
}

impl FormatError {
    /// The diagnostics to show for this error (none for an internal error).
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            FormatError::Syntax(diagnostics) => diagnostics,
            FormatError::Internal(_) => &[],
        }
    }
}

/// Formats a HuJSON document in the canonical style described in the [module docs](self).
///
/// Returns an error, and no text, when the document has a syntax error. Duplicate keys do not
/// stop formatting.
pub fn format(text: &str) -> Result<String, FormatError> {
    let parsed = syntax::parse(text);
    let Some(root) = parsed.value else {
        return Err(FormatError::Syntax(parsed.diagnostics));
    };
    let bytes = text.as_bytes();
    let mut builder = Builder {
        bytes,
        standard: parsed.comments.is_empty(),
    };
    let mut kind = builder.kind(&root)?;
    expand(&mut kind);
    format_items(&mut kind, 0, builder.standard);

    let (start, end) = (root.span.start as usize, root.span.end as usize);
    let before = format_extra(bytes.get(..start).unwrap_or(&[]), 0, Opts::default());
    let after = format_extra(bytes.get(end..).unwrap_or(&[]), 0, Opts::default());
    let mut out = Vec::with_capacity(text.len() + text.len() / 4 + 16);
    out.extend_from_slice(before.get(whitespace_len(&before)..).unwrap_or(&[]));
    pack(&kind, &mut out);
    out.extend_from_slice(trim_end(&after));
    out.push(b'\n');
    String::from_utf8(out).map_err(|_| FormatError::Internal("a character was split"))
}

// ---------------------------------------------------------------------------------------------
// The tree: hujson's model, where every value carries the raw text (whitespace and comments,
// an "extra") before and after it.

type Extra<'a> = Cow<'a, [u8]>;

struct Node<'a> {
    /// After `[`, `{`, `:` or `,`, up to the value.
    before: Extra<'a>,
    kind: Kind<'a>,
    /// From the value to the next `:` or `,`. `None` for the last element of a container
    /// unless a trailing comma follows it (hujson's nil), and wherever it holds no comment.
    after: Option<Extra<'a>>,
}

enum Kind<'a> {
    /// A scalar, strings already re-escaped.
    Literal(Cow<'a, [u8]>),
    Array(Box<Composite<'a>>),
    Object(Box<Composite<'a>>),
}

struct Composite<'a> {
    /// Array elements, or object keys and values alternating.
    items: Vec<Node<'a>>,
    /// After the last `,` (or the last element, or the opening bracket) up to the closing
    /// bracket.
    after: Extra<'a>,
    expand: bool,
    /// Whether an extra around a nested value holds a line break.
    newline_inside: bool,
}

impl<'a> Kind<'a> {
    fn composite(&self) -> Option<&Composite<'a>> {
        match self {
            Kind::Array(c) | Kind::Object(c) => Some(c),
            Kind::Literal(_) => None,
        }
    }

    fn newline_inside(&self) -> bool {
        self.composite().is_some_and(|c| c.newline_inside)
    }
}

fn has_newline(extra: &[u8]) -> bool {
    extra.contains(&b'\n')
}

fn opt_newline(extra: Option<&Extra<'_>>) -> bool {
    extra.is_some_and(|e| has_newline(e))
}

/// Whether an extra holds more than whitespace (hujson's `hasComment`).
fn has_comment(extra: &[u8]) -> bool {
    whitespace_len(extra) < extra.len()
}

fn whitespace_len(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        .unwrap_or(bytes.len())
}

/// The length of the comment at the start of `bytes`, or `None` if none starts there or it is
/// not closed.
fn comment_len(bytes: &[u8]) -> Option<usize> {
    let end: &[u8] = match bytes.get(..2)? {
        b"//" => b"\n",
        b"/*" => b"*/",
        _ => return None,
    };
    let body = bytes.get(2..)?;
    let at = body.windows(end.len()).position(|w| w == end)?;
    Some(2 + at + end.len())
}

/// Whitespace at the end, as Go's `unicode.IsSpace` has it (the Unicode White_Space set).
fn trim_end(bytes: &[u8]) -> &[u8] {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.trim_end().as_bytes(),
        Err(_) => bytes,
    }
}

// ---------------------------------------------------------------------------------------------
// Building the tree from the parse tree: the extras are the text between the tokens.

struct Builder<'a> {
    bytes: &'a [u8],
    /// No comment and no trailing comma anywhere.
    standard: bool,
}

impl<'a> Builder<'a> {
    fn slice(&self, start: usize, end: usize) -> Result<&'a [u8], FormatError> {
        self.bytes
            .get(start..end)
            .ok_or(FormatError::Internal("a span is out of the text"))
    }

    /// The position of the first token at or after `pos`.
    fn skip_extra(&self, mut pos: usize) -> usize {
        loop {
            let rest = self.bytes.get(pos..).unwrap_or(&[]);
            let ws = whitespace_len(rest);
            if ws > 0 {
                pos += ws;
            } else if let Some(n) = comment_len(rest) {
                pos += n;
            } else {
                return pos;
            }
        }
    }

    /// A string as written, or re-escaped if it holds an escape.
    fn string(
        &self,
        start: usize,
        end: usize,
        decoded: &str,
    ) -> Result<Cow<'a, [u8]>, FormatError> {
        let raw = self.slice(start, end)?;
        Ok(if raw.contains(&b'\\') {
            Cow::Owned(quote(decoded))
        } else {
            Cow::Borrowed(raw)
        })
    }

    fn kind(&mut self, value: &Value) -> Result<Kind<'a>, FormatError> {
        let (start, end) = (value.span.start as usize, value.span.end as usize);
        let mut comp = Composite {
            items: Vec::new(),
            after: Cow::Borrowed(&[]),
            expand: false,
            newline_inside: false,
        };
        let mut pos = start + 1;
        let mut comma = false;
        let object = match &value.kind {
            ValueKind::String(decoded) => {
                return Ok(Kind::Literal(self.string(start, end, decoded)?));
            }
            ValueKind::Array(values) => {
                comp.items.reserve_exact(values.len());
                for value in values {
                    let before = self.slice(pos, value.span.start as usize)?;
                    let kind = self.kind(value)?;
                    (pos, comma) = self.push(&mut comp, before, kind, value.span.end as usize)?;
                }
                false
            }
            ValueKind::Object(members) => {
                comp.items.reserve_exact(members.len() * 2);
                for member in members {
                    let (key_start, key_end) =
                        (member.key_span.start as usize, member.key_span.end as usize);
                    let before = self.slice(pos, key_start)?;
                    let name = self.string(key_start, key_end, &member.key)?;
                    let colon = self.skip_extra(key_end);
                    if self.bytes.get(colon) != Some(&b':') {
                        return Err(FormatError::Internal("no colon after a key"));
                    }
                    let name_after = self.slice(key_end, colon)?;
                    comp.items.push(Node {
                        before: Cow::Borrowed(before),
                        kind: Kind::Literal(name),
                        after: has_comment(name_after).then_some(Cow::Borrowed(name_after)),
                    });
                    let before = self.slice(colon + 1, member.value.span.start as usize)?;
                    let kind = self.kind(&member.value)?;
                    (pos, comma) =
                        self.push(&mut comp, before, kind, member.value.span.end as usize)?;
                }
                true
            }
            _ => return Ok(Kind::Literal(Cow::Borrowed(self.slice(start, end)?))),
        };
        let inside = self.slice(pos, end.saturating_sub(1))?;
        if comp.items.is_empty() {
            // An empty container keeps only comments.
            if has_comment(inside) {
                comp.after = Cow::Borrowed(inside);
            }
        } else if comma {
            comp.after = Cow::Borrowed(inside);
            self.standard = false;
        }
        let comp = Box::new(comp);
        Ok(if object {
            Kind::Object(comp)
        } else {
            Kind::Array(comp)
        })
    }

    /// Adds a value and the extra after it to `comp`; returns the position after it and its
    /// comma, and whether there was a comma. Without one, the extra belongs to the container.
    fn push(
        &self,
        comp: &mut Composite<'a>,
        before: &'a [u8],
        kind: Kind<'a>,
        end: usize,
    ) -> Result<(usize, bool), FormatError> {
        let next = self.skip_extra(end);
        let after = self.slice(end, next)?;
        let comma = self.bytes.get(next) == Some(&b',');
        comp.items.push(Node {
            before: Cow::Borrowed(before),
            kind,
            after: (comma && has_comment(after)).then_some(Cow::Borrowed(after)),
        });
        if comma {
            return Ok((next + 1, true));
        }
        comp.after = Cow::Borrowed(after);
        Ok((next, false))
    }
}

/// A string literal as Go's `hujson.String` writes it: only `"`, `\` and control characters
/// escaped.
fn quote(decoded: &str) -> Vec<u8> {
    let mut out = String::with_capacity(decoded.len() + 2);
    out.push('"');
    for c in decoded.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if c < ' ' => out.push_str(&std::format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out.into_bytes()
}

// ---------------------------------------------------------------------------------------------
// Which containers to expand: decided bottom-up on the extras as written.

/// The widths of the first and last line of something laid out on one line.
#[derive(Clone, Copy)]
struct Stats {
    first: usize,
    last: usize,
    multiline: bool,
}

impl Stats {
    fn single(width: usize) -> Self {
        Stats {
            first: width,
            last: width,
            multiline: false,
        }
    }
}

/// The widths an extra takes when laid out inline. Only its first and last line count; a
/// comment counts with one space before it, and one after the last comment of a line.
fn extra_stats(extra: &[u8]) -> Stats {
    match (
        extra.iter().position(|&b| b == b'\n'),
        extra.iter().rposition(|&b| b == b'\n'),
    ) {
        (Some(first), Some(last)) => Stats {
            first: comments_width(extra.get(..first).unwrap_or(&[])),
            last: comments_width(extra.get(last + 1..).unwrap_or(&[])),
            multiline: true,
        },
        _ => Stats::single(comments_width(extra)),
    }
}

fn comments_width(mut line: &[u8]) -> usize {
    let mut width = 0;
    loop {
        line = line.get(whitespace_len(line)..).unwrap_or(&[]);
        if line.starts_with(b"//") {
            return width + 1 + line.len();
        }
        if !line.starts_with(b"/*") {
            return if width > 0 { width + 1 } else { 0 };
        }
        match comment_len(line) {
            Some(n) => {
                width += 1 + n;
                line = line.get(n..).unwrap_or(&[]);
            }
            // A block comment that goes on to the next line.
            None => return width + 1 + line.len(),
        }
    }
}

fn opt_stats(extra: Option<&Extra<'_>>) -> Stats {
    extra.map_or(Stats::single(0), |e| extra_stats(e))
}

/// Decides which containers to expand; returns the value's widths.
fn expand(kind: &mut Kind<'_>) -> Stats {
    let (comp, object) = match kind {
        Kind::Literal(literal) => return Stats::single(literal.len()),
        Kind::Array(comp) => (comp, false),
        Kind::Object(comp) => (comp, true),
    };
    let mut expand = false;
    let mut first = None;
    let mut widest = 0;
    let mut line = 1;
    let mut add = |stats: Stats, line: &mut usize| {
        *line += stats.first;
        if stats.multiline {
            first.get_or_insert(*line);
            widest = widest.max(*line);
            *line = stats.last;
        }
    };
    for (i, item) in comp.items.iter_mut().enumerate() {
        // Keys, and array elements.
        if !object || i % 2 == 0 {
            expand |= has_newline(&item.before);
        }
        add(extra_stats(&item.before), &mut line);
        add(self::expand(&mut item.kind), &mut line);
        add(opt_stats(item.after.as_ref()), &mut line);
        line += 2; // `: ` or `, `
    }
    line += 1;
    if let Some(last) = comp.items.last() {
        expand |= opt_newline(last.after.as_ref());
    }
    expand |= has_newline(&comp.after);
    let multiline = first.is_some();
    let first = first.unwrap_or(line);
    widest = widest.max(line);
    expand |= widest > MAX_WIDTH;
    comp.expand = expand;
    if expand {
        let opening = comp.items.first().map_or(&comp.after, |item| &item.before);
        return Stats {
            first: 1 + extra_stats(opening).first,
            last: 1,
            multiline: true,
        };
    }
    Stats {
        first,
        last: line,
        multiline,
    }
}

// ---------------------------------------------------------------------------------------------
// Rewriting the extras, top-down (the indentation depends on the enclosing containers).

#[derive(Clone, Copy, Default)]
struct Opts {
    ensure_leading_newline: bool,
    ensure_trailing_newline: bool,
    remove_leading_empty_lines: bool,
    remove_trailing_empty_lines: bool,
    unindent_last_line: bool,
    space_if_empty: bool,
}

/// Around a colon, or between a value and its comma.
const AROUND: Opts = Opts {
    ensure_leading_newline: false,
    ensure_trailing_newline: false,
    remove_leading_empty_lines: true,
    remove_trailing_empty_lines: true,
    unindent_last_line: false,
    space_if_empty: false,
};

/// Before the element `i` of a container.
fn before_element(i: usize, expand: bool) -> Opts {
    Opts {
        ensure_leading_newline: expand,
        remove_leading_empty_lines: i == 0,
        space_if_empty: i != 0,
        ..Opts::default()
    }
}

fn format_opt(extra: &mut Option<Extra<'_>>, depth: usize, opts: Opts) {
    if let Some(extra) = extra {
        format_in_place(extra, depth, opts);
    }
}

fn format_in_place(extra: &mut Extra<'_>, depth: usize, opts: Opts) {
    *extra = format_extra(extra, depth, opts);
}

/// Formats the extras inside a container (and, recursively, those of nested containers),
/// fixes its trailing comma and aligns its values.
fn format_items(kind: &mut Kind<'_>, depth: usize, standard: bool) {
    let (comp, object) = match kind {
        Kind::Literal(_) => return,
        Kind::Array(comp) => (comp, false),
        Kind::Object(comp) => (comp, true),
    };
    let expand = comp.expand;
    let inner = depth + usize::from(expand);
    if object {
        for (i, pair) in comp.items.chunks_mut(2).enumerate() {
            let [name, value] = pair else { break };
            format_in_place(&mut name.before, depth + 1, before_element(i, expand));
            format_opt(&mut name.after, depth + 2, AROUND);
            format_in_place(
                &mut value.before,
                depth + 2,
                Opts {
                    space_if_empty: true,
                    ..AROUND
                },
            );
            let broken = opt_newline(name.after.as_ref()) || has_newline(&value.before);
            format_items(&mut value.kind, inner + usize::from(broken), standard);
            format_opt(&mut value.after, depth + 2, AROUND);
        }
    } else {
        for (i, item) in comp.items.iter_mut().enumerate() {
            format_in_place(&mut item.before, depth + 1, before_element(i, expand));
            format_items(&mut item.kind, inner, standard);
            format_opt(&mut item.after, depth + 2, AROUND);
        }
    }
    format_in_place(
        &mut comp.after,
        depth + 1,
        Opts {
            ensure_trailing_newline: expand,
            remove_leading_empty_lines: comp.items.is_empty(),
            remove_trailing_empty_lines: true,
            unindent_last_line: true,
            ..Opts::default()
        },
    );

    // The trailing comma: none inline (unless comments stand on both sides of it), always
    // when expanded (unless the input was standard JSON).
    let surrounded = comp
        .items
        .last()
        .is_some_and(|last| last.after.as_ref().is_some_and(|a| !a.is_empty()))
        && !comp.after.is_empty();
    if let Some(last) = comp.items.last_mut() {
        if !expand && !surrounded {
            if let Some(after) = last.after.take() {
                let mut joined = after.into_owned();
                joined.extend_from_slice(&comp.after);
                comp.after = Cow::Owned(joined);
            }
        } else if expand && !standard && last.after.is_none() {
            last.after = Some(Cow::Borrowed(&[]));
        }
    }
    comp.newline_inside = comp.items.iter().any(|item| {
        has_newline(&item.before) || opt_newline(item.after.as_ref()) || item.kind.newline_inside()
    });
    if object {
        align(&mut comp.items);
    }
}

/// Pads the values of runs of one-line members so that they start in one column.
fn align(items: &mut [Node<'_>]) {
    let mut rows: Vec<(usize, usize)> = Vec::new();
    let flush = |rows: &mut Vec<(usize, usize)>, items: &mut [Node<'_>]| {
        let widest = rows.iter().map(|&(_, width)| width).max().unwrap_or(0);
        for &(i, width) in rows.iter() {
            if let Some(value) = items.get_mut(i)
                && width < widest
            {
                value
                    .before
                    .to_mut()
                    .extend(std::iter::repeat_n(b' ', widest - width));
            }
        }
        rows.clear();
    };
    for i in (0..items.len()).step_by(2) {
        let (Some(name), Some(value)) = (items.get(i), items.get(i + 1)) else {
            break;
        };
        if !has_newline(&name.before)
            || opt_newline(name.after.as_ref())
            || has_newline(&value.before)
            || value.kind.newline_inside()
            || opt_newline(value.after.as_ref())
        {
            flush(&mut rows, items);
            continue;
        }
        let name_len = match &name.kind {
            Kind::Literal(literal) => literal.len(),
            _ => 0,
        };
        let width = name_len + name.after.as_ref().map_or(0, |a| a.len()) + 1 + value.before.len();
        // A blank line starts a new run.
        if name.before.iter().filter(|&&b| b == b'\n').count() > 1 {
            flush(&mut rows, items);
        }
        rows.push((i + 1, width));
    }
    flush(&mut rows, items);
}

/// Newlines and tabs, so that whitespace-only extras need no allocation.
const INDENTS: usize = 64;
static NEWLINES_TABS: [u8; 2 + INDENTS] = {
    let mut bytes = [b'\t'; 2 + INDENTS];
    bytes[0] = b'\n';
    bytes[1] = b'\n';
    bytes
};

/// `newlines` line breaks (at most 2) then `depth` tabs.
fn newlines_tabs(newlines: usize, depth: usize) -> Cow<'static, [u8]> {
    match NEWLINES_TABS.get(2 - newlines.min(2)..2 + depth) {
        Some(bytes) => Cow::Borrowed(bytes),
        None => {
            let mut out = vec![b'\n'; newlines];
            out.resize(newlines + depth, b'\t');
            Cow::Owned(out)
        }
    }
}

fn push_indent(out: &mut Vec<u8>, depth: usize) {
    out.resize(out.len() + depth, b'\t');
}

/// Replaces every `from` with `to`, left to right.
fn replace_all(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut rest = bytes;
    while !rest.is_empty() {
        if rest.starts_with(from) {
            out.extend_from_slice(to);
            rest = rest.get(from.len()..).unwrap_or(&[]);
        } else if let Some((&b, tail)) = rest.split_first() {
            out.push(b);
            rest = tail;
        }
    }
    out
}

/// Formats one extra (whitespace and comments) for a position `depth` tabs deep.
fn format_extra(extra: &[u8], depth: usize, opts: Opts) -> Cow<'static, [u8]> {
    if !has_comment(extra) {
        let mut newlines = extra.iter().filter(|&&b| b == b'\n').count().min(2);
        // Whitespace only: line breaks (`\r` aside, which never adds or removes one), then
        // indentation.
        if newlines == 0 && (opts.ensure_leading_newline || opts.ensure_trailing_newline) {
            newlines = 1;
        }
        if opts.remove_leading_empty_lines || opts.remove_trailing_empty_lines {
            newlines = newlines.min(1);
        }
        if newlines > 0 {
            return newlines_tabs(
                newlines,
                depth.saturating_sub(usize::from(opts.unindent_last_line)),
            );
        }
        return Cow::Borrowed(if opts.space_if_empty { b" " } else { b"" });
    }
    let normalized;
    let input = if extra.contains(&b'\r') {
        let crlf = replace_all(extra, b"\r\n", b"\n");
        let lfcr = replace_all(&crlf, b"\n\r", b"\n");
        normalized = replace_all(&lfcr, b"\r", b" ");
        &normalized[..]
    } else {
        extra
    };
    let mut out = Vec::with_capacity(input.len() + 2 * depth + 4);
    if opts.ensure_leading_newline && !has_newline(input) {
        out.push(b'\n');
    }
    let mut rest = input;
    while !rest.is_empty() {
        let ws = whitespace_len(rest);
        if ws > 0 {
            let count = rest.iter().take(ws).filter(|&&b| b == b'\n').count();
            out.resize(out.len() + count.min(2), b'\n');
            rest = rest.get(ws..).unwrap_or(&[]);
            continue;
        }
        let Some(n) = comment_len(rest) else {
            // Not reached: the parser accepted the text.
            return Cow::Owned(input.to_vec());
        };
        if out.last() == Some(&b'\n') {
            push_indent(&mut out, depth);
        } else {
            out.push(b' ');
        }
        let comment = rest.get(..n).unwrap_or(&[]);
        let line_comment = comment.starts_with(b"//");
        if line_comment || !has_newline(comment) {
            out.extend_from_slice(trim_end(comment));
            // The line break ending a `//` comment is whitespace for the next round.
            rest = rest.get(n - usize::from(line_comment)..).unwrap_or(&[]);
            continue;
        }
        block_comment(comment, depth, &mut out);
        rest = rest.get(n..).unwrap_or(&[]);
    }
    if opts.ensure_trailing_newline && out.last() != Some(&b'\n') {
        out.push(b'\n');
    }
    if opts.remove_leading_empty_lines {
        let leading = out.iter().take_while(|&&b| b == b'\n').count();
        if leading > 1 {
            out.drain(..leading - 1);
        }
    }
    if opts.remove_trailing_empty_lines {
        while out.ends_with(b"\n\n") {
            out.pop();
        }
    }
    if out.last() == Some(&b'\n') {
        push_indent(
            &mut out,
            depth.saturating_sub(usize::from(opts.unindent_last_line)),
        );
    } else if !out.is_empty() {
        out.push(b' ');
    }
    if opts.space_if_empty && out.is_empty() {
        out.push(b' ');
    }
    Cow::Owned(out)
}

/// A block comment spanning lines: its continuation lines lose the indentation they share
/// and get `depth` tabs (plus a space when every line starts with `*`).
fn block_comment(comment: &[u8], depth: usize, out: &mut Vec<u8>) {
    let lines: Vec<&[u8]> = comment.split(|&b| b == b'\n').map(trim_end).collect();
    let rest = lines.get(1..).unwrap_or(&[]);
    let has_empty_line = lines.iter().any(|line| line.is_empty());
    let mut common: &[u8] = rest
        .iter()
        .find(|line| !line.is_empty())
        .copied()
        .unwrap_or(&[]);
    // A last line of only `*/` is rewritten with the shared indentation.
    let mut closing = None;
    for (i, line) in rest.iter().enumerate() {
        if line.is_empty() {
            continue;
        }
        if line.ends_with(b"*/") && whitespace_len(line) + 2 == line.len() {
            closing = Some(i);
            break;
        }
        let same = line.iter().zip(common).take_while(|(a, b)| a == b).count();
        if same < line.len().min(common.len()) {
            common = common.get(..same).unwrap_or(&[]);
        }
    }
    let prefix = whitespace_len(common);
    let starred = !has_empty_line && common.get(prefix) == Some(&b'*');
    out.extend_from_slice(lines.first().copied().unwrap_or(&[]));
    out.push(b'\n');
    for (i, line) in rest.iter().enumerate() {
        if !line.is_empty() {
            push_indent(out, depth);
            if starred {
                out.push(b' ');
            }
            if closing == Some(i) {
                out.extend_from_slice(b"*/");
            } else {
                out.extend_from_slice(line.get(prefix..).unwrap_or(line));
            }
        }
        out.push(b'\n');
    }
    while out.last() == Some(&b'\n') {
        out.pop();
    }
}

// ---------------------------------------------------------------------------------------------
// Writing the tree out.

fn pack(kind: &Kind<'_>, out: &mut Vec<u8>) {
    let (comp, object) = match kind {
        Kind::Literal(literal) => return out.extend_from_slice(literal),
        Kind::Array(comp) => (comp, false),
        Kind::Object(comp) => (comp, true),
    };
    out.push(if object { b'{' } else { b'[' });
    for (i, item) in comp.items.iter().enumerate() {
        out.extend_from_slice(&item.before);
        pack(&item.kind, out);
        if let Some(after) = &item.after {
            out.extend_from_slice(after);
        }
        out.push(if object && i % 2 == 0 { b':' } else { b',' });
    }
    if comp.items.last().is_some_and(|last| last.after.is_none()) {
        out.pop();
    }
    out.extend_from_slice(&comp.after);
    out.push(if object { b'}' } else { b']' });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Formats, checking idempotence. Every expected output below is `hujson.Format`'s.
    fn fmt(text: &str) -> String {
        let out = format(text).unwrap_or_else(|e| panic!("{e}: {:?}", e.diagnostics()));
        assert_eq!(format(&out).unwrap(), out, "not idempotent for {text:?}");
        out
    }

    #[test]
    fn scalars_and_empty_containers() {
        assert_eq!(fmt("  1.0e3  "), "1.0e3\n");
        assert_eq!(fmt("{\n\r\t \n\r\t }"), "{}\n");
        assert_eq!(fmt("[\n\n]"), "[]\n");
        assert_eq!(fmt("{/**/}"), "{ /**/ }\n");
        assert_eq!(
            fmt("{\"a\": [ // none\n], \"b\": []}"),
            "{\"a\": [ // none\n], \"b\": []}\n"
        );
    }

    #[test]
    fn strings_with_escapes_are_re_escaped() {
        assert_eq!(
            fmt(r#"["\u00e9\/", "\ud800", "\u0001\n\""]"#),
            "[\"é/\", \"\u{fffd}\", \"\\u0001\\n\\\"\"]\n"
        );
    }

    #[test]
    fn standard_json_stays_standard() {
        assert_eq!(
            fmt("{\"a\": [1,\n2], \"b\": {}}"),
            "{\"a\": [\n\t1,\n\t2\n], \"b\": {}}\n"
        );
    }

    #[test]
    fn a_multi_line_member_does_not_expand_its_object() {
        // hujson's comment says it would; its code does not.
        assert_eq!(
            fmt("{\"a\": {\n\"x\": 1}, \"b\": 2}"),
            "{\"a\": {\n\t\"x\": 1\n}, \"b\": 2}\n"
        );
    }

    #[test]
    fn width_counts_bytes_and_not_the_comments_before_the_closing_bracket() {
        let e = "é".repeat(31);
        assert_eq!(
            fmt(&std::format!("[\"{e}\", \"éééééééééééé\"]")),
            std::format!("[\n\t\"{e}\",\n\t\"éééééééééééé\"\n]\n")
        );
        let inline = std::format!(
            "[\"{}\", \"{}\" /* a comment before the bracket */ ]\n",
            "a".repeat(32),
            "b".repeat(34)
        );
        assert_eq!(fmt(inline.trim_end().replace(" ]", "]").as_str()), inline);
    }

    #[test]
    fn values_align_and_comments_before_keys_count() {
        assert_eq!(
            fmt(
                "{\n\"a\": 1,\n/* c */ \"bbb\": 2,\n\"cc\": [1,\n2],\n\"d\": 3,\n\n\"eeeee\": 4\n}"
            ),
            "{\n\t\"a\":   1,\n\t/* c */ \"bbb\": 2,\n\t\"cc\": [\n\t\t1,\n\t\t2,\n\t],\n\t\"d\": 3,\n\n\t\"eeeee\": 4,\n}\n"
        );
    }

    #[test]
    fn line_breaks_after_colons_and_commas_after_comments_stay() {
        assert_eq!(
            fmt("{\"a\":\n  1, \"b\": 2}"),
            "{\"a\":\n\t\t1, \"b\": 2}\n"
        );
        assert_eq!(
            fmt("[\n1 // one\n, 2\n]"),
            "[\n\t1 // one\n\t\t,\n\t2,\n]\n"
        );
    }

    #[test]
    fn block_comments_are_re_indented() {
        assert_eq!(
            fmt("{\n    /* first\n         second\n       third\n    */\n    \"a\": 1\n}"),
            "{\n\t/* first\n\t  second\n\tthird\n\t*/\n\t\"a\": 1,\n}\n"
        );
        assert_eq!(
            fmt("[\n  /*\n   * one\n   * two\n   */\n  1]"),
            "[\n\t/*\n\t * one\n\t * two\n\t */\n\t1,\n]\n"
        );
    }

    #[test]
    fn crlf_becomes_lf() {
        assert_eq!(
            fmt("{\r\n  // c\r\n  \"a\": 1\r\n}\r\n"),
            "{\n\t// c\n\t\"a\": 1,\n}\n"
        );
    }

    #[test]
    fn deep_nesting_is_indented_a_tab_per_level() {
        let deep = std::format!("{}{}", "[\n".repeat(200), "]".repeat(200));
        let out = fmt(&deep);
        assert!(
            out.contains(&std::format!("\n{}[]", "\t".repeat(199))),
            "{out}"
        );
    }
}
