//! One module per subcommand. Each takes its parsed arguments and a writer for the report,
//! and returns the exit status.

pub mod check;
pub mod fmt;
