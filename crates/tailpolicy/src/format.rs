//! Canonical HuJSON formatting that keeps every comment: `tailpolicy fmt`.
//!
//! The style follows `hujson.Format` from `github.com/tailscale/hujson` (the library behind
//! `hujsonfmt` and Tailscale's own policy handling), so that a policy already formatted by
//! Tailscale's tools comes out unchanged in the common cases. The differences are listed at
//! the end.
//!
//! # What never changes
//!
//! * Scalars are copied byte for byte from the source: strings keep their escapes (`"\u00e9"`
//!   stays `"\u00e9"`), numbers keep their spelling (`1.0e3` stays `1.0e3`). Keys likewise.
//! * Every comment is kept, in source order and in its place relative to the values around
//!   it. Comment text is kept too, except for whitespace at the ends of its lines: trailing
//!   spaces, tabs and carriage returns are removed from a `//` comment and from every line of a
//!   `/* */` comment (so `\r\n` inside a block comment becomes `\n`). Continuation lines of a
//!   multi-line block comment keep their own indentation.
//! * The order of members and elements, and duplicate keys (a duplicate key is an error for
//!   `check`, not for the formatter).
//!
//! # Layout
//!
//! * Indentation is one tab per level. Lines end in `\n`; the document ends in exactly one
//!   `\n`; no line ends in whitespace. Leading blank lines are removed.
//! * Every array and object is either **inline** (`["a", "b"]`, `{"a": 1, "b": 2}`) or
//!   **expanded** (each element on its own line, one level deeper, the closing bracket on
//!   its own line). The author decides, as with `hujson.Format`: a container is expanded when
//!   a line break (or a comment spanning lines) stands right inside it, after its opening
//!   bracket, between two elements or before its closing bracket. A container written on
//!   one line stays on one line unless its own text, measured from its opening to its
//!   closing bracket with two extra columns per element, is wider than 80 characters; then
//!   it is expanded (its elements are measured again, each on its own). An object with more
//!   than one member is also expanded when one of its members spans several lines.
//! * Empty containers are `[]` and `{}`, whatever whitespace they held; an empty container
//!   that holds comments keeps them (`[ /* none */ ]`, or expanded when a comment needs a
//!   line of its own).
//! * Inline: `, ` between elements, `: ` after keys, no space inside brackets, no trailing
//!   comma.
//! * Expanded: a comma after every element, the last included (a trailing comma), unless the
//!   whole input is standard JSON (no comment and no trailing comma anywhere): then the
//!   output stays standard JSON and the last element has no comma.
//! * Alignment: in an expanded object, consecutive one-line members have their values
//!   aligned in one column with spaces after the colon (`"src":   [...]`,
//!   `"action": "accept"`). A blank line, a comment line, or a member that spans several
//!   lines ends such a run. Trailing comments are not aligned.
//! * Blank lines between elements, and between comments, are kept, but at most one in a
//!   row; blank lines right after an opening bracket or right before a closing bracket are
//!   removed.
//!
//! # Comments
//!
//! * A comment that follows a value on the same line stays on that line, after the value's
//!   comma, one space away (`"a": 1, // why`). A comment on a line of its own is indented
//!   like the element that follows it (or like the closing bracket's contents, at the end of
//!   a container). Comments before the root value and after it stay at column one.
//! * The comma of an element always follows the element directly: a comment written between
//!   an element and its comma moves after the comma (line breaks between the element and
//!   its comma count only when a comment stands there too).
//! * A comment between a key and its colon, or between the colon and the value, stays there
//!   (`"a" /* x */ : 1`); if it needs a line of its own, the value goes on the next line,
//!   one level deeper. Without such a comment the value always follows `"key": ` on the
//!   same line.
//! * A block comment is followed by one space when something follows it on its line.
//!
//! # Differences from `hujson.Format`
//!
//! * Strings are never re-escaped (`hujson` rewrites strings holding escapes), and
//!   continuation lines of multi-line block comments are not re-indented: formatting never
//!   changes what a value or comment says.
//! * Widths and alignment count characters, not bytes.
//! * Commas always follow their element (`hujson` keeps a comma that was written after a
//!   comment where it was, on a line of its own if need be).
//! * A line break between a colon and its value is removed when no comment stands there.
//! * The rule that expands an object with several members when one of them spans lines is
//!   applied (`hujson`'s code states it in a comment, but its check reads a value that is
//!   still zero at that point, so it never fires). Arrays are left as `hujson` leaves them: an
//!   array written on one line may hold elements that span lines (`[{` ... `}, {` ... `}]`).
//!
//! Formatting is idempotent: formatting formatted text changes nothing.

