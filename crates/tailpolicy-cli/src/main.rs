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
    /// Check policy files for syntax and validation errors, then lint the valid ones.
    ///
    /// Lint settings come from `--config FILE`, or else from the first `tailpolicy.toml`
    /// found next to each policy or in a parent directory up to the repository root.
    ///
    /// Exits with 0 when every policy is valid, 1 when a policy has errors (or warnings,
    /// with `--deny-warnings`), and 2 on a usage or I/O error (a file that cannot be read, a
    /// malformed inventory or configuration).
    Check(CheckArgs),
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

    /// Lint configuration (`tailpolicy.toml`); by default the nearest one is used.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,

    /// Exit with 1 when any warning is reported, as for errors.
    #[arg(long)]
    pub deny_warnings: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Diagnostics with source excerpts, then a summary line.
    Human,
    /// Exactly one JSON object on stdout.
    Json,
    /// One SARIF 2.1.0 log on stdout, for code-scanning tools.
    Sarif,
    /// GitHub Actions workflow commands (`::warning file=...::message`), then the summary.
    Github,
}

fn main() -> ExitCode {
    // clap prints usage errors itself and exits with 2, which is also our usage-error code.
    let cli = Cli::parse();
    let mut stdout = std::io::stdout().lock();
    let result = match &cli.command {
        Command::Check(args) => commands::check::run(args, &mut stdout),
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
