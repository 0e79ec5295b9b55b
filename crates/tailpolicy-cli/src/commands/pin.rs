//! `tailpolicy pin POLICY --src SELECTOR [--write]`: `tests` entries that lock in what a
//! source reaches today (docs/diff.md, "pin").

use std::io::{self, Write};

use tailpolicy::diff::pin::{insert_tests, pin_tests};

use crate::PinArgs;
use crate::exit::ExitStatus;
use crate::input::policy::load_for;

pub fn run(args: &PinArgs, out: &mut impl Write, err: &mut impl Write) -> io::Result<ExitStatus> {
    let loaded = match load_for(&args.policy, &args.inventory, err)? {
        Ok(loaded) => loaded,
        Err(status) => return Ok(status),
    };
    let inventory = loaded.inventory.as_ref();
    let tests = match pin_tests(&loaded.policy, inventory, &args.src) {
        Ok(tests) => tests,
        Err(message) => {
            writeln!(err, "error: {message}")?;
            return Ok(ExitStatus::Failure);
        }
    };
    if tests.is_empty() {
        writeln!(
            err,
            "error: `{}` reaches nothing a test can name; nothing to pin",
            args.src
        )?;
        return Ok(ExitStatus::Failure);
    }
    let text = match insert_tests(&loaded.text, &tests, &args.src, inventory) {
        Ok(text) => text,
        Err(message) => {
            // The file is left as it is.
            writeln!(err, "error: {message}")?;
            return Ok(ExitStatus::Failure);
        }
    };
    if args.write {
        let dir = args
            .policy
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| std::path::Path::new("."));
        let mut file = tempfile::NamedTempFile::new_in(dir)?;
        file.write_all(text.as_bytes())?;
        file.persist(&args.policy).map_err(|e| e.error)?;
        let count: usize = tests.iter().map(|t| t.accept.len() + t.deny.len()).sum();
        writeln!(
            err,
            "pinned `{}`: {count} assertions in {} tests entries added to {}",
            args.src,
            tests.len(),
            args.policy.display()
        )?;
    } else {
        out.write_all(text.as_bytes())?;
    }
    Ok(ExitStatus::Success)
}
