//! The `tailpolicy` command: parses arguments and dispatches to a command in [`commands`].

mod commands;
mod exit;
mod render;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::exit::ExitStatus;

/// Offline linter and access simulator for Tailscale tailnet policy files.
#[derive(Debug, Parser)]
#[command(name = "tailpolicy", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check policy files for syntax and validation errors.
    ///
    /// Exits with 0 when every policy is valid, 1 when a policy has errors, and 2 on a usage
    /// or I/O error (a file that cannot be read, a malformed inventory).
    Check(CheckArgs),

    /// Format policy files canonically, keeping every comment.
    ///
    /// The style is that of Tailscale's `hujsonfmt`: tabs, one element per line or all on
    /// one line as written, aligned values, trailing commas. Without a flag, prints the
    /// formatted policy. Exits with 0 on success, 1 when a policy does not parse (or, with
    /// `--check`, is not formatted), and 2 on a usage or I/O error.
    Fmt(FmtArgs),
}

#[derive(Debug, Args)]
pub struct FmtArgs {
    /// Policy files to format (HuJSON); `-` reads standard input (not with `--write`).
    /// Without `--check` or `--write`, exactly one.
    #[arg(value_name = "POLICY", required = true)]
    pub policies: Vec<PathBuf>,

    /// Change nothing; print a diff for each file that is not formatted and exit with 1 if
    /// there is one.
    #[arg(long, conflicts_with = "write")]
    pub check: bool,

    /// Rewrite the files in place, atomically; a file that does not parse is left untouched.
    #[arg(long)]
    pub write: bool,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Policy files to check (HuJSON); `-` reads standard input.
    #[arg(value_name = "POLICY", required = true)]
    pub policies: Vec<PathBuf>,

    /// Tailnet inventory (users, nodes and tailnet settings) as JSON; enables the checks that
    /// need to know the tailnet.
    #[arg(long, value_name = "FILE")]
    pub inventory: Option<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Diagnostics with source excerpts, then a summary line.
    Human,
    /// Exactly one JSON object on stdout.
    Json,
}

fn main() -> ExitCode {
    // clap prints usage errors itself and exits with 2, which is also our usage-error code.
    let cli = Cli::parse();
    let mut stdout = std::io::stdout().lock();
    let result = match &cli.command {
        Command::Check(args) => commands::check::run(args, &mut stdout),
        Command::Fmt(args) => commands::fmt::run(args, &mut stdout, &mut std::io::stderr().lock()),
    };
    let status = match result.and_then(|status| stdout.flush().map(|()| status)) {
        Ok(status) => status,
        // A closed pipe (`tailpolicy check ... | head`) is not worth a message.
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => ExitStatus::Failure,
        Err(err) => {
            let _ = writeln!(std::io::stderr(), "error: cannot write the report: {err}");
            ExitStatus::Failure
        }
    };
    status.into()
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
