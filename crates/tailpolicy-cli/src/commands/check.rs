//! `tailpolicy check POLICY... [--inventory FILE] [--format human|json]`.
//!
//! Reads every file, runs [`tailpolicy::check`] on each policy and writes one report. A file
//! that cannot be read does not stop the run: it becomes a diagnostic with code [`IO`] and
//! the run exits with [`ExitStatus::Failure`] after the other files have been checked.

use std::io::{self, IsTerminal, Read, Write};
use std::path::Path;

use tailpolicy::{CheckOptions, Diagnostic, Inventory, Span};

use crate::exit::ExitStatus;
use crate::render::{FileResult, HumanRenderer, JsonReport, Summary};
use crate::{CheckArgs, Format};

/// Code of the diagnostic for a file that cannot be read or is not UTF-8.
pub const IO: &str = "IO";
/// Code of the diagnostic for an inventory file that is not a valid inventory.
pub const INVENTORY: &str = "INVENTORY";

/// The path that means standard input.
const STDIN: &str = "-";

pub fn run(args: &CheckArgs, out: &mut impl Write) -> io::Result<ExitStatus> {
    let inventory = match &args.inventory {
        Some(path) => match load_inventory(path) {
            Ok(inventory) => Some(inventory),
            Err(failure) => return report_inventory_failure(args.format, &failure, out),
        },
        None => None,
    };
    let options = CheckOptions {
        inventory: inventory.as_ref(),
        ..CheckOptions::default()
    };
    let files: Vec<FileResult> = args
        .policies
        .iter()
        .map(|path| check_policy(path, &options))
        .collect();

    match args.format {
        Format::Human => {
            let renderer = HumanRenderer::new(use_color());
            write_human_diagnostics(&renderer, &files, out)?;
            writeln!(out, "{}", Summary::of(&files).line())?;
        }
        Format::Json => write_json(&files, out)?,
    }
    Ok(status(&files))
}

fn check_policy(path: &Path, options: &CheckOptions<'_>) -> FileResult {
    let display = display_path(path);
    match read_text(path, &display, "") {
        Ok(text) => {
            let report = tailpolicy::check(&text, options);
            FileResult {
                path: display,
                source: Some(text),
                diagnostics: report.diagnostics,
                failed: false,
            }
        }
        Err(failure) => failure,
    }
}

fn load_inventory(path: &Path) -> Result<Inventory, FileResult> {
    let display = display_path(path);
    let text = read_text(path, &display, "inventory ")?;
    Inventory::from_json(&text).map_err(|err| {
        let offset = json_error_offset(&text, err.line(), err.column());
        let message = err.to_string();
        // serde_json appends " at line L column C"; the location is shown separately.
        let message = match message.rsplit_once(" at line ") {
            Some((head, _)) if err.line() > 0 => head.to_owned(),
            _ => message,
        };
        let diagnostic = Diagnostic::error(
            INVENTORY,
            format!("invalid inventory: {message}"),
            Span::at(offset),
        )
        .with_help(
            "an inventory is a JSON object `{\"users\": [...], \"nodes\": [...], \"tailnet\": {...}}`",
        );
        FileResult {
            path: display,
            source: Some(text),
            diagnostics: vec![diagnostic],
            failed: true,
        }
    })
}

/// Reads a whole file (or standard input) as UTF-8. On failure, the result to report
/// instead; `what` names the kind of file in messages (`"inventory "` or `""`).
fn read_text(path: &Path, display: &str, what: &str) -> Result<String, FileResult> {
    let bytes = if path.as_os_str() == STDIN {
        let mut bytes = Vec::new();
        io::stdin().lock().read_to_end(&mut bytes).map(|_| bytes)
    } else {
        std::fs::read(path)
    };
    let bytes = bytes.map_err(|err| FileResult {
        path: display.to_owned(),
        source: None,
        diagnostics: vec![Diagnostic {
            code: IO,
            severity: tailpolicy::Severity::Error,
            message: format!("cannot read {what}`{display}`: {}", describe_io_error(&err)),
            labels: Vec::new(),
            help: None,
        }],
        failed: true,
    })?;
    String::from_utf8(bytes).map_err(|err| {
        let valid_up_to = err.utf8_error().valid_up_to();
        // The lossy text keeps the valid prefix byte for byte, so offsets into it hold; the
        // first invalid sequence becomes U+FFFD (3 bytes).
        let text = String::from_utf8_lossy(err.as_bytes()).into_owned();
        let start = u32::try_from(valid_up_to).unwrap_or(u32::MAX);
        let end = start.saturating_add(3);
        let diagnostic = Diagnostic::error(
            IO,
            format!("{what}`{display}` is not valid UTF-8"),
            Span::new(start, end),
        )
        .with_label_message("invalid byte sequence")
        .with_help("save the file as UTF-8 text");
        FileResult {
            path: display.to_owned(),
            source: Some(text),
            diagnostics: vec![diagnostic],
            failed: true,
        }
    })
}

