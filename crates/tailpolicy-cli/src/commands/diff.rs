//! `tailpolicy diff OLD NEW`: the access a policy change adds and removes (docs/diff.md).

use std::io::{self, Write};
use std::path::Path;
use std::process::Command;

use tailpolicy::diff::Diff;
use tailpolicy::model::Policy;
use tailpolicy::{CheckOptions, Inventory};

use crate::exit::ExitStatus;
use crate::input::inventory::load_inventories;
use crate::input::{display_path, read_text, use_color};
use crate::render::diff::{Sides, write_human, write_json, write_markdown};
use crate::render::write_human_diagnostics;
use crate::render::{FileResult, HumanRenderer};
use crate::{DiffArgs, DiffFormat, FailOn};

/// One side of the comparison, valid.
struct Side {
    name: String,
    text: String,
    policy: Policy,
}

pub fn run(args: &DiffArgs, out: &mut impl Write, err: &mut impl Write) -> io::Result<ExitStatus> {
    let inventory = match load_inventories(
        &args.inventory.files,
        &args.inventory.assume_node,
        true,
        err,
    ) {
        Ok(inventory) => inventory,
        Err(failure) => {
            report(&failure, err)?;
            return Ok(ExitStatus::Failure);
        }
    };
    let old = load_side("old", &args.old, inventory.as_ref(), err)?;
    let new = load_side("new", &args.new, inventory.as_ref(), err)?;
    let (Some(old), Some(new)) = (old, new) else {
        return Ok(ExitStatus::Failure);
    };
    let extra: Vec<&str> = args.no_new_access_for.iter().map(String::as_str).collect();
    let (tailnet, symbolic) = match &inventory {
        Some(inventory) => (std::borrow::Cow::Borrowed(inventory), false),
        None => (
            std::borrow::Cow::Owned(tailpolicy::diff::symbolic_tailnet(
                &old.policy,
                &new.policy,
                &extra,
            )),
            true,
        ),
    };
    let diff = tailpolicy::diff::diff_on(&old.policy, &new.policy, &tailnet, symbolic);
    let sides = Sides {
        old_name: &old.name,
        new_name: &new.name,
        old: tailpolicy::LineIndex::new(&old.text),
        new: tailpolicy::LineIndex::new(&new.text),
        encoding: tailpolicy::PositionEncoding::Chars,
    };
    match args.format {
        DiffFormat::Json => write_json(&sides, &diff, out)?,
        DiffFormat::Human => write_human(&sides, &diff, out)?,
        DiffFormat::Markdown => write_markdown(&sides, &diff, out)?,
    }
    gate(args, &diff, &new.policy, &tailnet, err)
}

/// The exit status the gates give.
fn gate(
    args: &DiffArgs,
    diff: &Diff,
    new: &Policy,
    tailnet: &Inventory,
    err: &mut impl Write,
) -> io::Result<ExitStatus> {
    let mut status = ExitStatus::Success;
    let failed = match args.fail_on {
        None => false,
        Some(FailOn::Added) => !diff.added.is_empty(),
        Some(FailOn::Removed) => !diff.removed.is_empty(),
        Some(FailOn::Any) => !diff.unchanged(),
    };
    if failed {
        status = ExitStatus::PolicyErrors;
    }
    for selector in &args.no_new_access_for {
        let addrs = tailpolicy::diff::selector_addrs(new, tailnet, selector);
        if addrs.is_empty() {
            writeln!(
                err,
                "warning: `{selector}` names no address in this tailnet; \
                 `--no-new-access-for` cannot check it"
            )?;
        } else if diff.widens(&addrs) {
            writeln!(err, "error: the change widens access for `{selector}`")?;
            status = ExitStatus::PolicyErrors;
        }
    }
    Ok(status)
}

/// Reads and validates one side; on failure reports its diagnostics, naming the side.
fn load_side(
    which: &str,
    spec: &str,
    inventory: Option<&Inventory>,
    err: &mut impl Write,
) -> io::Result<Option<Side>> {
    let (name, text) = match spec.strip_prefix("git:") {
        Some(reference) => match git_show(reference) {
            Ok(text) => (spec.to_owned(), text),
            Err(message) => {
                writeln!(err, "error: {which} policy `{spec}`: {message}")?;
                return Ok(None);
            }
        },
        None => {
            let path = Path::new(spec);
            let display = display_path(path);
            match read_text(path, &display, "") {
                Ok(text) => (display, text),
                Err(failure) => {
                    writeln!(err, "error: cannot read the {which} policy")?;
                    report(&failure, err)?;
                    return Ok(None);
                }
            }
        }
    };
    let options = CheckOptions {
        inventory,
        ..CheckOptions::default()
    };
    match tailpolicy::parse_valid(&text, &options) {
        Ok(policy) => Ok(Some(Side { name, text, policy })),
        Err(checked) => {
            let failure = FileResult {
                path: format!("{which}: {name}"),
                source: Some(text),
                diagnostics: checked
                    .diagnostics
                    .into_iter()
                    .filter(|d| d.is_error())
                    .collect(),
                failed: false,
            };
            report(&failure, err)?;
            writeln!(err, "the {which} policy (`{name}`) is not valid")?;
            Ok(None)
        }
    }
}

/// `REF:PATH` read with `git show`.
fn git_show(reference: &str) -> Result<String, String> {
    if !reference.contains(':') {
        return Err("write `git:REF:PATH`, for example `git:main:policy.hujson`".to_owned());
    }
    let output = Command::new("git")
        .arg("show")
        .arg(reference)
        .output()
        .map_err(|e| format!("cannot run `git`: {e}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let reason = stderr.lines().next().unwrap_or("unknown error").trim();
        return Err(format!("`git show {reference}` failed: {reason}"));
    }
    String::from_utf8(output.stdout).map_err(|_| "the file is not UTF-8".to_owned())
}

fn report(failure: &FileResult, err: &mut impl Write) -> io::Result<()> {
    write_human_diagnostics(
        &HumanRenderer::new(use_color(&io::stderr())),
        std::slice::from_ref(failure),
        err,
    )
}
