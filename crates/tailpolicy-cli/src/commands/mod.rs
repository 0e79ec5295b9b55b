//! One module per subcommand. Each takes its parsed arguments and a writer for the report,
//! and returns the exit status.

pub mod check;
pub mod compile;
pub mod diff;
pub mod fmt;
pub mod inventory;
pub mod pin;
pub mod query;
pub mod reach;
pub mod test;
pub mod verify_netmap;