fn describe_io_error(err: &io::Error) -> String {
    match err.kind() {
        io::ErrorKind::NotFound => "no such file or directory".to_owned(),
        io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        io::ErrorKind::IsADirectory => "it is a directory".to_owned(),
        _ => err.to_string(),
    }
}

/// The byte offset serde_json means by a 1-based line and a 1-based byte column (the
/// offending byte, or the end of the text).
fn json_error_offset(text: &str, line: usize, column: usize) -> u32 {
    let line_start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let offset = (line_start + column.saturating_sub(1)).min(text.len());
    u32::try_from(offset).unwrap_or(u32::MAX)
}

fn display_path(path: &Path) -> String {
    if path.as_os_str() == STDIN {
        "<stdin>".to_owned()
    } else {
        path.display().to_string()
    }
}

fn report_inventory_failure(
    format: Format,
    failure: &FileResult,
    out: &mut impl Write,
) -> io::Result<ExitStatus> {
    let files = std::slice::from_ref(failure);
    match format {
        Format::Human => {
            write_human_diagnostics(&HumanRenderer::new(use_color()), files, out)?;
            writeln!(out, "no policy checked: the inventory could not be loaded")?;
        }
        // The object still describes what went wrong: one entry, for the inventory file.
        Format::Json => write_json(files, out)?,
    }
    Ok(ExitStatus::Failure)
}

fn write_human_diagnostics(
    renderer: &HumanRenderer,
    files: &[FileResult],
    out: &mut impl Write,
) -> io::Result<()> {
    for file in files {
        for diagnostic in &file.diagnostics {
            let text = renderer.diagnostic(&file.path, file.source.as_deref(), diagnostic);
            writeln!(out, "{text}\n")?;
        }
    }
    Ok(())
}

fn write_json(files: &[FileResult], out: &mut impl Write) -> io::Result<()> {
    serde_json::to_writer(&mut *out, &JsonReport::new(files))?;
    writeln!(out)
}

/// Failure beats policy errors beats success.
fn status(files: &[FileResult]) -> ExitStatus {
    files
        .iter()
        .map(|file| {
            if file.failed {
                ExitStatus::Failure
            } else if file.is_valid() {
                ExitStatus::Success
            } else {
                ExitStatus::PolicyErrors
            }
        })
        .max()
        .unwrap_or(ExitStatus::Success)
}

/// Colour only on a terminal, and never when `NO_COLOR` is set to something
/// (<https://no-color.org>).
fn use_color() -> bool {
    io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_error_offsets_follow_serde_json() {
        let text = "{\n  \"users\": [],\n  \"nodes\": 1\n}";
        let err = Inventory::from_json(text).unwrap_err();
        let offset = json_error_offset(text, err.line(), err.column()) as usize;
        assert!(text[..offset].ends_with("\"nodes\": "), "{offset}");
        assert_eq!(json_error_offset("ab", 9, 9), 2);
        assert_eq!(json_error_offset("", 0, 0), 0);
    }

    #[test]
    fn status_takes_the_worst_file() {
        let file = |failed, diagnostics| FileResult {
            path: "p".into(),
            source: None,
            diagnostics,
            failed,
        };
        let error = Diagnostic::error("E001", "e", Span::new(0, 1));
        assert_eq!(status(&[]), ExitStatus::Success);
        assert_eq!(status(&[file(false, vec![])]), ExitStatus::Success);
        assert_eq!(
            status(&[file(false, vec![]), file(false, vec![error.clone()])]),
            ExitStatus::PolicyErrors
        );
        assert_eq!(
            status(&[file(false, vec![error.clone()]), file(true, vec![error])]),
            ExitStatus::Failure
        );
    }
}
