//! The `tailpolicy` command: parses arguments and dispatches to a command in [`commands`].

mod commands;
mod exit;
mod input;
mod lsp;
mod render;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::exit::ExitStatus;

/// `tailpolicy --version`: the crate version and the git commit it was built from (build.rs;
/// "unknown" outside a git checkout).
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("TAILPOLICY_GIT_COMMIT"),
    ")"
);

/// Offline linter and access simulator for Tailscale tailnet policy files.
#[derive(Debug, Parser)]
#[command(name = "tailpolicy", version = VERSION, about, propagate_version = true)]
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
    /// Can SRC reach DST:PORT? Names the rules that allow it, or says what came closest.
    ///
    /// Exits with 0 when allowed, 1 when denied (in batch mode: when any query is denied),
    /// and 2 for invalid input (in batch mode: when any line could not be answered).
    Query(QueryArgs),
    /// Print the packet filter and peers Tailscale would send each node, as JSON.
    Compile(CompileArgs),
    /// List everything a source can reach (`--from`) or everyone who can reach a
    /// destination (`--to`).
    Reach(ReachArgs),
    /// Run only the policy's `tests` and `sshTests`, one result per assertion.
    ///
    /// Exits with 0 when every assertion passes, 1 when one fails, 2 for invalid input.
    Test(TestArgs),
    /// Format policy files canonically, keeping every comment.
    ///
    /// The style is that of Tailscale's `hujsonfmt`: tabs, one element per line or all on
    /// one line as written, aligned values, trailing commas. Without a flag, prints the
    /// formatted policy. Exits with 0 on success, 1 when a policy does not parse (or, with
    /// `--check`, is not formatted), and 2 on a usage or I/O error.
    Fmt(FmtArgs),
    /// Work with inventories: `convert` reads any supported shape and writes the project's
    /// own inventory JSON.
    Inventory(InventoryCommand),
    /// Compile the policy for the node a `tailscale debug netmap` file was taken on (its
    /// inventory from the same netmap) and compare our packet filter and SSH policy with the
    /// `PacketFilterRules` and `SSHPolicy` the control server sent.
    ///
    /// Exits with 0 when both agree, 1 when they differ, 2 for invalid input.
    VerifyNetmap(VerifyNetmapArgs),
    /// What access a policy change adds and removes, exactly: network flows per receiving
    /// node, and who can apply tags, approve routes or get node attributes (docs/diff.md).
    ///
    /// Exits with 0, or 1 when a gate (`--fail-on`, `--no-new-access-for`) fails, and 2 when
    /// a side is invalid or cannot be read.
    Diff(DiffArgs),
    /// Add `tests` entries that accept what SRC reaches today and deny the ports next to it,
    /// so that any later change to its access fails the policy's tests (on Tailscale's
    /// server too). Prints the policy, or rewrites it with `--write`; comments are kept.
    ///
    /// Exits with 0, or 2 when the policy is invalid or the tests cannot be added (the file
    /// is then left untouched).
    Pin(PinArgs),
    /// Run the language server on standard input and output (for editors: diagnostics,
    /// hover, go to definition, references, rename, completion, quick fixes, formatting).
    ///
    /// See docs/editors.md for Neovim, Helix, Zed and VS Code.
    Lsp,
}

