//! The process exit codes, in one place so that every command agrees on them.

use std::process::ExitCode;

/// How a run ended. The numeric values are part of the CLI's interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ExitStatus {
    /// Every policy is valid (warnings allowed).
    Success = 0,
    /// At least one policy has an error-severity diagnostic.
    PolicyErrors = 1,
    /// A usage error or an I/O error: a file could not be read or decoded, the inventory is
    /// malformed, or output could not be written. clap's own usage errors also exit with 2.
    Failure = 2,
}

impl ExitStatus {
    pub const fn code(self) -> u8 {
        self as u8
    }
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> Self {
        ExitCode::from(status.code())
    }
}

#[cfg(test)]
mod tests {
    use super::ExitStatus;

    #[test]
    fn codes_are_stable_and_ordered_by_severity() {
        assert_eq!(ExitStatus::Success.code(), 0);
        assert_eq!(ExitStatus::PolicyErrors.code(), 1);
        assert_eq!(ExitStatus::Failure.code(), 2);
        // The worst status of a run wins when files disagree.
        assert_eq!(
            ExitStatus::PolicyErrors.max(ExitStatus::Failure),
            ExitStatus::Failure
        );
    }
}
