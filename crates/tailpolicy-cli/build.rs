//! Records the git commit the binary is built from, for `tailpolicy --version`, as
//! `TAILPOLICY_GIT_COMMIT`. Never fails the build: outside a git checkout the commit is
//! "unknown".
//!
//! Sources, first found wins: the `TAILPOLICY_GIT_COMMIT` environment variable (release
//! builds from a source archive), `.cargo_vcs_info.json` (written by `cargo package`, so a
//! crate installed from crates.io knows its commit), then `git` in the crate's directory.

use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=TAILPOLICY_GIT_COMMIT");
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".to_owned());
    let dir = Path::new(&dir);
    let commit = std::env::var("TAILPOLICY_GIT_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .or_else(|| from_vcs_info(dir))
        .or_else(|| from_git(dir))
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=TAILPOLICY_GIT_COMMIT={}", commit.trim());
}

/// The `sha1` of a packaged crate's `.cargo_vcs_info.json`, shortened as git would.
fn from_vcs_info(dir: &Path) -> Option<String> {
    let path = dir.join(".cargo_vcs_info.json");
    let text = std::fs::read_to_string(&path).ok()?;
    println!("cargo:rerun-if-changed={}", path.display());
    let rest = text.split("\"sha1\"").nth(1)?;
    let sha: String = rest
        .chars()
        .skip_while(|c| !c.is_ascii_hexdigit())
        .take_while(char::is_ascii_hexdigit)
        .collect();
    (sha.len() >= 12).then(|| sha.chars().take(12).collect())
}

fn from_git(dir: &Path) -> Option<String> {
    let git = |args: &[&str]| -> Option<String> {
        let out = Command::new("git")
            .args(args)
            .current_dir(dir)
            .output()
            .ok()?;
        if !out.status.success() {
            return None;
        }
        Some(String::from_utf8(out.stdout).ok()?.trim().to_owned())
    };
    let commit = git(&["rev-parse", "--short=12", "HEAD"])?;
    // Rebuild when HEAD moves: HEAD itself, the branch it names, and packed refs. Only files
    // that exist: a missing one would make cargo rerun this script on every build.
    if let (Some(git_dir), Some(common)) = (
        git(&["rev-parse", "--absolute-git-dir"]),
        git(&["rev-parse", "--path-format=absolute", "--git-common-dir"]),
    ) {
        let mut watch = vec![
            Path::new(&git_dir).join("HEAD"),
            Path::new(&common).join("packed-refs"),
        ];
        if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
            watch.push(Path::new(&common).join(branch));
        }
        for path in watch.iter().filter(|p| p.exists()) {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
    Some(commit)
}