#![deny(
    clippy::indexing_slicing,
    clippy::string_slice,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::unreachable
)]

use std::borrow::Cow;

use crate::diagnostic::Diagnostic;
use crate::span::Span;
use crate::syntax::{self, Value, ValueKind};

/// The width, in characters, above which a container written on one line is expanded.
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
    let mut builder = Builder {
        text,
        comments: &parsed.comments,
        trailing_comma: false,
        comments_seen: 0,
    };
    let before = builder.gap(0, root.span.start, None)?.pieces;
    let (node, _) = builder.node(&root)?;
    let end = u32::try_from(text.len()).map_err(|_| FormatError::Internal("text too long"))?;
    let after = builder.gap(root.span.end, end, None)?.pieces;
    if builder.comments_seen != parsed.comments.len() {
        return Err(FormatError::Internal("a comment was not placed"));
    }
    let printer = Printer {
        trailing_commas: builder.trailing_comma || !parsed.comments.is_empty(),
    };

    let mut out = String::with_capacity(text.len() + text.len() / 8);
    let before = format_gap(&Gap { pieces: before }, 0, GapOptions::default());
    out.push_str(before.trim_start_matches([' ', '\n']));
    printer.node(&node, 0, &mut out);
    let after = format_gap(&Gap { pieces: after }, 0, GapOptions::default());
    out.push_str(after.trim_end_matches([' ', '\t', '\n']));
    out.push('\n');
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// The document model: values plus the trivia (gaps) between their tokens.

/// A comment, with its text normalized (no whitespace at the end of any line).
#[derive(Debug, Clone)]
struct Comment<'a> {
    text: Cow<'a, str>,
    /// A `//` comment: a line break must follow it.
    line: bool,
}

#[derive(Debug, Clone)]
enum Piece<'a> {
    /// A run of whitespace holding this many line breaks (at least one).
    Newlines(usize),
    Comment(Comment<'a>),
}

/// Whitespace and comments between two tokens. Whitespace without a line break is not kept:
/// the printer decides about spaces.
#[derive(Debug, Clone, Default)]
struct Gap<'a> {
    pieces: Vec<Piece<'a>>,
}

impl Gap<'_> {
    fn has_comment(&self) -> bool {
        self.pieces.iter().any(|p| matches!(p, Piece::Comment(_)))
    }

    /// A line break anywhere, inside a block comment included.
    fn has_newline(&self) -> bool {
        self.pieces.iter().any(|p| match p {
            Piece::Newlines(_) => true,
            Piece::Comment(c) => c.text.contains('\n'),
        })
    }

    /// A line break in whitespace (not inside a comment).
    fn has_line_break(&self) -> bool {
        self.pieces.iter().any(|p| matches!(p, Piece::Newlines(_)))
    }

    /// The widths of the gap's first and last lines as the inline printer would lay them out
    /// (a space before every comment, and one after the last if a token follows on its line).
    fn stats(&self) -> Stats {
        let mut laid = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Newlines(_) => laid.push('\n'),
                Piece::Comment(c) => {
                    laid.push(' ');
                    laid.push_str(&c.text);
                    if c.line {
                        laid.push('\n');
                    }
                }
            }
        }
        if !laid.is_empty() && !laid.ends_with('\n') {
            laid.push(' ');
        }
        let first = laid.split('\n').next().unwrap_or("");
        let last = laid.rsplit('\n').next().unwrap_or("");
        Stats {
            first: first.chars().count(),
            last: last.chars().count(),
            multiline: laid.contains('\n'),
        }
    }
}

/// The widths of the first and last line of something laid out.
#[derive(Debug, Clone, Copy, Default)]
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

#[derive(Debug)]
enum Node<'a> {
    /// A string, number or literal, as written.
    Scalar(&'a str),
    Array(Container<Element<'a>>, Gap<'a>),
    Object(Container<Entry<'a>>, Gap<'a>),
}

/// The elements of an array or object and its layout.
#[derive(Debug)]
struct Container<T> {
    items: Vec<T>,
    expand: bool,
}

/// An array element and the gap before it (after `[` or after the previous comma).
#[derive(Debug)]
struct Element<'a> {
    gap: Gap<'a>,
    value: Node<'a>,
}

