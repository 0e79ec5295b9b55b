//! `--inventory FILE` (repeatable) and `--assume-node IDENTITY` for every command.

use std::io::{self, Write};
use std::path::PathBuf;

use tailpolicy::Inventory;

use super::{display_path, read_text, use_color};
use crate::render::{FileResult, HumanRenderer, write_human_diagnostics};

/// Reads every file, merges them in order and adds the assumed nodes. `None` when no file
/// and no assumed node is given. Warnings go to `warn`; a failure is the file to report.
pub fn load_inventories(
    files: &[PathBuf],
    assume: &[String],
    materialize: bool,
    warn: &mut impl Write,
) -> Result<Option<Inventory>, FileResult> {
    if files.is_empty() && assume.is_empty() {
        return Ok(None);
    }
    let mut merged: Option<Inventory> = None;
    for path in files {
        let display = display_path(path);
        let text = read_text(path, &display, "inventory ")?;
        let read = match Inventory::read(&text) {
            Ok(read) => read,
            Err(diagnostic) => {
                return Err(FileResult {
                    path: display,
                    source: Some(text),
                    diagnostics: vec![diagnostic],
                    failed: true,
                });
            }
        };
        if !read.warnings.is_empty() {
            let file = FileResult {
                path: display,
                source: Some(text),
                diagnostics: read.warnings,
                failed: false,
            };
            // Warnings are advice; a closed stderr must not stop the command.
            let _ = write_human_diagnostics(
                &HumanRenderer::new(use_color(&io::stderr())),
                std::slice::from_ref(&file),
                &mut *warn,
            );
        }
        match &mut merged {
            None => merged = Some(read.inventory),
            Some(inventory) => inventory.merge(read.inventory),
        }
    }
    let mut inventory = merged.unwrap_or_default();
    for identity in assume {
        if !inventory.assume_nodes.contains(identity) {
            inventory.assume_nodes.push(identity.clone());
        }
    }
    let problem = |message: String| FileResult {
        path: "<merged inventory>".to_owned(),
        source: None,
        diagnostics: vec![tailpolicy::Diagnostic {
            code: tailpolicy::inventory::INVALID_INVENTORY,
            severity: tailpolicy::Severity::Error,
            message,
            labels: Vec::new(),
            help: None,
        }],
        failed: true,
    };
    if files.len() > 1 {
        inventory.check().map_err(|d| problem(d.message))?;
    }
    if materialize {
        inventory.add_assumed_nodes().map_err(problem)?;
    }
    Ok(Some(inventory))
}
