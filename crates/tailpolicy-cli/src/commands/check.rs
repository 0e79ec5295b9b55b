//! `tailpolicy check POLICY... [--inventory FILE] [--config FILE]
//! [--format human|json|sarif|github] [--deny-warnings]`.
//!
//! Reads every file, runs [`tailpolicy::check`] on each policy and writes one report. A file
//! that cannot be read does not stop the run: it becomes a diagnostic with code [`IO`] and
//! the run exits with [`ExitStatus::Failure`] after the other files have been checked.

use std::collections::HashMap;
use std::io::{self, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use tailpolicy::{CheckOptions, Diagnostic, LintConfig, Span};

use crate::exit::ExitStatus;
use crate::render::{FileResult, HumanRenderer, JsonReport, Summary, github_commands, sarif_log};
use crate::{CheckArgs, Format};

/// Code of the diagnostic for a file that cannot be read or is not UTF-8.
pub const IO: &str = "IO";

/// The path that means standard input.
pub(crate) const STDIN: &str = "-";

pub fn run(args: &CheckArgs, out: &mut impl Write) -> io::Result<ExitStatus> {
    let inventory = match super::inventory::load_inventories(
        &args.inventory.files,
        &args.inventory.assume_node,
        true,
        &mut io::stderr(),
    ) {
        Ok(inventory) => inventory,
        Err(failure) => {
            return report_failure(
                args.format,
                &failure,
                "no policy checked: the inventory could not be loaded",
                out,
            );
        }
    };
    let configs = match lint_configs(args) {
        Ok(configs) => configs,
        Err(failure) => {
            return report_failure(
                args.format,
                &failure,
                "no policy checked: the configuration could not be loaded",
                out,
            );
        }
    };
    let mut files: Vec<FileResult> = Vec::with_capacity(args.policies.len());
    for (path, config) in args.policies.iter().zip(&configs) {
        // Without `--inventory`, the inventory named by the policy's `tailpolicy.toml`.
        let named = match config.as_deref() {
            Some(c) if inventory.is_none() && !c.inventory.is_empty() => {
                let paths: Vec<PathBuf> = c.inventory.iter().map(PathBuf::from).collect();
                match super::inventory::load_inventories(
                    &paths,
                    &args.inventory.assume_node,
                    true,
                    &mut io::stderr(),
                ) {
                    Ok(named) => named,
                    Err(failure) => {
                        files.push(failure);
                        continue;
                    }
                }
            }
            _ => None,
        };
        let options = CheckOptions {
            inventory: named.as_ref().or(inventory.as_ref()),
            config: config.as_deref(),
        };
        files.push(check_policy(path, &options));
    }

    write_report(args.format, &files, None, out)?;
    let status = status(&files, args.deny_warnings);
    // The process ends right after: freeing every diagnostic and source text one by one
    // would only cost time (the OS takes the memory back at once).
    std::mem::forget(files);
    Ok(status)
}

/// The name of the configuration file looked for next to policies.
pub const CONFIG_FILE: &str = "tailpolicy.toml";

/// The lint configuration of each policy, in order: the `--config` file for all, or the
/// nearest `tailpolicy.toml` of each (`None`: defaults). A file that cannot be read or
/// parsed stops the run.
fn lint_configs(args: &CheckArgs) -> Result<Vec<Option<Rc<LintConfig>>>, FileResult> {
    if let Some(path) = &args.config {
        let config = Rc::new(load_config(path, display_path(path))?);
        return Ok(args
            .policies
            .iter()
            .map(|_| Some(Rc::clone(&config)))
            .collect());
    }
    let mut loaded: HashMap<PathBuf, Rc<LintConfig>> = HashMap::new();
    let mut configs = Vec::with_capacity(args.policies.len());
    for policy in &args.policies {
        let Some(found) = discover_config(policy) else {
            configs.push(None);
            continue;
        };
        if let Some(config) = loaded.get(&found) {
            configs.push(Some(Rc::clone(config)));
            continue;
        }
        let config = Rc::new(load_config(&found, shown_path(&found))?);
        loaded.insert(found, Rc::clone(&config));
        configs.push(Some(config));
    }
    Ok(configs)
}

/// The nearest `tailpolicy.toml`: in the policy's directory (the current one for standard
/// input), then in each parent, up to and including the first directory holding `.git`.
fn discover_config(policy: &Path) -> Option<PathBuf> {
    let dir = if policy.as_os_str() == STDIN {
        Path::new(".")
    } else {
        policy
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
    };
    let dir = std::path::absolute(dir).ok()?;
    for dir in dir.ancestors() {
        let candidate = dir.join(CONFIG_FILE);
        if candidate.is_file() {
            return Some(candidate);
        }
        if dir.join(".git").exists() {
            return None;
        }
    }
    None
}

/// A discovered path, relative to the current directory when it lies below it.
fn shown_path(path: &Path) -> String {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| path.to_path_buf())
        .display()
        .to_string()
}

fn load_config(path: &Path, display: String) -> Result<LintConfig, FileResult> {
    let text = read_text(path, &display, "configuration ")?;
    let mut config = LintConfig::from_toml_str(&text).map_err(|diagnostics| FileResult {
        path: display,
        source: Some(text),
        diagnostics,
        failed: true,
    })?;
    // Inventory paths are relative to the configuration file.
    let dir = path.parent().unwrap_or(Path::new(""));
    for file in &mut config.inventory {
        *file = dir.join(&*file).display().to_string();
    }
    Ok(config)
}