#[derive(Debug, Args)]
pub struct PinArgs {
    /// The policy file (HuJSON).
    #[arg(value_name = "POLICY")]
    pub policy: PathBuf,
    /// The source to pin: a tag, user or group (`tag:depot-runner`).
    #[arg(long, value_name = "SELECTOR")]
    pub src: String,
    #[command(flatten)]
    pub inventory: InventoryArgs,
    /// Rewrite the policy file in place (atomically) instead of printing it.
    #[arg(long)]
    pub write: bool,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The old policy: a file, or `git:REF:PATH` (read with `git show`).
    #[arg(value_name = "OLD")]
    pub old: String,
    /// The new policy file.
    #[arg(value_name = "NEW")]
    pub new: String,
    /// Without an inventory, the identities and addresses the policies name stand for
    /// hypothetical devices, so the answer holds for any tailnet.
    #[command(flatten)]
    pub inventory: InventoryArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = DiffFormat::Human)]
    pub format: DiffFormat,
    /// Exit with 1 when access was added, removed, or either.
    #[arg(long, value_enum, value_name = "WHAT")]
    pub fail_on: Option<FailOn>,
    /// Exit with 1 when the change widens what SELECTOR can reach or who can reach it
    /// (`tag:depot-runner`, a group, a host alias, a node name). Repeatable.
    #[arg(long, value_name = "SELECTOR")]
    pub no_new_access_for: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    Human,
    Json,
    /// A pull-request comment: a summary line, then tables.
    Markdown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Added,
    Removed,
    Any,
}

/// Inventory files and assumed nodes, shared by the commands that take an inventory.
#[derive(Debug, Args)]
pub struct InventoryArgs {
    /// Tailnet inventory: the project's JSON, `tailscale status --json`, `tailscale debug
    /// netmap`, Tailscale API devices / users / vip-services, or headscale `nodes list` /
    /// `users list -o json` (recognised by shape). Repeat to merge files.
    #[arg(long = "inventory", value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Add an ephemeral node with this identity (`tag:depot-runner`, a user login), for
    /// runners that come and go. Repeatable.
    #[arg(long = "assume-node", value_name = "IDENTITY")]
    pub assume_node: Vec<String>,
}

#[derive(Debug, Args)]
pub struct InventoryCommand {
    #[command(subcommand)]
    pub action: InventoryAction,
}

#[derive(Debug, Subcommand)]
pub enum InventoryAction {
    /// Read inventory files of any supported shape, merge them and print the project's
    /// own inventory JSON (facts a source lacks are kept as `unknown`).
    Convert(ConvertArgs),
}

#[derive(Debug, Args)]
pub struct ConvertArgs {
    /// Inventory files, merged in order.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// Record a node template (`tag:depot-runner`) in the output's `assume_nodes`.
    #[arg(long = "assume-node", value_name = "IDENTITY")]
    pub assume_node: Vec<String>,
    /// Output format (only JSON).
    #[arg(long, value_enum, default_value_t = JsonOnly::Json)]
    pub format: JsonOnly,
}

#[derive(Debug, Args)]
pub struct VerifyNetmapArgs {
    /// The policy file (HuJSON).
    #[arg(value_name = "POLICY")]
    pub policy: PathBuf,
    /// The output of `tailscale debug netmap` on one node.
    #[arg(value_name = "NETMAP")]
    pub netmap: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
    pub format: OutputFormat,
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
pub struct TestArgs {
    /// The policy file (HuJSON).
    #[arg(value_name = "POLICY")]
    pub policy: PathBuf,
    /// Without an inventory, tag and user sources stand for new devices with that identity.
    #[command(flatten)]
    pub inventory: InventoryArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = TestFormat::Human)]
    pub format: TestFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TestFormat {
    Human,
    Json,
    /// JUnit XML for CI systems.
    Junit,
}

