//! Turning checked files into output: rustc-style text for people, one JSON object or a
//! SARIF log for tools, workflow commands for GitHub Actions.
//!
//! Diagnostics carry byte spans; line and column are computed here, at the edge, with
//! columns counted in Unicode scalar values as terminals and rustc count them.

pub mod diff;
mod github;
mod sarif;

pub use github::github_commands;
pub use sarif::sarif_log;

use annotate_snippets::{Annotation, AnnotationKind, Group, Level, Origin, Renderer, Snippet};
use serde::Serialize;
use tailpolicy::{Diagnostic, LineColumn, LineIndex, PositionEncoding, Severity, Span};

/// Everything known about one input file after a run.
#[derive(Debug, Clone)]
pub struct FileResult {
    /// The path as the user wrote it (`<stdin>` for `-`).
    pub path: String,
    /// The text the diagnostics point into; `None` when the file could not be read at all.
    /// For a file that is not valid UTF-8 this is the lossy decoding, which keeps the byte
    /// offsets of the valid prefix.
    pub source: Option<String>,
    pub diagnostics: Vec<Diagnostic>,
    /// True when the file could not be read, decoded or (for an inventory) loaded, as
    /// opposed to having been checked and found to have errors.
    pub failed: bool,
}

impl FileResult {
    /// True when no diagnostic is an error.
    pub fn is_valid(&self) -> bool {
        !self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// True when some diagnostic is a warning.
    pub fn has_warnings(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == Severity::Warning)
    }
}

/// The 1-based start and end of a diagnostic's primary span, columns in characters.
///
/// Without a source or a label, both ends are `1:1`, the start of the file.
pub(crate) fn primary_positions(
    index: Option<&LineIndex<'_>>,
    diagnostic: &Diagnostic,
) -> (LineColumn, LineColumn) {
    match (index, diagnostic.labels.first()) {
        (Some(index), Some(label)) => (
            index.position(label.span.start, PositionEncoding::Chars),
            index.position(
                label.span.end.max(label.span.start),
                PositionEncoding::Chars,
            ),
        ),
        _ => {
            let start_of_file = LineColumn { line: 1, column: 1 };
            (start_of_file, start_of_file)
        }
    }
}

/// Renders diagnostics as text in the style of rustc and ruff.
#[derive(Debug, Clone)]
pub struct HumanRenderer {
    renderer: Renderer,
}

impl HumanRenderer {
    /// `color` turns on ANSI styling; callers decide (terminal, `NO_COLOR`).
    pub fn new(color: bool) -> Self {
        let renderer = if color {
            Renderer::styled()
        } else {
            Renderer::plain()
        };
        Self { renderer }
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

/// Counts for the closing line of a human report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub files: usize,
    pub valid: usize,
    pub with_errors: usize,
    pub unreadable: usize,
    pub errors: usize,
    pub warnings: usize,
}

impl Summary {
    pub fn of(files: &[FileResult]) -> Self {
        let mut summary = Summary {
            files: files.len(),
            ..Summary::default()
        };
        for file in files {
            if file.failed {
                summary.unreadable += 1;
            } else if file.is_valid() {
                summary.valid += 1;
            } else {
                summary.with_errors += 1;
            }
            for diagnostic in &file.diagnostics {
                match diagnostic.severity {
                    Severity::Error => summary.errors += 1,
                    Severity::Warning => summary.warnings += 1,
                    Severity::Info => {}
                }
            }
        }
        summary
    }

    /// E.g. `2 files checked: 1 valid, 1 with errors (3 errors, 1 warning)`.
    pub fn line(&self) -> String {
        let mut line = format!(
            "{} checked: {} valid, {} with errors",
            plural(self.files, "file", "files"),
            self.valid,
            self.with_errors
        );
        if self.unreadable > 0 {
            line.push_str(&format!(", {} unreadable", self.unreadable));
        }
        if self.errors > 0 || self.warnings > 0 {
            line.push_str(&format!(
                " ({}, {})",
                plural(self.errors, "error", "errors"),
                plural(self.warnings, "warning", "warnings")
            ));
        }
        line
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The single JSON object printed by `--format json`.
#[derive(Debug, Serialize)]
pub struct JsonReport<'a> {
    pub valid: bool,
    pub files: Vec<JsonFile<'a>>,
}

#[derive(Debug, Serialize)]
pub struct JsonFile<'a> {
    pub path: &'a str,
    pub valid: bool,
    pub diagnostics: Vec<JsonDiagnostic<'a>>,
}

/// One diagnostic; positions are 1-based, from the primary span, columns in characters.
#[derive(Debug, Serialize)]
pub struct JsonDiagnostic<'a> {
    pub code: &'a str,
    pub severity: Severity,
    pub message: &'a str,
    pub help: Option<&'a str>,
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
    pub end_column: u32,
}

