//! Helpers shared by the integration tests that read the conformance corpus.
#![allow(dead_code, reason = "each test binary uses a different subset")]

use std::path::PathBuf;

/// The conformance corpus root (the folder holding `headscale/`): `$TAILPOLICY_CONFORMANCE_DIR`
/// if set, otherwise `../shared/conformance` beside the workspace root.
///
/// When it is absent this prints `skipped: conformance corpus not found` and returns `None`,
/// so the calling test passes; with `CI=true` absence is a failure instead.
#[allow(clippy::print_stdout, reason = "the skip notice is for the test log")]
pub fn corpus_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("TAILPOLICY_CONFORMANCE_DIR")
        .map(PathBuf::from)
        // CARGO_MANIFEST_DIR is <workspace>/crates/tailpolicy.
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance")
        });
    if dir.join("headscale").is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "conformance corpus not found at {} (set TAILPOLICY_CONFORMANCE_DIR)",
        dir.display()
    );
    println!("skipped: conformance corpus not found at {}", dir.display());
    None
}