/// An object member: the gap before its key, the key as written, the gaps before and after
/// the colon, and the value.
#[derive(Debug)]
struct Entry<'a> {
    gap: Gap<'a>,
    key: &'a str,
    key_gap: Gap<'a>,
    value_gap: Gap<'a>,
    value: Node<'a>,
}

// ---------------------------------------------------------------------------------------------
// Building the model from the parse tree and the text, deciding every container's layout.

struct Builder<'a> {
    text: &'a str,
    comments: &'a [Span],
    /// Whether any container had a trailing comma.
    trailing_comma: bool,
    comments_seen: usize,
}

/// A gap as scanned, and where its separator (`,` or `:`) stood among its pieces.
struct Scanned<'a> {
    pieces: Vec<Piece<'a>>,
    separator: Option<usize>,
}

/// Accumulates line widths while a container is measured as if inline.
#[derive(Default)]
struct Lines {
    first: Option<usize>,
    current: usize,
    widest: usize,
}

impl Lines {
    fn width(&mut self, width: usize) {
        self.current += width;
    }

    fn add(&mut self, stats: Stats) {
        self.current += stats.first;
        if stats.multiline {
            self.end_line();
            self.current = stats.last;
        }
    }

    fn end_line(&mut self) {
        if self.first.is_none() {
            self.first = Some(self.current);
        }
        self.widest = self.widest.max(self.current);
    }

    /// The stats of everything added, and the widest line.
    fn finish(mut self) -> (Stats, usize) {
        let multiline = self.first.is_some();
        let last = self.current;
        self.end_line();
        let stats = Stats {
            first: self.first.unwrap_or(last),
            last,
            multiline,
        };
        (stats, self.widest)
    }
}

