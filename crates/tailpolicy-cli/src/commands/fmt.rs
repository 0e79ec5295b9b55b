//! `tailpolicy fmt [--check|--write] POLICY...`.
//!
//! Formats policies with [`tailpolicy::format`]. The formatted text (default) and diffs
//! (`--check`) go to stdout, as does the list of rewritten files (`--write`); diagnostics (a
//! policy that does not parse, a file that cannot be read or written) go to stderr, so that
//! `tailpolicy fmt policy.hujson > formatted.hujson` never mixes the two.
//!
//! `--write` never touches a file that does not parse, nor one the user may not write: one
//! without any write permission bit (checked on the mode itself, so that root, whom the system
//! lets write anything, is refused too) or that the system will not open for writing. It
//! replaces the others atomically: the new text goes to a temporary file in the same
//! directory, is flushed to disk, takes the old file's permissions (and owner, where allowed),
//! and is renamed over the old file. A symbolic link is followed: the file it points to is
//! replaced, the link stays.
//!
//! Line endings become `\n`, as `hujson.Format` makes them; `--write` says so for a file
//! that had `\r\n` line endings.

use std::fs;
use std::io::{self, Write};
use std::path::Path;

use tailpolicy::{Diagnostic, FormatError, Severity};

use crate::FmtArgs;
use crate::exit::ExitStatus;
use crate::input::{IO, STDIN, describe_io_error, display_path, read_text, use_color};
use crate::render::HumanRenderer;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Print,
    Check,
    Write,
}

/// What became of one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Formatted already, printed, or rewritten.
    Done,
    /// `--check` found it not formatted.
    Unformatted,
    /// It does not parse.
    SyntaxError,
    /// It could not be read or written.
    Failed,
}

impl Outcome {
    fn status(self) -> ExitStatus {
        match self {
            Outcome::Done => ExitStatus::Success,
            Outcome::Unformatted | Outcome::SyntaxError => ExitStatus::PolicyErrors,
            Outcome::Failed => ExitStatus::Failure,
        }
    }
}

pub fn run(args: &FmtArgs, out: &mut impl Write, err: &mut impl Write) -> io::Result<ExitStatus> {
    let mode = match (args.check, args.write) {
        (true, _) => Mode::Check,
        (false, true) => Mode::Write,
        (false, false) => Mode::Print,
    };
    if mode == Mode::Print && args.policies.len() != 1 {
        writeln!(
            err,
            "error: `tailpolicy fmt` prints one file; use `--check` or `--write` for several"
        )?;
        return Ok(ExitStatus::Failure);
    }
    if mode == Mode::Write && args.policies.iter().any(|p| p.as_os_str() == STDIN) {
        writeln!(
            err,
            "error: `--write` cannot rewrite standard input; drop `--write` to print the result"
        )?;
        return Ok(ExitStatus::Failure);
    }

    let renderer = HumanRenderer::new(use_color(&io::stderr()));
    let mut status = ExitStatus::Success;
    let mut unformatted = 0;
    for path in &args.policies {
        let outcome = format_file(path, mode, &renderer, out, err)?;
        if outcome == Outcome::Unformatted {
            unformatted += 1;
        }
        status = status.max(outcome.status());
    }
    if unformatted > 0 {
        let files = if unformatted == 1 { "file" } else { "files" };
        writeln!(
            err,
            "{unformatted} {files} not formatted; `tailpolicy fmt --write` formats them"
        )?;
    }
    Ok(status)
}

