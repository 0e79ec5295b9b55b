//! rustc-style text: a title, ` --> path:line:col`, the source lines the labels cover with
//! the spans underlined, and `= help: ...`.

use annotate_snippets::{Annotation, AnnotationKind, Group, Level, Origin, Renderer, Snippet};
use tailpolicy::{Diagnostic, LineIndex, PositionEncoding, Severity, Span};

use super::FileResult;

/// Renders diagnostics as text in the style of rustc and ruff.
#[derive(Debug, Clone)]
pub struct HumanRenderer {
    renderer: Renderer,
    color: bool,
}

impl HumanRenderer {
    /// `color` turns on ANSI styling; callers decide (terminal, `NO_COLOR`).
    pub fn new(color: bool) -> Self {
        let renderer = if color {
            Renderer::styled()
        } else {
            Renderer::plain()
        };
        Self { renderer, color }
    }

    /// One diagnostic: a title line, ` --> path:line:col`, the source excerpt with the spans
    /// underlined and labelled, and `= help: ...`. No trailing newline.
    ///
    /// Builds the line index of `source`: for many diagnostics of one file, use
    /// [`Self::write_file`].
    pub fn diagnostic(&self, path: &str, source: Option<&str>, diagnostic: &Diagnostic) -> String {
        let source = source.map(|text| (text, LineIndex::new(text)));
        self.indexed(path, source.as_ref().map(|(t, i)| (*t, i)), diagnostic)
    }

    /// Every diagnostic of a file, each followed by a blank line; the line index is built once,
    /// so the cost is linear in the number of diagnostics.
    pub fn write_file(
        &self,
        file: &FileResult,
        out: &mut impl std::io::Write,
    ) -> std::io::Result<()> {
        let index = file
            .source
            .as_deref()
            .map(|text| (text, LineIndex::new(text)));
        for diagnostic in &file.diagnostics {
            let text = self.indexed(&file.path, index.as_ref().map(|(t, i)| (*t, i)), diagnostic);
            writeln!(out, "{text}\n")?;
        }
        Ok(())
    }

    fn indexed(
        &self,
        path: &str,
        source: Option<(&str, &LineIndex<'_>)>,
        diagnostic: &Diagnostic,
    ) -> String {
        if !self.color
            && let Some((text, index)) = source
            && let Some(written) = one_line(path, text, index, diagnostic)
        {
            return written;
        }
        self.rendered(path, source, diagnostic)
    }

    fn rendered(
        &self,
        path: &str,
        source: Option<(&str, &LineIndex<'_>)>,
        diagnostic: &Diagnostic,
    ) -> String {
        let title = level(diagnostic.severity)
            .primary_title(diagnostic.message.as_str())
            .id(diagnostic.code);
        let mut group: Group<'_> = match source.filter(|_| !diagnostic.labels.is_empty()) {
            Some((text, index)) => title.element(excerpt_snippet(path, text, index, diagnostic)),
            None => title.element(Origin::path(path)),
        };
        if let Some(help) = &diagnostic.help {
            group = group.element(Level::HELP.message(help.as_str()));
        }
        self.renderer.render(&[group])
    }
}

/// Plain text, one label on one short line of printable ASCII: most findings. Written here
/// because annotate-snippets' styled buffer cost about 5x the JSON writer per finding (20,001
/// findings: 0.2 s against 0.04 s); `one_line_writes_what_the_renderer_writes` keeps the two
/// identical. `None` for anything else.
fn one_line(
    path: &str,
    text: &str,
    index: &LineIndex<'_>,
    diagnostic: &Diagnostic,
) -> Option<String> {
    let [label] = diagnostic.labels.as_slice() else {
        return None;
    };
    let plain = |s: &str| s.bytes().all(|b| (0x20..0x7f).contains(&b));
    let range = display_range(text, label.span);
    let start = index.position(u32::try_from(range.start).ok()?, PositionEncoding::Utf8);
    let line = index.line_text(start.line);
    let column = start.column as usize - 1;
    let width = range.end.checked_sub(range.start)?;
    if width == 0
        || column + width > line.len()
        || line.len() > 100
        || !plain(line)
        || line.ends_with(' ')
        || !plain(&diagnostic.message)
        || !diagnostic.help.as_deref().is_none_or(plain)
        || !label.message.as_deref().is_none_or(plain)
    {
        return None;
    }
    let number = start.line.to_string();
    let pad = " ".repeat(number.len());
    let mut out = format!(
        "{}[{}]: {}\n{pad}--> {path}:{}:{}\n{pad} |\n{number} | {line}\n{pad} | {}{}",
        diagnostic.severity.as_str(),
        diagnostic.code,
        diagnostic.message,
        start.line,
        start.column,
        " ".repeat(column),
        "^".repeat(width),
    );
    if let Some(message) = &label.message {
        out.push(' ');
        out.push_str(message);
    }
    if let Some(help) = &diagnostic.help {
        out.push_str(&format!("\n{pad} |\n{pad} = help: {help}"));
    }
    Some(out)
}

/// The source lines the labels cover, with the labels underlined; the first is primary.
///
/// Only those lines go to the renderer, so a diagnostic costs the same in a large file as in
/// a small one.
fn excerpt_snippet<'a>(
    path: &'a str,
    text: &'a str,
    index: &LineIndex<'_>,
    diagnostic: &'a Diagnostic,
) -> Snippet<'a, Annotation<'a>> {
    let ranges: Vec<_> = diagnostic
        .labels
        .iter()
        .map(|label| display_range(text, label.span))
        .collect();
    let excerpt = Excerpt::covering(text, index, &ranges);
    let annotations =
        diagnostic
            .labels
            .iter()
            .zip(&ranges)
            .enumerate()
            .map(|(i, (label, range))| {
                let kind = if i == 0 {
                    AnnotationKind::Primary
                } else {
                    AnnotationKind::Context
                };
                kind.span(range.start - excerpt.offset..range.end - excerpt.offset)
                    .label(label.message.as_deref())
            });
    Snippet::source(excerpt.text)
        .line_start(excerpt.first_line)
        .path(path)
        .annotations(annotations)
}

