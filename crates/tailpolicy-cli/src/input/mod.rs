//! The CLI's input: files and standard input read as UTF-8 (with the help a UTF-16 file
//! needs), paths as shown, colour decided per stream, lint configuration (`config.rs`),
//! inventories (`inventory.rs`) and a valid policy for the simulating commands
//! (`policy.rs`). Commands call these and the writers of `render/`; nothing here prints a
//! report.

pub mod config;
pub mod inventory;
pub mod policy;

use std::io::{self, IsTerminal, Read};
use std::path::Path;

use tailpolicy::{Diagnostic, Span};

use crate::render::FileResult;

/// Code of the diagnostic for a file that cannot be read or is not UTF-8.
pub use tailpolicy::codes::IO;

/// The path that means standard input.
pub const STDIN: &str = "-";

/// Reads a whole file (or standard input) as UTF-8. On failure, the result to report
/// instead; `what` names the kind of file in messages (`"inventory "` or `""`).
pub fn read_text(path: &Path, display: &str, what: &str) -> Result<String, FileResult> {
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
    if let Some(encoding) = utf16_encoding(&bytes) {
        return Err(FileResult {
            path: display.to_owned(),
            source: None,
            diagnostics: vec![Diagnostic {
                code: IO,
                severity: tailpolicy::Severity::Error,
                message: format!("{what}`{display}` is UTF-16 text, not UTF-8"),
                labels: Vec::new(),
                help: Some(format!(
                    "convert it to UTF-8 (`iconv -f {encoding} -t UTF-8 {display} > utf8.hujson`, \
                     or save it as UTF-8 in the editor)"
                )),
            }],
            failed: true,
        });
    }
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

/// The encoding name for `iconv -f` when `bytes` look like UTF-16: `UTF-16` after a byte
/// order mark (iconv drops it), else `UTF-16LE` / `UTF-16BE` from a NUL beside an ASCII
/// byte at the start (Windows tools write UTF-16 unasked; UTF-8 text never starts with NUL).
fn utf16_encoding(bytes: &[u8]) -> Option<&'static str> {
    match bytes {
        [0xFF, 0xFE, ..] | [0xFE, 0xFF, ..] => Some("UTF-16"),
        [first, 0, ..] if *first != 0 && first.is_ascii() => Some("UTF-16LE"),
        [0, second, ..] if *second != 0 && second.is_ascii() => Some("UTF-16BE"),
        _ => None,
    }
}

pub fn describe_io_error(err: &io::Error) -> String {
    match err.kind() {
        io::ErrorKind::NotFound => "no such file or directory".to_owned(),
        io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        io::ErrorKind::IsADirectory => "it is a directory".to_owned(),
        _ => err.to_string(),
    }
}

pub fn display_path(path: &Path) -> String {
    if path.as_os_str() == STDIN {
        "<stdin>".to_owned()
    } else {
        path.display().to_string()
    }
}

/// Colour only when `stream`, the one the text goes to, is a terminal (`query ... 2>log`
/// from a terminal must not put escape codes in the log), and never when `NO_COLOR` is set
/// to something (<https://no-color.org>).
pub fn use_color(stream: &impl IsTerminal) -> bool {
    stream.is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}
