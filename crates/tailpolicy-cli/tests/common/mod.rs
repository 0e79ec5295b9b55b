//! What the CLI's end-to-end tests share: where the workspace is, and running the binary.

#![allow(dead_code, reason = "each test binary uses a part of this module")]

use std::path::{Path, PathBuf};

use assert_cmd::Command;

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("the CLI crate lives two levels below the workspace root")
        .to_path_buf()
}

/// What one run of `tailpolicy` left: its exit code and both streams.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `tailpolicy ARGS...` in `dir`, with `stdin` as its standard input if given.
/// `NO_COLOR` is removed so the user's environment cannot change the output.
pub fn run_in(dir: &Path, args: &[&str], stdin: Option<&str>) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tailpolicy"));
    cmd.current_dir(dir).args(args).env_remove("NO_COLOR");
    if let Some(input) = stdin {
        cmd.write_stdin(input);
    }
    let output = cmd.output().expect("the binary runs");
    Run {
        code: output.status.code().expect("exited normally"),
        stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
    }
}

/// Runs `tailpolicy ARGS...` in the workspace root.
pub fn run(args: &[&str]) -> Run {
    run_in(&workspace_root(), args, None)
}