fn level(severity: Severity) -> Level<'static> {
    match severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
        Severity::Info => Level::INFO,
    }
}

/// The byte range to underline: clamped to the text, on character boundaries, and at least
/// one character wide when there is a character to underline.
fn display_range(text: &str, span: Span) -> std::ops::Range<usize> {
    let start = floor_char_boundary(text, (span.start as usize).min(text.len()));
    let end = floor_char_boundary(text, (span.end as usize).min(text.len())).max(start);
    if end > start {
        return start..end;
    }
    match text.get(start..).and_then(|rest| rest.chars().next()) {
        Some(c) => start..start + c.len_utf8(),
        None => start..start,
    }
}

/// The whole lines of a text that cover some byte ranges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Excerpt<'a> {
    text: &'a str,
    /// Byte offset of `text` in the full text.
    offset: usize,
    /// 1-based number of the first line of `text`.
    first_line: usize,
}

impl<'a> Excerpt<'a> {
    /// `ranges` must lie within `text` on character boundaries (see [`display_range`]);
    /// `index` is `text`'s.
    fn covering(text: &'a str, index: &LineIndex<'_>, ranges: &[std::ops::Range<usize>]) -> Self {
        let low = ranges
            .iter()
            .map(|r| r.start)
            .min()
            .unwrap_or(0)
            .min(text.len());
        let high = ranges
            .iter()
            .map(|r| r.end)
            .max()
            .unwrap_or(0)
            .clamp(low, text.len());
        // The line of `low` and its start from the index: scanning the text before it for
        // every diagnostic made a report quadratic in the size of the file.
        let start = index.position(
            u32::try_from(low).unwrap_or(u32::MAX),
            PositionEncoding::Utf8,
        );
        let offset = low.saturating_sub(start.column.saturating_sub(1) as usize);
        // A range ending just after a newline still belongs to the line that newline ends.
        let search_from = if high > low && text.as_bytes().get(high - 1) == Some(&b'\n') {
            high - 1
        } else {
            high
        };
        let end = text
            .get(search_from..)
            .and_then(|rest| rest.find('\n'))
            .map_or(text.len(), |i| search_from + i);
        Excerpt {
            text: text.get(offset..end).unwrap_or(""),
            offset,
            first_line: start.line as usize,
        }
    }
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// Writes every diagnostic of `files` as rustc-style text.
pub fn write_human_diagnostics(
    renderer: &HumanRenderer,
    files: &[FileResult],
    out: &mut impl std::io::Write,
) -> std::io::Result<()> {
    for file in files {
        renderer.write_file(file, out)?;
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use std::ops::Range;

    use super::*;

    pub(crate) fn checked(path: &str, source: &str, diagnostics: Vec<Diagnostic>) -> FileResult {
        FileResult {
            path: path.to_owned(),
            source: Some(source.to_owned()),
            diagnostics,
            failed: false,
        }
    }

    #[test]
    fn human_output_has_code_location_excerpt_and_help() {
        let source = "{\n  \"acls\": [],\n  acls: [],\n}\n";
        let diagnostic = Diagnostic::error("E001", "expected a string key", Span::new(18, 22))
            .with_label_message("object keys must be quoted")
            .with_help("write `\"acls\"`");
        let text = HumanRenderer::new(false).diagnostic("p.hujson", Some(source), &diagnostic);
        assert!(
            text.starts_with("error[E001]: expected a string key\n"),
            "{text}"
        );
        assert!(text.contains(" --> p.hujson:3:3\n"), "{text}");
        assert!(text.contains("3 |   acls: [],\n"), "{text}");
        assert!(text.contains("^^^^ object keys must be quoted"), "{text}");
        assert!(text.contains("= help: write `\"acls\"`"), "{text}");
        assert!(
            !text.contains('\u{1b}'),
            "plain output has no escape codes: {text}"
        );
    }

    #[test]
    fn human_output_shows_secondary_labels_and_warnings() {
        let source = "{\"a\": 1, \"a\": 2}";
        let diagnostic = Diagnostic::warning("TP001", "duplicate key `a`", Span::new(9, 12))
            .with_secondary(Span::new(1, 4), "first defined here");
        let text = HumanRenderer::new(false).diagnostic("d.hujson", Some(source), &diagnostic);
        assert!(
            text.starts_with("warning[TP001]: duplicate key `a`"),
            "{text}"
        );
        assert!(text.contains(" --> d.hujson:1:10"), "{text}");
        assert!(text.contains("first defined here"), "{text}");
    }

    #[test]
    fn empty_spans_are_widened_and_spans_at_the_end_render() {
        let source = "{\"acls\": [";
        let at_end = Diagnostic::error("E001", "unexpected end of input", Span::at(10));
        let text = HumanRenderer::new(false).diagnostic("e.hujson", Some(source), &at_end);
        assert!(text.contains(" --> e.hujson:1:11"), "{text}");

        // Out-of-range and mid-character spans must not panic.
        let odd = Diagnostic::error("E001", "odd", Span::new(2, 999));
        let text = HumanRenderer::new(false).diagnostic("e.hujson", Some("é\u{1F600}"), &odd);
        assert!(text.contains("error[E001]: odd"), "{text}");
        assert_eq!(display_range("é\u{1F600}", Span::at(1)), 0..2);
        assert_eq!(display_range("ab", Span::at(1)), 1..2);
        assert_eq!(display_range("ab", Span::at(2)), 2..2);

        // An empty span on a line's newline underlines the end of that line.
        let at_newline = Diagnostic::error("E001", "expected `,` or `}`", Span::at(7));
        let text =
            HumanRenderer::new(false).diagnostic("n.hujson", Some("{\"a\": 1\n}"), &at_newline);
        assert!(text.contains(" --> n.hujson:1:8"), "{text}");
        assert!(text.contains("1 | {\"a\": 1\n"), "{text}");
    }

    #[test]
    fn diagnostics_without_source_point_at_the_path() {
        let diagnostic = Diagnostic {
            code: "IO",
            severity: Severity::Error,
            message: "cannot read `x.hujson`: no such file or directory".into(),
            labels: Vec::new(),
            help: None,
        };
        let text = HumanRenderer::new(false).diagnostic("x.hujson", None, &diagnostic);
        assert!(
            text.starts_with("error[IO]: cannot read `x.hujson`"),
            "{text}"
        );
        assert!(text.contains("--> x.hujson"), "{text}");
    }

    #[test]
    fn excerpts_cover_whole_lines_and_keep_line_numbers() {
        let text = "l1\nl2 x\nl3\nl4 y\nl5";
        let x = text.find('x').unwrap();
        let y = text.find('y').unwrap();
        let excerpt = Excerpt::covering(text, &LineIndex::new(text), &[x..x + 1, y..y + 1]);
        assert_eq!(excerpt.text, "l2 x\nl3\nl4 y");
        assert_eq!((excerpt.offset, excerpt.first_line), (3, 2));
        // A span over a line's newline stays on that line; one at the very end is fine.
        let excerpt = Excerpt::covering(text, &LineIndex::new(text), &[Range { start: 7, end: 8 }]);
        assert_eq!(excerpt.text, "l2 x");
        let excerpt = Excerpt::covering(
            text,
            &LineIndex::new(text),
            &[Range {
                start: text.len(),
                end: text.len(),
            }],
        );
        assert_eq!((excerpt.text, excerpt.first_line), ("l5", 5));
        let excerpt =
            Excerpt::covering("a\n", &LineIndex::new("a\n"), &[Range { start: 2, end: 2 }]);
        assert_eq!((excerpt.text, excerpt.first_line), ("", 2));
    }

    #[test]
    fn far_apart_labels_fold_the_lines_between() {
        let mut text = String::from("{\"a\": 1,\n");
        for i in 0..50 {
            text.push_str(&format!("  \"k{i}\": {i},\n"));
        }
        text.push_str("\"a\": 2}\n");
        let second = u32::try_from(text.rfind("\"a\"").unwrap()).unwrap();
        let diagnostic =
            Diagnostic::error("E002", "duplicate key `a`", Span::new(second, second + 3))
                .with_secondary(Span::new(1, 4), "first defined here");
        let out = HumanRenderer::new(false).diagnostic("big.hujson", Some(&text), &diagnostic);
        assert!(out.contains(" --> big.hujson:52:1"), "{out}");
        assert!(out.contains("52 | \"a\": 2}"), "{out}");
        assert!(out.contains(" 1 | {\"a\": 1,"), "{out}");
        assert!(
            out.lines().count() < 20,
            "unlabelled lines are folded: {out}"
        );
    }

    #[test]
    fn a_whole_file_renders_as_its_diagnostics_one_by_one() {
        let source =
            "{\n\t\"hosts\": {\n\t\t\"a\": \"100.64.0.1\",\n\t\t\"b\": \"100.64.0.2\",\n\t},\n}\n";
        let at = |name: &str| u32::try_from(source.find(name).unwrap()).unwrap();
        let diagnostics = vec![
            Diagnostic::warning(
                "TP006",
                "host `a` is never used",
                Span::new(at("\"a\""), at("\"a\"") + 3),
            ),
            Diagnostic::warning(
                "TP006",
                "host `b` is never used",
                Span::new(at("\"b\""), at("\"b\"") + 3),
            )
            .with_help("remove it"),
        ];
        let renderer = HumanRenderer::new(false);
        let mut expected = String::new();
        for d in &diagnostics {
            expected.push_str(&renderer.diagnostic("h.hujson", Some(source), d));
            expected.push_str("\n\n");
        }
        let mut written = Vec::new();
        renderer
            .write_file(&checked("h.hujson", source, diagnostics), &mut written)
            .unwrap();
        assert_eq!(String::from_utf8(written).unwrap(), expected);
        assert!(expected.contains(" --> h.hujson:4:3\n"), "{expected}");
    }

    #[test]
    fn one_line_writes_what_the_renderer_writes() {
        let mut text = String::from("{\n");
        for i in 0..120 {
            text.push_str(&format!("  \"host-{i}\": \"100.64.0.{i}\",\n"));
        }
        text.push_str("  \"tab\":\t1,\n  \"caf\u{e9}\": 2,\n  \"trailing\": 3, \n}\n");
        let index = LineIndex::new(&text);
        let renderer = HumanRenderer::new(false);
        let (mut fast, mut total) = (0, 0);
        for (offset, _) in text.char_indices().step_by(7) {
            for len in [0u32, 1, 4, 9, 40] {
                let start = u32::try_from(offset).unwrap();
                let span = Span::new(start, start + len);
                for (help, label) in [
                    (None, None),
                    (Some("do this"), Some("here")),
                    (Some("x"), None),
                ] {
                    let mut d = Diagnostic::warning("TP006", "host `a` is never used", span);
                    if let Some(help) = help {
                        d = d.with_help(help);
                    }
                    if let Some(label) = label {
                        d = d.with_label_message(label);
                    }
                    let source = Some((text.as_str(), &index));
                    let expected = renderer.rendered("p.hujson", source, &d);
                    if let Some(written) = one_line("p.hujson", &text, &index, &d) {
                        assert_eq!(written, expected, "{span:?} {help:?} {label:?}");
                        fast += 1;
                    }
                    total += 1;
                }
            }
        }
        assert!(fast * 2 > total, "{fast} of {total} on the fast path");
    }

    #[test]
    fn styled_output_uses_escape_codes() {
        let diagnostic = Diagnostic::error("E001", "bad", Span::new(0, 1));
        let text = HumanRenderer::new(true).diagnostic("p", Some("x"), &diagnostic);
        assert!(text.contains('\u{1b}'), "{text}");
    }
}
