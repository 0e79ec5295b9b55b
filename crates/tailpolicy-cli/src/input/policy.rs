//! Loading a policy (and an optional inventory) for the commands that simulate access: an
//! invalid policy is reported like `check` does, on standard error, and is a usage error.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use tailpolicy::model::Policy;
use tailpolicy::{CheckOptions, Inventory, LineIndex, PositionEncoding, Span};

use super::inventory::load_inventories;
use super::{display_path, read_text, use_color};
use crate::exit::ExitStatus;
use crate::render::{FileResult, HumanRenderer, write_human_diagnostics};

/// How the CLI counts columns: characters, as terminals and rustc do.
pub const COLUMNS: PositionEncoding = PositionEncoding::Chars;

/// A valid policy with its source text.
pub struct Loaded {
    pub text: String,
    pub policy: Policy,
    pub inventory: Option<Inventory>,
}

impl Loaded {
    /// The text with its line index, built once per command rather than per position.
    pub fn source(&self) -> Source<'_> {
        Source::new(&self.text)
    }
}

/// A policy's text and line index.
pub struct Source<'a> {
    text: &'a str,
    lines: LineIndex<'a>,
}

impl<'a> Source<'a> {
    pub fn new(text: &'a str) -> Self {
        Source {
            text,
            lines: LineIndex::new(text),
        }
    }

    pub fn text(&self) -> &'a str {
        self.text
    }

    /// The line index, for the core's output types (columns in characters: [`COLUMNS`]).
    pub fn lines(&self) -> &LineIndex<'a> {
        &self.lines
    }

    /// 1-based line and column (in characters) of a span's start.
    pub fn position(&self, span: Span) -> (u32, u32) {
        let (start, _) = self.lines.span(span, COLUMNS);
        (start.line, start.column)
    }
}

/// [`load`] with the `--inventory` / `--assume-node` options of `query`, `reach` and `test`.
pub fn load_for(
    policy: &Path,
    inventory: &crate::InventoryArgs,
    err: &mut impl Write,
) -> io::Result<Result<Loaded, ExitStatus>> {
    load(policy, &inventory.files, &inventory.assume_node, err)
}

/// Loads and validates; on failure writes the diagnostics to `err` and returns the status.
pub fn load(
    policy: &Path,
    inventory: &[PathBuf],
    assume: &[String],
    err: &mut impl Write,
) -> io::Result<Result<Loaded, ExitStatus>> {
    let inventory = match load_inventories(inventory, assume, true, err) {
        Ok(inventory) => inventory,
        Err(failure) => {
            report(&failure, err)?;
            return Ok(Err(ExitStatus::Failure));
        }
    };
    let display = display_path(policy);
    let text = match read_text(policy, &display, "") {
        Ok(text) => text,
        Err(failure) => {
            report(&failure, err)?;
            return Ok(Err(ExitStatus::Failure));
        }
    };
    let options = CheckOptions {
        inventory: inventory.as_ref(),
        ..CheckOptions::default()
    };
    match tailpolicy::parse_valid(&text, &options) {
        Ok(policy) => Ok(Ok(Loaded {
            text,
            policy,
            inventory,
        })),
        Err(report_) => {
            let failure = FileResult {
                path: display,
                source: Some(text),
                diagnostics: report_
                    .diagnostics
                    .into_iter()
                    .filter(|d| d.is_error())
                    .collect(),
                failed: false,
            };
            report(&failure, err)?;
            writeln!(
                err,
                "the policy is not valid; fix the errors above first (`tailpolicy check`)"
            )?;
            Ok(Err(ExitStatus::Failure))
        }
    }
}

fn report(failure: &FileResult, err: &mut impl Write) -> io::Result<()> {
    write_human_diagnostics(
        &HumanRenderer::new(use_color(&io::stderr())),
        std::slice::from_ref(failure),
        err,
    )
}
