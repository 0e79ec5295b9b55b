//! GitHub Actions workflow commands: one `::error`, `::warning` or `::notice` line per
//! diagnostic, which GitHub shows as an annotation on the file and line.
//!
//! Escaping follows the runner's rules: in the message `%`, `\r` and `\n` become `%25`,
//! `%0D` and `%0A`; property values additionally escape `:` and `,` as `%3A` and `%2C`.

use std::fmt::Write as _;

use tailpolicy::{LineIndex, Severity};

use super::{FileResult, primary_positions};

/// Every diagnostic of every file as workflow commands, one per line.
pub fn github_commands(files: &[FileResult]) -> String {
    let mut out = String::new();
    for file in files {
        let index = file.source.as_deref().map(LineIndex::new);
        for diagnostic in &file.diagnostics {
            let command = match diagnostic.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Info => "notice",
            };
            let mut message = diagnostic.message.clone();
            if let Some(help) = &diagnostic.help {
                message.push_str("\nhelp: ");
                message.push_str(help);
            }
            let _ = write!(out, "::{command} file={}", escape_property(&file.path));
            if !diagnostic.labels.is_empty() {
                let (start, end) = primary_positions(index.as_ref(), diagnostic);
                let _ = write!(
                    out,
                    ",line={},col={},endLine={},endColumn={}",
                    start.line, start.column, end.line, end.column
                );
            }
            let _ = writeln!(
                out,
                ",title={}::{}",
                escape_property(diagnostic.code),
                escape_data(&message)
            );
        }
    }
    out
}

/// Escapes a command's message.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a command property's value.
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use tailpolicy::{Diagnostic, Span};

    use super::*;

    #[test]
    fn commands_carry_positions_titles_and_escaped_text() {
        let source = "{\n  \"groups\": {\"group:a\": []},\n}\n";
        let at = u32::try_from(source.find("\"group:a\"").unwrap()).unwrap();
        let diagnostic = Diagnostic::warning(
            "TP009",
            "group `group:a` has 100% no members, none",
            Span::new(at, at + 9),
        )
        .with_help("add members:\nor remove it");
        let files = [FileResult {
            path: "dir,1/p:1.hujson".into(),
            source: Some(source.into()),
            diagnostics: vec![diagnostic],
            failed: false,
        }];
        assert_eq!(
            github_commands(&files),
            "::warning file=dir%2C1/p%3A1.hujson,line=2,col=14,endLine=2,endColumn=23,\
             title=TP009::group `group:a` has 100%25 no members, none%0Ahelp: add members:%0Aor remove it\n"
        );
    }

    #[test]
    fn infos_are_notices_and_unlocated_errors_name_only_the_file() {
        let files = [FileResult {
            path: "x.hujson".into(),
            source: None,
            diagnostics: vec![
                Diagnostic {
                    code: "IO",
                    severity: Severity::Error,
                    message: "cannot read `x.hujson`\r".into(),
                    labels: Vec::new(),
                    help: None,
                },
                Diagnostic::new("TP005", Severity::Info, "i", Span::new(0, 1)),
            ],
            failed: true,
        }];
        assert_eq!(
            github_commands(&files),
            "::error file=x.hujson,title=IO::cannot read `x.hujson`%0D\n\
             ::notice file=x.hujson,line=1,col=1,endLine=1,endColumn=1,title=TP005::i\n"
        );
    }
}