#[derive(Debug, Args)]
pub struct QueryArgs {
    /// The policy file (HuJSON).
    #[arg(value_name = "POLICY")]
    pub policy: PathBuf,
    /// Source: a tag, user, group, host alias, IP or node name. An identity no node has
    /// stands for a new node with that identity (e.g. an ephemeral CI runner).
    #[arg(long, value_name = "SRC", required_unless_present = "batch")]
    pub src: Option<String>,
    /// Destination `host:port`: a host alias, IP, tag, user or node name; IPv6 as
    /// `[addr]:port`.
    #[arg(long, value_name = "DST:PORT", required_unless_present = "batch")]
    pub dst: Option<String>,
    /// Protocol name (tcp, udp, icmp, sctp, ...) or number.
    #[arg(long, value_name = "PROTO", conflicts_with = "ssh_user")]
    pub proto: Option<String>,
    /// SSH mode: can SRC log in to DST (a host, no port) as this local user? Exits 0 for
    /// accept or check with port 22 reachable, 1 otherwise.
    #[arg(long, value_name = "LOGIN")]
    pub ssh_user: Option<String>,
    #[command(flatten)]
    pub inventory: InventoryArgs,
    /// JSON lines `{"src": ..., "dst": ..., "proto": ...}`; one JSON answer per line out, or
    /// `{"line": N, "error": ...}` for a line that cannot be answered (the batch goes on).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["src", "dst", "proto"])]
    pub batch: Option<PathBuf>,
    /// Output format (batch mode always writes JSON lines).
    #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
    pub format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct CompileArgs {
    /// The policy file (HuJSON).
    #[arg(value_name = "POLICY")]
    pub policy: PathBuf,
    /// Tailnet inventory (any supported shape); repeat to merge files.
    #[arg(long = "inventory", value_name = "FILE", required = true)]
    pub inventory: Vec<PathBuf>,
    /// Add an ephemeral node with this identity (`tag:depot-runner`). Repeatable.
    #[arg(long = "assume-node", value_name = "IDENTITY")]
    pub assume_node: Vec<String>,
    /// Only this node (repeatable); only the nodes asked for are compiled.
    #[arg(long, value_name = "NAME")]
    pub node: Vec<String>,
    /// Output format (only JSON).
    #[arg(long, value_enum, default_value_t = JsonOnly::Json)]
    pub format: JsonOnly,
}

#[derive(Debug, Args)]
pub struct ReachArgs {
    /// The policy file (HuJSON).
    #[arg(value_name = "POLICY")]
    pub policy: PathBuf,
    /// List everything this source can reach.
    #[arg(
        long,
        value_name = "SRC",
        required_unless_present = "to",
        conflicts_with = "to"
    )]
    pub from: Option<String>,
    /// List everyone who can reach this destination (`host` or `host:port`).
    #[arg(long, value_name = "DST[:PORT]")]
    pub to: Option<String>,
    #[command(flatten)]
    pub inventory: InventoryArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
    pub format: OutputFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Human,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum JsonOnly {
    Json,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Policy files to check (HuJSON); `-` reads standard input.
    #[arg(value_name = "POLICY", required = true)]
    pub policies: Vec<PathBuf>,

    /// Enables the checks that need to know the tailnet.
    #[command(flatten)]
    pub inventory: InventoryArgs,

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
    // The language server owns standard input and output (its own threads write to them).
    if let Command::Lsp = cli.command {
        return match lsp::run() {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                let _ = writeln!(std::io::stderr(), "error: language server: {err}");
                ExitCode::from(2)
            }
        };
    }
    // Standard output is line-buffered; reports can be millions of lines (`compile`).
    let mut stdout = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let mut stderr = std::io::stderr().lock();
    let result = match &cli.command {
        Command::Check(args) => commands::check::run(args, &mut stdout),
        Command::Query(args) => commands::query::run(args, &mut stdout, &mut stderr),
        Command::Compile(args) => commands::compile::run(args, &mut stdout, &mut stderr),
        Command::Reach(args) => commands::reach::run(args, &mut stdout, &mut stderr),
        Command::Test(args) => commands::test::run(args, &mut stdout, &mut stderr),
        Command::Fmt(args) => commands::fmt::run(args, &mut stdout, &mut stderr),
        Command::Inventory(args) => commands::inventory::run(args, &mut stdout, &mut stderr),
        Command::VerifyNetmap(args) => commands::verify_netmap::run(args, &mut stdout, &mut stderr),
        Command::Diff(args) => commands::diff::run(args, &mut stdout, &mut stderr),
        Command::Pin(args) => commands::pin::run(args, &mut stdout, &mut stderr),
        // Served above, before standard output was locked.
        Command::Lsp => Ok(ExitStatus::Success),
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