fn check_policy(path: &Path, options: &CheckOptions<'_>) -> FileResult {
    let display = display_path(path);
    match read_text(path, &display, "") {
        Ok(text) => {
            // `check` that also hands back the parsed tree and the typed policy: forgetting
            // them spares the process a teardown of every value just before it exits.
            let (tree, policy, report) = tailpolicy::api::load_with_tree(&text, options);
            std::mem::forget((tree, policy));
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

/// Reads a whole file (or standard input) as UTF-8. On failure, the result to report
/// instead; `what` names the kind of file in messages (`"inventory "` or `""`).
pub(crate) fn read_text(path: &Path, display: &str, what: &str) -> Result<String, FileResult> {
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

pub(crate) fn describe_io_error(err: &io::Error) -> String {
    match err.kind() {
        io::ErrorKind::NotFound => "no such file or directory".to_owned(),
        io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        io::ErrorKind::IsADirectory => "it is a directory".to_owned(),
        _ => err.to_string(),
    }
}

pub(crate) fn display_path(path: &Path) -> String {
    if path.as_os_str() == STDIN {
        "<stdin>".to_owned()
    } else {
        path.display().to_string()
    }
}

/// Reports a file that stopped the run before any policy was checked.
fn report_failure(
    format: Format,
    failure: &FileResult,
    note: &str,
    out: &mut impl Write,
) -> io::Result<ExitStatus> {
    write_report(format, std::slice::from_ref(failure), Some(note), out)?;
    Ok(ExitStatus::Failure)
}

/// Writes the whole report in `format`. `closing` replaces the summary line of the text
/// formats.
fn write_report(
    format: Format,
    files: &[FileResult],
    closing: Option<&str>,
    out: &mut impl Write,
) -> io::Result<()> {
    let closing = closing.map_or_else(|| Summary::of(files).line(), str::to_owned);
    // Serializers write in small pieces; standard output would scan each for a newline.
    let mut out = io::BufWriter::with_capacity(1 << 16, out);
    write_formatted(format, files, &closing, &mut out)?;
    out.flush()
}

fn write_formatted(
    format: Format,
    files: &[FileResult],
    closing: &str,
    out: &mut impl Write,
) -> io::Result<()> {
    match format {
        Format::Human => {
            let renderer = HumanRenderer::new(use_color(&io::stdout()));
            write_human_diagnostics(&renderer, files, out)?;
            writeln!(out, "{closing}")
        }
        Format::Json => {
            serde_json::to_writer(&mut *out, &JsonReport::new(files))?;
            writeln!(out)
        }
        Format::Sarif => {
            serde_json::to_writer_pretty(&mut *out, &sarif_log(files))?;
            writeln!(out)
        }
        Format::Github => {
            out.write_all(github_commands(files).as_bytes())?;
            writeln!(out, "{closing}")
        }
    }
}

/// Failure beats policy errors beats success; with `deny_warnings`, a warning counts as
/// a policy error.
fn status(files: &[FileResult], deny_warnings: bool) -> ExitStatus {
    files
        .iter()
        .map(|file| {
            if file.failed {
                ExitStatus::Failure
            } else if !file.is_valid() || (deny_warnings && file.has_warnings()) {
                ExitStatus::PolicyErrors
            } else {
                ExitStatus::Success
            }
        })
        .max()
        .unwrap_or(ExitStatus::Success)
}

/// Colour only when `stream`, the one the text goes to, is a terminal (`query ... 2>log`
/// from a terminal must not put escape codes in the log), and never when `NO_COLOR` is set
/// to something (<https://no-color.org>).
pub(crate) fn use_color(stream: &impl IsTerminal) -> bool {
    stream.is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Writes every diagnostic of `files` as rustc-style text.
pub(crate) fn write_human_diagnostics(
    renderer: &HumanRenderer,
    files: &[FileResult],
    out: &mut impl Write,
) -> io::Result<()> {
    for file in files {
        renderer.write_file(file, out)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tailpolicy::Inventory;

    #[test]
    fn inventory_errors_point_at_the_offending_value() {
        let text = "{\n  \"users\": [],\n  \"nodes\": 1\n}";
        let diagnostic = Inventory::parse(text).unwrap_err();
        let offset = diagnostic.primary_span().start as usize;
        assert!(text[..offset].ends_with("\"nodes\": "), "{offset}");
        assert_eq!(diagnostic.code, "INVENTORY");
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
        let warning = Diagnostic::warning("TP004", "w", Span::new(0, 1));
        assert_eq!(status(&[], false), ExitStatus::Success);
        assert_eq!(status(&[file(false, vec![])], false), ExitStatus::Success);
        assert_eq!(
            status(
                &[file(false, vec![]), file(false, vec![error.clone()])],
                false
            ),
            ExitStatus::PolicyErrors
        );
        assert_eq!(
            status(
                &[file(false, vec![error.clone()]), file(true, vec![error])],
                false
            ),
            ExitStatus::Failure
        );
        let warned = [file(false, vec![warning])];
        assert_eq!(status(&warned, false), ExitStatus::Success);
        assert_eq!(status(&warned, true), ExitStatus::PolicyErrors);
    }
}