impl<'a> Builder<'a> {
    fn slice(&self, span: Span) -> Result<&'a str, FormatError> {
        self.text
            .get(span.range())
            .ok_or(FormatError::Internal("a span is outside the text"))
    }

    /// Scans the trivia in `start..end`, which may also hold one `separator` byte.
    fn gap(
        &mut self,
        start: u32,
        end: u32,
        separator: Option<u8>,
    ) -> Result<Scanned<'a>, FormatError> {
        let bytes = self.text.as_bytes();
        let (start, end) = (start as usize, end as usize);
        let mut next_comment = self
            .comments
            .partition_point(|c| (c.start as usize) < start);
        let mut scanned = Scanned {
            pieces: Vec::new(),
            separator: None,
        };
        let mut newlines = 0;
        let mut pos = start;
        while pos < end {
            if let Some(&span) = self.comments.get(next_comment)
                && span.start as usize == pos
            {
                push_newlines(&mut scanned.pieces, &mut newlines);
                let raw = self.slice(span)?;
                scanned.pieces.push(Piece::Comment(Comment {
                    text: normalize_comment(raw),
                    line: raw.starts_with("//"),
                }));
                self.comments_seen += 1;
                next_comment += 1;
                pos = (span.end as usize).max(pos + 1);
                continue;
            }
            match bytes.get(pos) {
                Some(b'\n') => newlines += 1,
                Some(b' ' | b'\t' | b'\r') => {}
                Some(&b) if Some(b) == separator && scanned.separator.is_none() => {
                    push_newlines(&mut scanned.pieces, &mut newlines);
                    scanned.separator = Some(scanned.pieces.len());
                }
                _ => return Err(FormatError::Internal("unexpected text between tokens")),
            }
            pos += 1;
        }
        push_newlines(&mut scanned.pieces, &mut newlines);
        Ok(scanned)
    }

    /// The gap before an element: after `[`/`{` (`first`) or after a comma, which is dropped.
    /// Line breaks on both sides of the comma count once.
    fn element_gap(&mut self, start: u32, end: u32, first: bool) -> Result<Gap<'a>, FormatError> {
        if first {
            return Ok(Gap {
                pieces: self.gap(start, end, None)?.pieces,
            });
        }
        let scanned = self.gap(start, end, Some(b','))?;
        let Some(comma) = scanned.separator else {
            return Err(FormatError::Internal("missing comma between elements"));
        };
        Ok(Gap {
            pieces: merge_at(scanned.pieces, comma),
        })
    }

    /// The gap before a closing bracket, after the last element (`after_element`) or after
    /// the opening bracket. A trailing comma is noted and dropped.
    fn closing_gap(
        &mut self,
        start: u32,
        end: u32,
        after_element: bool,
    ) -> Result<Gap<'a>, FormatError> {
        let scanned = self.gap(start, end, after_element.then_some(b','))?;
        let gap = match scanned.separator {
            Some(comma) => {
                self.trailing_comma = true;
                Gap {
                    pieces: merge_at(scanned.pieces, comma),
                }
            }
            None => Gap {
                pieces: scanned.pieces,
            },
        };
        // An empty container keeps its comments, never bare whitespace.
        if !after_element && !gap.has_comment() {
            return Ok(Gap::default());
        }
        Ok(gap)
    }

    /// Builds a value's node and measures it.
    fn node(&mut self, value: &Value) -> Result<(Node<'a>, Stats), FormatError> {
        let open = value.span.start.saturating_add(1);
        let close = value.span.end.saturating_sub(1);
        match &value.kind {
            ValueKind::Array(values) => {
                let mut items = Vec::with_capacity(values.len());
                let mut lines = Lines::default();
                lines.width(1);
                let mut pos = open;
                for (i, item) in values.iter().enumerate() {
                    let gap = self.element_gap(pos, item.span.start, i == 0)?;
                    let (node, stats) = self.node(item)?;
                    lines.add(gap.stats());
                    lines.add(stats);
                    lines.width(2);
                    items.push(Element { gap, value: node });
                    pos = item.span.end;
                }
                let closing = self.closing_gap(pos, close, !values.is_empty())?;
                lines.add(closing.stats());
                lines.width(1);
                let forced = items.iter().any(|e| e.gap.has_newline()) || closing.has_newline();
                let first_gap = items.first().map_or(&closing, |e| &e.gap);
                let (expand, stats) = layout(lines, forced, false, first_gap);
                Ok((Node::Array(Container { items, expand }, closing), stats))
            }
            ValueKind::Object(members) => {
                let mut items = Vec::with_capacity(members.len());
                let mut lines = Lines::default();
                lines.width(1);
                let mut pos = open;
                for (i, member) in members.iter().enumerate() {
                    let gap = self.element_gap(pos, member.key_span.start, i == 0)?;
                    let key = self.slice(member.key_span)?;
                    let scanned =
                        self.gap(member.key_span.end, member.value.span.start, Some(b':'))?;
                    let Some(colon) = scanned.separator else {
                        return Err(FormatError::Internal("missing colon after a key"));
                    };
                    let mut key_gap = scanned.pieces;
                    let value_gap = key_gap.split_off(colon.min(key_gap.len()));
                    let key_gap = comments_only(key_gap);
                    let value_gap = comments_only(value_gap);
                    let (node, stats) = self.node(&member.value)?;
                    lines.add(gap.stats());
                    lines.width(key.chars().count());
                    lines.add(key_gap.stats());
                    lines.width(2);
                    lines.add(value_gap.stats());
                    lines.add(stats);
                    lines.width(2);
                    items.push(Entry {
                        gap,
                        key,
                        key_gap,
                        value_gap,
                        value: node,
                    });
                    pos = member.value.span.end;
                }
                let closing = self.closing_gap(pos, close, !members.is_empty())?;
                lines.add(closing.stats());
                lines.width(1);
                let forced = items.iter().any(|e| e.gap.has_newline()) || closing.has_newline();
                let first_gap = items.first().map_or(&closing, |e| &e.gap);
                let (expand, stats) = layout(lines, forced, items.len() > 1, first_gap);
                Ok((Node::Object(Container { items, expand }, closing), stats))
            }
            _ => {
                let raw = self.slice(value.span)?;
                Ok((Node::Scalar(raw), Stats::single(raw.chars().count())))
            }
        }
    }
}

/// Decides whether a container is expanded, and its stats as laid out.
fn layout(lines: Lines, forced: bool, several_members: bool, first_gap: &Gap<'_>) -> (bool, Stats) {
    let (stats, widest) = lines.finish();
    let expand = forced || (several_members && stats.multiline) || widest > MAX_WIDTH;
    if !expand {
        return (false, stats);
    }
    let stats = Stats {
        first: 1 + first_gap.stats().first,
        last: 1,
        multiline: true,
    };
    (true, stats)
}

fn push_newlines(pieces: &mut Vec<Piece<'_>>, newlines: &mut usize) {
    if *newlines > 0 {
        pieces.push(Piece::Newlines(*newlines));
        *newlines = 0;
    }
}