fn format_file(
    path: &Path,
    mode: Mode,
    renderer: &HumanRenderer,
    out: &mut impl Write,
    err: &mut impl Write,
) -> io::Result<Outcome> {
    let display = display_path(path);
    let text = match read_text(path, &display, "") {
        Ok(text) => text,
        Err(failure) => {
            for diagnostic in &failure.diagnostics {
                let shown = renderer.diagnostic(&display, failure.source.as_deref(), diagnostic);
                writeln!(err, "{shown}\n")?;
            }
            return Ok(Outcome::Failed);
        }
    };
    let formatted = match tailpolicy::format(&text) {
        Ok(formatted) => formatted,
        Err(FormatError::Syntax(diagnostics)) => {
            for diagnostic in &diagnostics {
                let shown = renderer.diagnostic(&display, Some(&text), diagnostic);
                writeln!(err, "{shown}\n")?;
            }
            return Ok(Outcome::SyntaxError);
        }
        Err(error @ FormatError::Internal(_)) => {
            writeln!(err, "error: `{display}`: {error}")?;
            return Ok(Outcome::Failed);
        }
    };
    match mode {
        Mode::Print => {
            out.write_all(formatted.as_bytes())?;
            Ok(Outcome::Done)
        }
        Mode::Check if formatted != text => {
            let diff = similar::TextDiff::from_lines(&text, &formatted);
            let old = format!("{display}.orig");
            write!(out, "{}", diff.unified_diff().header(&old, &display))?;
            Ok(Outcome::Unformatted)
        }
        Mode::Write if formatted != text => match write_atomically(path, &formatted) {
            Ok(()) => {
                let note = if text.contains("\r\n") {
                    " (line endings changed from CRLF to LF)"
                } else {
                    ""
                };
                writeln!(out, "formatted {display}{note}")?;
                Ok(Outcome::Done)
            }
            Err(error) => {
                let (reason, help) = match &error {
                    WriteError::ReadOnly(mode) => (
                        format!("the file is read-only (mode {mode:04o})"),
                        "the file was left as it was; make it writable (`chmod u+w`) to format it in place, or drop `--write` to print the result",
                    ),
                    WriteError::Io(error) => {
                        (describe_io_error(error), "the file was left as it was")
                    }
                };
                let diagnostic = Diagnostic {
                    code: IO,
                    severity: Severity::Error,
                    message: format!("cannot write `{display}`: {reason}"),
                    labels: Vec::new(),
                    help: Some(help.to_owned()),
                };
                writeln!(
                    err,
                    "{}\n",
                    renderer.diagnostic(&display, None, &diagnostic)
                )?;
                Ok(Outcome::Failed)
            }
        },
        Mode::Check | Mode::Write => Ok(Outcome::Done),
    }
}

/// Why a file was not replaced.
enum WriteError {
    /// No write permission bit is set (the mode's permission bits).
    ReadOnly(u32),
    Io(io::Error),
}

impl From<io::Error> for WriteError {
    fn from(error: io::Error) -> Self {
        WriteError::Io(error)
    }
}

/// The permission bits, for messages.
#[cfg(unix)]
fn mode_bits(metadata: &fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    metadata.permissions().mode() & 0o7777
}

#[cfg(not(unix))]
fn mode_bits(_metadata: &fs::Metadata) -> u32 {
    0o444
}

/// Replaces the file at `path` (or the file a symbolic link there points to) with `text`,
/// so that a reader sees either the old or the new contents, never a mix. Refuses a file the
/// user may not write, although renaming over it would work.
fn write_atomically(path: &Path, text: &str) -> Result<(), WriteError> {
    let target = fs::canonicalize(path)?;
    let metadata = fs::metadata(&target)?;
    // The mode bits themselves: root passes the system's own check below.
    if metadata.permissions().readonly() {
        return Err(WriteError::ReadOnly(mode_bits(&metadata)));
    }
    // The system's verdict for this user (owner, groups, ACLs); opening changes nothing.
    fs::OpenOptions::new().write(true).open(&target)?;
    let dir = target
        .parent()
        .ok_or_else(|| io::Error::other("the file has no parent directory"))?;
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut temp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(dir)?;
    temp.write_all(text.as_bytes())?;
    keep_owner(temp.as_file(), &metadata);
    temp.as_file().set_permissions(metadata.permissions())?;
    temp.as_file().sync_all()?;
    temp.persist(&target).map_err(|e| e.error)?;
    sync_dir(dir);
    Ok(())
}

/// Gives the new file the old one's owner and group where the system allows it (it does
/// for root, and for the group when the user belongs to it); otherwise they stay the
/// writer's.
#[cfg(unix)]
fn keep_owner(file: &fs::File, metadata: &fs::Metadata) {
    use std::os::unix::fs::MetadataExt;
    use std::os::unix::fs::fchown;
    if fchown(file, Some(metadata.uid()), Some(metadata.gid())).is_err() {
        let _ = fchown(file, None, Some(metadata.gid()));
    }
}

#[cfg(not(unix))]
fn keep_owner(_file: &fs::File, _metadata: &fs::Metadata) {}

/// Makes the rename itself durable. Best effort: not every system can open a directory.
fn sync_dir(dir: &Path) {
    if let Ok(handle) = fs::File::open(dir) {
        let _ = handle.sync_all();
    }
}