impl<'a> JsonReport<'a> {
    pub fn new(files: &'a [FileResult]) -> Self {
        let files: Vec<JsonFile<'a>> = files.iter().map(JsonFile::new).collect();
        JsonReport {
            valid: files.iter().all(|f| f.valid),
            files,
        }
    }
}

impl<'a> JsonFile<'a> {
    fn new(file: &'a FileResult) -> Self {
        let index = file.source.as_deref().map(LineIndex::new);
        let diagnostics = file
            .diagnostics
            .iter()
            .map(|d| {
                let (start, end) = primary_positions(index.as_ref(), d);
                JsonDiagnostic {
                    code: d.code,
                    severity: d.severity,
                    message: &d.message,
                    help: d.help.as_deref(),
                    line: start.line,
                    column: start.column,
                    end_line: end.line,
                    end_column: end.column,
                }
            })
            .collect();
        JsonFile {
            path: &file.path,
            valid: !file.failed && file.is_valid(),
            diagnostics,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::ops::Range;

    use super::*;

    fn checked(path: &str, source: &str, diagnostics: Vec<Diagnostic>) -> FileResult {
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
    fn styled_output_uses_escape_codes() {
        let diagnostic = Diagnostic::error("E001", "bad", Span::new(0, 1));
        let text = HumanRenderer::new(true).diagnostic("p", Some("x"), &diagnostic);
        assert!(text.contains('\u{1b}'), "{text}");
    }

    #[test]
    fn json_positions_count_characters() {
        // `'` is the 20th character but the 21st byte of the line.
        let source = "{\"hosts\": {\"café\": 'x'}}";
        let offset = u32::try_from(source.find('\'').unwrap()).unwrap();
        let diagnostic =
            Diagnostic::error("E001", "invalid character", Span::new(offset, offset + 1))
                .with_help("use double quotes");
        let files = [checked("u.hujson", source, vec![diagnostic])];
        let json = serde_json::to_value(JsonReport::new(&files)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "valid": false,
                "files": [{
                    "path": "u.hujson",
                    "valid": false,
                    "diagnostics": [{
                        "code": "E001",
                        "severity": "error",
                        "message": "invalid character",
                        "help": "use double quotes",
                        "line": 1,
                        "column": 20,
                        "end_line": 1,
                        "end_column": 21,
                    }],
                }],
            })
        );
    }

    #[test]
    fn warnings_keep_a_file_valid_and_failures_do_not() {
        let warning = Diagnostic::warning("TP001", "w", Span::new(0, 1));
        let mut files = vec![checked("w.hujson", "{}", vec![warning])];
        let json = serde_json::to_value(JsonReport::new(&files)).unwrap();
        assert_eq!(json["valid"], true);
        assert_eq!(json["files"][0]["diagnostics"][0]["severity"], "warning");
        assert_eq!(
            json["files"][0]["diagnostics"][0]["help"],
            serde_json::Value::Null
        );

        files.push(FileResult {
            path: "missing.hujson".into(),
            source: None,
            diagnostics: vec![Diagnostic {
                code: "IO",
                severity: Severity::Error,
                message: "cannot read".into(),
                labels: Vec::new(),
                help: None,
            }],
            failed: true,
        });
        let json = serde_json::to_value(JsonReport::new(&files)).unwrap();
        assert_eq!(json["valid"], false);
        assert_eq!(json["files"][1]["valid"], false);
        assert_eq!(json["files"][1]["diagnostics"][0]["line"], 1);
        assert_eq!(json["files"][1]["diagnostics"][0]["column"], 1);
    }

    #[test]
    fn summary_counts_files_and_diagnostics() {
        let error = Diagnostic::error("E001", "e", Span::new(0, 1));
        let warning = Diagnostic::warning("TP001", "w", Span::new(0, 1));
        let files = [
            checked("a", "{}", vec![]),
            checked("b", "{}", vec![error.clone(), error, warning]),
        ];
        let summary = Summary::of(&files);
        assert_eq!(
            summary.line(),
            "2 files checked: 1 valid, 1 with errors (2 errors, 1 warning)"
        );
        assert_eq!(
            Summary::of(&files[..1]).line(),
            "1 file checked: 1 valid, 0 with errors"
        );
    }
}