/// Joins the pieces on both sides of a dropped comma. Whitespace alone before the comma is
/// dropped (`"a"\n, // b` keeps `// b` on the line of `"a"`, after its comma); with a comment
/// there, two whitespace runs that meet at the comma count as the longer one.
fn merge_at(mut pieces: Vec<Piece<'_>>, at: usize) -> Vec<Piece<'_>> {
    let before_has_comment = pieces
        .iter()
        .take(at)
        .any(|p| matches!(p, Piece::Comment(_)));
    if !before_has_comment {
        pieces.drain(..at.min(pieces.len()));
        return pieces;
    }
    if at > 0
        && let (Some(Piece::Newlines(a)), Some(Piece::Newlines(b))) =
            (pieces.get(at - 1), pieces.get(at))
    {
        let longest = (*a).max(*b);
        pieces.remove(at);
        if let Some(Piece::Newlines(n)) = pieces.get_mut(at - 1) {
            *n = longest;
        }
    }
    pieces
}

/// A gap around a colon matters only for its comments.
fn comments_only(pieces: Vec<Piece<'_>>) -> Gap<'_> {
    let gap = Gap { pieces };
    if gap.has_comment() {
        gap
    } else {
        Gap::default()
    }
}

/// Removes whitespace at the end of every line of a comment (`\r\n` becomes `\n`).
fn normalize_comment(raw: &str) -> Cow<'_, str> {
    let is_trailing = |c: char| matches!(c, ' ' | '\t' | '\r');
    let clean = raw.split('\n').all(|line| !line.ends_with(is_trailing));
    if clean {
        return Cow::Borrowed(raw);
    }
    let lines: Vec<&str> = raw
        .split('\n')
        .map(|line| line.trim_end_matches(is_trailing))
        .collect();
    Cow::Owned(lines.join("\n"))
}

// ---------------------------------------------------------------------------------------------
// Printing.

/// How a gap is laid out, by where it stands (after `hujson`'s `formatOptions`).
#[derive(Debug, Clone, Copy, Default)]
struct GapOptions {
    /// Start with a line break if the gap has none (an element of an expanded container).
    ensure_leading_newline: bool,
    /// End with a line break (before the closing bracket of an expanded container).
    ensure_trailing_newline: bool,
    remove_leading_empty_lines: bool,
    remove_trailing_empty_lines: bool,
    /// The last line is indented one level less (it holds a closing bracket).
    unindent_last_line: bool,
    /// An otherwise empty gap becomes one space.
    append_space_if_empty: bool,
}

/// Lays out a gap whose comments are indented `depth` levels. The result ends with the
/// indentation of the next token when that token starts a line, with a space when a comment
/// precedes it on its line, and is empty when the gap is empty.
fn format_gap(gap: &Gap<'_>, depth: usize, options: GapOptions) -> String {
    let mut out = String::new();
    if options.ensure_leading_newline && !gap.has_line_break() {
        out.push('\n');
    }
    let mut pieces = gap.pieces.iter().peekable();
    while let Some(piece) = pieces.next() {
        match piece {
            Piece::Newlines(n) => {
                for _ in 0..(*n).min(2) {
                    out.push('\n');
                }
            }
            Piece::Comment(comment) => {
                if out.ends_with('\n') {
                    indent(&mut out, depth);
                } else {
                    out.push(' ');
                }
                out.push_str(&comment.text);
                if comment.line && !matches!(pieces.peek(), Some(Piece::Newlines(_))) {
                    out.push('\n');
                }
            }
        }
    }
    if options.ensure_trailing_newline && !out.ends_with('\n') {
        out.push('\n');
    }
    if options.remove_leading_empty_lines {
        let extra = out.len() - out.trim_start_matches('\n').len();
        if extra > 1 {
            out.replace_range(..extra - 1, "");
        }
    }
    if options.remove_trailing_empty_lines {
        while out.ends_with("\n\n") {
            out.pop();
        }
    }
    if out.ends_with('\n') {
        let depth = if options.unindent_last_line {
            depth.saturating_sub(1)
        } else {
            depth
        };
        indent(&mut out, depth);
    } else if !out.is_empty() {
        out.push(' ');
    }
    if options.append_space_if_empty && out.is_empty() {
        out.push(' ');
    }
    out
}

fn indent(out: &mut String, depth: usize) {
    for _ in 0..depth {
        out.push('\t');
    }
}

/// One object member laid out, before alignment.
struct MemberText<'a> {
    gap: String,
    key: &'a str,
    key_gap: String,
    value_gap: String,
    value: String,
}

