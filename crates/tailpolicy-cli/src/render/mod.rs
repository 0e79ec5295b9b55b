//! Every writer of the CLI: rustc-style text for people (`human.rs`), one JSON object of the
//! core's output model (`tailpolicy::output`), a SARIF log (`sarif.rs`), GitHub workflow
//! commands (`github.rs`), JUnit XML (`junit.rs`) and the text of `query`, `reach` and
//! `test` (`simulate.rs`). Commands decide what to write; this module decides how.
//!
//! Diagnostics carry byte spans; line and column come from the core's `LineIndex::span`,
//! with columns counted in Unicode scalar values as terminals and rustc count them.

pub mod diff;
mod github;
mod human;
mod junit;
mod sarif;
mod simulate;

use std::io::{self, Write};

pub use github::github_commands;
pub use human::{HumanRenderer, write_human_diagnostics};
pub use junit::write_junit;
pub use sarif::sarif_log;
pub use simulate::{write_answer, write_reach, write_ssh_answer, write_test_results};

use serde::Serialize;
use tailpolicy::output::{DiagnosticOutput, FileOutput};
use tailpolicy::{Diagnostic, LineColumn, LineIndex, PositionEncoding, Severity};

use crate::Format;

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

/// The 1-based start and end of a diagnostic's primary span, columns in characters (the
/// core's one conversion; without a source or a label, `1:1`).
pub(crate) fn primary_positions(
    index: Option<&LineIndex<'_>>,
    diagnostic: &Diagnostic,
) -> (LineColumn, LineColumn) {
    let d = DiagnosticOutput::new(diagnostic, index, PositionEncoding::Chars);
    (
        LineColumn {
            line: d.line,
            column: d.column,
        },
        LineColumn {
            line: d.end_line,
            column: d.end_column,
        },
    )
}

/// Renders diagnostics as text in the style of rustc and ruff.
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

/// The single JSON object printed by `--format json`: the core's [`FileOutput`] per file.
#[derive(Debug, Serialize)]
pub struct JsonReport<'a> {
    pub valid: bool,
    pub files: Vec<FileOutput<'a>>,
}

impl<'a> JsonReport<'a> {
    pub fn new(files: &'a [FileResult]) -> Self {
        let files: Vec<FileOutput<'a>> = files.iter().map(file_output).collect();
        JsonReport {
            valid: files.iter().all(|f| f.valid),
            files,
        }
    }
}

fn file_output(file: &FileResult) -> FileOutput<'_> {
    let index = file.source.as_deref().map(LineIndex::new);
    FileOutput {
        path: &file.path,
        valid: !file.failed && file.is_valid(),
        diagnostics: file
            .diagnostics
            .iter()
            .map(|d| DiagnosticOutput::new(d, index.as_ref(), PositionEncoding::Chars))
            .collect(),
    }
}

/// Writes `check`'s whole report in `format`. `closing` replaces the summary line of the
/// text formats; `color` is decided for the stream written to.
pub fn write_check_report(
    format: Format,
    files: &[FileResult],
    closing: Option<&str>,
    color: bool,
    out: &mut impl Write,
) -> io::Result<()> {
    let closing = closing.map_or_else(|| Summary::of(files).line(), str::to_owned);
    // Serializers write in small pieces; standard output would scan each for a newline.
    let mut out = io::BufWriter::with_capacity(1 << 16, out);
    match format {
        Format::Human => {
            write_human_diagnostics(&HumanRenderer::new(color), files, &mut out)?;
            writeln!(out, "{closing}")?;
        }
        Format::Json => {
            serde_json::to_writer(&mut out, &JsonReport::new(files))?;
            writeln!(out)?;
        }
        Format::Sarif => {
            serde_json::to_writer_pretty(&mut out, &sarif_log(files))?;
            writeln!(out)?;
        }
        Format::Github => {
            out.write_all(github_commands(files).as_bytes())?;
            writeln!(out, "{closing}")?;
        }
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use tailpolicy::Span;

    use super::human::tests::checked;
    use super::*;

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
