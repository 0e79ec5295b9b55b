//! `tailpolicy check POLICY... [--inventory FILE] [--config FILE]
//! [--format human|json|sarif|github] [--deny-warnings]`.
//!
//! Reads every file, runs [`tailpolicy::check`] on each policy and writes one report. A file
//! that cannot be read does not stop the run: it becomes a diagnostic with code [`IO`] and
//! the run exits with [`ExitStatus::Failure`] after the other files have been checked.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use tailpolicy::CheckOptions;

use crate::exit::ExitStatus;
use crate::input::config::lint_configs;
use crate::input::inventory::load_inventories;
use crate::input::{display_path, read_text, use_color};
use crate::render::{FileResult, write_check_report};
use crate::{CheckArgs, Format};

pub fn run(args: &CheckArgs, out: &mut impl Write) -> io::Result<ExitStatus> {
    let inventory = match load_inventories(
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
    let configs = match lint_configs(args.config.as_deref(), &args.policies) {
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
                match load_inventories(&paths, &args.inventory.assume_node, true, &mut io::stderr())
                {
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

/// Writes the report to standard output (`out`), in colour when that is a terminal.
fn write_report(
    format: Format,
    files: &[FileResult],
    closing: Option<&str>,
    out: &mut impl Write,
) -> io::Result<()> {
    write_check_report(format, files, closing, use_color(&io::stdout()), out)
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

#[cfg(test)]
mod tests {
    use super::*;
    use tailpolicy::{Diagnostic, Inventory, Span};

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