impl MemberText<'_> {
    /// Whether the member fits on its line, starting it: it can join an alignment run.
    fn alignable(&self) -> bool {
        self.gap.contains('\n')
            && !self.key_gap.contains('\n')
            && !self.value_gap.contains('\n')
            && !self.value.contains('\n')
    }

    /// The width from the start of the member's line (after the indentation) to its value.
    fn value_column(&self) -> usize {
        let prefix = self.gap.rsplit('\n').next().unwrap_or("");
        let prefix = prefix.trim_start_matches('\t');
        prefix.chars().count()
            + self.key.chars().count()
            + self.key_gap.chars().count()
            + 1
            + self.value_gap.chars().count()
    }
}

struct Printer {
    /// Whether expanded containers get a comma after their last element.
    trailing_commas: bool,
}

impl Printer {
    fn node(&self, node: &Node<'_>, depth: usize, out: &mut String) {
        match node {
            Node::Scalar(raw) => out.push_str(raw),
            Node::Array(container, closing) => {
                out.push('[');
                let count = container.items.len();
                for (i, element) in container.items.iter().enumerate() {
                    out.push_str(&format_gap(
                        &element.gap,
                        depth + 1,
                        element_options(container.expand, i),
                    ));
                    self.node(&element.value, depth + usize::from(container.expand), out);
                    if i + 1 < count || (container.expand && self.trailing_commas) {
                        out.push(',');
                    }
                }
                out.push_str(&format_gap(
                    closing,
                    depth + 1,
                    closing_options(container.expand, count),
                ));
                out.push(']');
            }
            Node::Object(container, closing) => {
                out.push('{');
                let count = container.items.len();
                let mut members: Vec<MemberText<'_>> = Vec::with_capacity(count);
                for (i, entry) in container.items.iter().enumerate() {
                    let gap =
                        format_gap(&entry.gap, depth + 1, element_options(container.expand, i));
                    let around_colon = GapOptions {
                        remove_leading_empty_lines: true,
                        remove_trailing_empty_lines: true,
                        ..GapOptions::default()
                    };
                    let key_gap = format_gap(&entry.key_gap, depth + 2, around_colon);
                    let value_gap = format_gap(
                        &entry.value_gap,
                        depth + 2,
                        GapOptions {
                            append_space_if_empty: true,
                            ..around_colon
                        },
                    );
                    let broken = key_gap.contains('\n') || value_gap.contains('\n');
                    let value_depth = depth + usize::from(container.expand) + usize::from(broken);
                    let mut value = String::new();
                    self.node(&entry.value, value_depth, &mut value);
                    members.push(MemberText {
                        gap,
                        key: entry.key,
                        key_gap,
                        value_gap,
                        value,
                    });
                }
                align(&mut members);
                for (i, member) in members.iter().enumerate() {
                    out.push_str(&member.gap);
                    out.push_str(member.key);
                    out.push_str(&member.key_gap);
                    out.push(':');
                    out.push_str(&member.value_gap);
                    out.push_str(&member.value);
                    if i + 1 < count || (container.expand && self.trailing_commas) {
                        out.push(',');
                    }
                }
                out.push_str(&format_gap(
                    closing,
                    depth + 1,
                    closing_options(container.expand, count),
                ));
                out.push('}');
            }
        }
    }
}

fn element_options(expand: bool, index: usize) -> GapOptions {
    GapOptions {
        ensure_leading_newline: expand,
        remove_leading_empty_lines: index == 0,
        append_space_if_empty: index != 0,
        ..GapOptions::default()
    }
}

fn closing_options(expand: bool, count: usize) -> GapOptions {
    GapOptions {
        ensure_trailing_newline: expand,
        remove_leading_empty_lines: count == 0,
        remove_trailing_empty_lines: true,
        unindent_last_line: true,
        ..GapOptions::default()
    }
}

/// Aligns the values of runs of one-line members that each start a line. A member whose
/// gap holds more than one line break (a blank line or a comment line) starts a new run.
fn align(members: &mut [MemberText<'_>]) {
    let mut run: Vec<usize> = Vec::new();
    for i in 0..members.len() {
        let Some(member) = members.get(i) else { break };
        if !member.alignable() {
            flush_run(members, &mut run);
            continue;
        }
        if member.gap.matches('\n').count() > 1 {
            flush_run(members, &mut run);
        }
        run.push(i);
    }
    flush_run(members, &mut run);
}

fn flush_run(members: &mut [MemberText<'_>], run: &mut Vec<usize>) {
    let column = run
        .iter()
        .filter_map(|&i| members.get(i))
        .map(MemberText::value_column)
        .max()
        .unwrap_or(0);
    for &i in run.iter() {
        if let Some(member) = members.get_mut(i) {
            let pad = column.saturating_sub(member.value_column());
            member.value_gap.extend(std::iter::repeat_n(' ', pad));
        }
    }
    run.clear();
}

#[cfg(test)]
#[allow(clippy::panic, reason = "tests")]
mod tests {
    use super::*;

    fn fmt(text: &str) -> String {
        let out = format(text).unwrap_or_else(|e| panic!("{e}: {:?}", e.diagnostics()));
        let again = format(&out).unwrap();
        assert_eq!(again, out, "not idempotent for {text:?}");
        out
    }

    #[test]
    fn scalars_and_empty_containers() {
        assert_eq!(fmt("null"), "null\n");
        assert_eq!(fmt("  1.0e3  "), "1.0e3\n");
        assert_eq!(fmt(r#""\u00e9\/""#), "\"\\u00e9\\/\"\n");
        assert_eq!(fmt("{\n\r\t \n\r\t }"), "{}\n");
        assert_eq!(fmt("[\n\n]"), "[]\n");
        assert_eq!(fmt("{/**/}"), "{ /**/ }\n");
        assert_eq!(fmt("[//\r\t\n]"), "[ //\n]\n");
        assert_eq!(fmt("{\n  // nothing yet\n}"), "{\n\t// nothing yet\n}\n");
    }

    #[test]
    fn inline_containers_stay_inline() {
        assert_eq!(
            fmt(r#"{"name"   :"value"  ,"n":[1 ,2,]}"#),
            "{\"name\": \"value\", \"n\": [1, 2]}\n"
        );
        assert_eq!(fmt("[null /**/ , null]"), "[null, /**/ null]\n");
        assert_eq!(
            fmt(r#"{"a"/**/:"b"/**/,"c":/**/"d"}"#),
            "{\"a\" /**/ : \"b\", /**/ \"c\": /**/ \"d\"}\n"
        );
    }

    #[test]
    fn line_breaks_expand_and_add_trailing_commas() {
        let text = "{\"acls\": [\n {\"action\": \"accept\", \"src\": [\"*\"]}], // all\n\"x\": 1}";
        assert_eq!(
            fmt(text),
            "{\n\t\"acls\": [\n\t\t{\"action\": \"accept\", \"src\": [\"*\"]},\n\t], // all\n\t\"x\": 1,\n}\n"
        );
        // Standard JSON stays standard: no trailing commas.
        assert_eq!(
            fmt("{\n\"a\": [\n1\n]\n}"),
            "{\n\t\"a\": [\n\t\t1\n\t]\n}\n"
        );
    }

    #[test]
    fn wide_containers_expand_one_level_at_a_time() {
        let members: Vec<String> = (0..8).map(|i| format!("\"key{i}\": [\"v{i}\"]")).collect();
        let text = format!("{{{}}}", members.join(","));
        let out = fmt(&text);
        assert!(out.starts_with("{\n\t\"key0\": [\"v0\"],\n"), "{out}");
        assert_eq!(out.lines().count(), 10, "{out}");
        // 78 characters inline stays inline; 79 expands.
        let fits = format!("[\"{}\"]", "x".repeat(74));
        assert_eq!(fits.len(), 78);
        assert_eq!(fmt(&fits), format!("{fits}\n"));
        let wide = format!("[\"{}\"]", "x".repeat(75));
        assert_eq!(fmt(&wide), format!("[\n\t\"{}\"\n]\n", "x".repeat(75)));
    }

    #[test]
    fn values_align_in_runs() {
        let text = "{\n\"action\": \"accept\",\n\"src\": [\"a\"], // x\n\"users\": [\"root\"],\n\n\"dst\": [\"b\"],\n// c\n\"proto\": \"tcp\",\n\"ipProtocol\": \"udp\"}";
        assert_eq!(
            fmt(text),
            "{\n\t\"action\": \"accept\",\n\t\"src\":    [\"a\"], // x\n\t\"users\":  [\"root\"],\n\n\t\"dst\": [\"b\"],\n\t// c\n\t\"proto\":      \"tcp\",\n\t\"ipProtocol\": \"udp\",\n}\n"
        );
    }

    #[test]
    fn multi_line_members_are_not_aligned_and_break_runs() {
        let text = "{\n\"a\": 1,\n\"bbbb\": [\n2\n],\n\"cc\": 3,\n\"d\": 4\n}";
        assert_eq!(
            fmt(text),
            "{\n\t\"a\": 1,\n\t\"bbbb\": [\n\t\t2\n\t],\n\t\"cc\": 3,\n\t\"d\":  4\n}\n"
        );
    }

    #[test]
    fn comments_keep_their_places() {
        let text = "\n\n  // head\n\n\n/* two */ {//open\n\"a\"://colon\n1,//after a\n\n\n\t// before b\n\"b\":2//after b\n\n// end of object\n\n}//tail\n\n\n/* last */\n\n";
        assert_eq!(
            fmt(text),
            "// head\n\n/* two */ { //open\n\t\"a\": //colon\n\t\t1, //after a\n\n\t// before b\n\t\"b\": 2, //after b\n\n\t// end of object\n} //tail\n\n/* last */\n"
        );
    }

    #[test]
    fn comment_text_loses_only_trailing_whitespace() {
        let text = "{ // a  \r\n \"k\": 1 /* x  \r\n   y */\r\n}\r\n";
        assert_eq!(fmt(text), "{ // a\n\t\"k\": 1, /* x\n   y */\n}\n");
        // A final `//` comment without a newline.
        assert_eq!(fmt("[1] // end\r"), "[1] // end\n");
    }

    #[test]
    fn commas_move_before_comments() {
        assert_eq!(fmt("[\n1 // one\n, 2\n]"), "[\n\t1, // one\n\t2,\n]\n");
        assert_eq!(fmt("[\n1\n,\n2\n]"), "[\n\t1,\n\t2\n]\n");
        // A comment written after a comma on a line of its own stays on that line.
        assert_eq!(
            fmt("{\n\"k\": 1\n\n\t, // one\n\n\"l\": 2}"),
            "{\n\t\"k\": 1, // one\n\n\t\"l\": 2,\n}\n"
        );
        assert_eq!(
            fmt("{\"a\": 1,\n\"b\": 2\n// after b\n,}"),
            "{\n\t\"a\": 1,\n\t\"b\": 2,\n\t// after b\n}\n"
        );
        assert_eq!(
            fmt("[\n\"a\"\n, \"b\"\n, \"c\"\n]"),
            "[\n\t\"a\",\n\t\"b\",\n\t\"c\"\n]\n"
        );
    }

    #[test]
    fn a_line_break_after_a_colon_goes_without_a_comment() {
        assert_eq!(fmt("{\"a\":\n\n  1}"), "{\"a\": 1}\n");
        assert_eq!(
            fmt("{\"a\":\n  // why\n  [1, 2]}"),
            "{\"a\":\n\t\t// why\n\t\t[1, 2]}\n"
        );
    }

    #[test]
    fn several_members_spanning_lines_expand_their_object() {
        assert_eq!(
            fmt("{\"a\": [\n1,\n], \"b\": 2}"),
            "{\n\t\"a\": [\n\t\t1,\n\t],\n\t\"b\": 2,\n}\n"
        );
        // One member may span lines inside an inline object.
        assert_eq!(fmt("{\"a\": [\n1,\n]}"), "{\"a\": [\n\t1,\n]}\n");
    }

    #[test]
    fn duplicate_keys_are_formatted_and_syntax_errors_are_not() {
        assert_eq!(fmt("{\"a\":1,\"a\":2}"), "{\"a\": 1, \"a\": 2}\n");
        let err = format("{\"a\": 1,, }").unwrap_err();
        assert!(matches!(&err, FormatError::Syntax(d) if d.len() == 1));
        assert_eq!(err.diagnostics()[0].code, crate::codes::SYNTAX);
        assert!(matches!(format(""), Err(FormatError::Syntax(_))));
        assert!(matches!(format("// only\n"), Err(FormatError::Syntax(_))));
        assert_eq!(
            err.to_string(),
            "the document has a syntax error and was not formatted"
        );
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let depth = crate::syntax::MAX_DEPTH;
        let text = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let out = fmt(&text);
        // Each level wraps one element that spans lines, so it stays inline around it until
        // its closing line grows too wide: `[[[[` ... `]]]]` in steps.
        assert!(out.starts_with("[[[[") && out.lines().count() > 10, "{out}");
        let parsed = crate::syntax::parse(&out).value.map(|v| v.to_json());
        assert_eq!(
            parsed,
            crate::syntax::parse(&text).value.map(|v| v.to_json())
        );
    }

    #[test]
    fn non_ascii_is_measured_in_characters() {
        let text = format!("{{\n\"é\": 1,\n\"{}\": 2}}", "ü".repeat(3));
        assert_eq!(fmt(&text), "{\n\t\"é\":   1,\n\t\"üüü\": 2\n}\n");
    }
}
