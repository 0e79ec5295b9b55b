//! End-to-end tests of `tailpolicy fmt`: printing, `--check` (exit codes and diffs), `--write`
//! (results, atomic replacement, files that do not parse or may not be written left untouched,
//! CRLF line endings) and idempotence on the Depot fixture. That the output is exactly
//! `hujson.Format`'s is checked in `crates/tailpolicy/tests/hujson_oracle.rs`.

use std::fs;

mod common;
use common::{run_in, workspace_root};

const UNFORMATTED: &str = "{\n  // People.\n  \"groups\": {\"group:eng\": [\"alice@example.com\"],\n    \"group:ops\": [\"bob@example.com\",],},\n  \"acls\": [{\"action\": \"accept\", \"src\": [\"group:eng\"], \"dst\": [\"*:22\"]}]\n}\n";

const FORMATTED: &str = "{\n\t// People.\n\t\"groups\": {\n\t\t\"group:eng\": [\"alice@example.com\"],\n\t\t\"group:ops\": [\"bob@example.com\"],\n\t},\n\t\"acls\": [{\"action\": \"accept\", \"src\": [\"group:eng\"], \"dst\": [\"*:22\"]}],\n}\n";

const BROKEN: &str = "{\"acls\": [,]}\n";

/// A temporary directory holding `files`.
fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary directory");
    for (name, text) in files {
        fs::write(dir.path().join(name), text).expect("write a test file");
    }
    dir
}

fn read(dir: &tempfile::TempDir, name: &str) -> String {
    fs::read_to_string(dir.path().join(name)).expect("read a test file")
}

fn names(dir: &tempfile::TempDir) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn prints_the_formatted_policy() {
    let dir = dir_with(&[("p.hujson", UNFORMATTED)]);
    let out = run_in(dir.path(), &["fmt", "p.hujson"], None);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, FORMATTED);
    assert_eq!(out.stderr, "");
    assert_eq!(
        read(&dir, "p.hujson"),
        UNFORMATTED,
        "printing changes no file"
    );

    let out = run_in(dir.path(), &["fmt", "-"], Some(UNFORMATTED));
    assert_eq!((out.code, out.stdout.as_str()), (0, FORMATTED));
}

#[test]
fn check_passes_on_formatted_files() {
    let dir = dir_with(&[("a.hujson", FORMATTED), ("b.hujson", "{}\n")]);
    let out = run_in(
        dir.path(),
        &["fmt", "--check", "a.hujson", "b.hujson"],
        None,
    );
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!((out.stdout.as_str(), out.stderr.as_str()), ("", ""));
    let out = run_in(dir.path(), &["fmt", "--check", "-"], Some(FORMATTED));
    assert_eq!(out.code, 0, "{}", out.stdout);
}

#[test]
fn check_fails_with_a_diff_on_unformatted_files() {
    let dir = dir_with(&[("a.hujson", FORMATTED), ("p.hujson", UNFORMATTED)]);
    let out = run_in(
        dir.path(),
        &["fmt", "--check", "a.hujson", "p.hujson"],
        None,
    );
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .starts_with("--- p.hujson.orig\n+++ p.hujson\n@@ "),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("\n-  // People.\n"), "{}", out.stdout);
    assert!(out.stdout.contains("\n+\t// People.\n"), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("\n+\t\t\"group:ops\": [\"bob@example.com\"],\n"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("a.hujson"), "{}", out.stdout);
    assert_eq!(
        out.stderr,
        "1 file not formatted; `tailpolicy fmt --write` formats them\n"
    );
    assert_eq!(
        read(&dir, "p.hujson"),
        UNFORMATTED,
        "--check changes nothing"
    );
}

#[test]
fn write_formats_files_in_place_and_skips_broken_ones() {
    let dir = dir_with(&[
        ("a.hujson", FORMATTED),
        ("broken.hujson", BROKEN),
        ("p.hujson", UNFORMATTED),
    ]);
    let out = run_in(
        dir.path(),
        &["fmt", "--write", "a.hujson", "broken.hujson", "p.hujson"],
        None,
    );
    assert_eq!(
        out.code, 1,
        "a file with a syntax error exits 1: {}",
        out.stderr
    );
    assert_eq!(out.stdout, "formatted p.hujson\n");
    assert_eq!(read(&dir, "p.hujson"), FORMATTED);
    assert_eq!(read(&dir, "a.hujson"), FORMATTED);
    assert_eq!(
        fs::read(dir.path().join("broken.hujson")).unwrap(),
        BROKEN.as_bytes(),
        "a file that does not parse is left byte for byte"
    );
    // The syntax error is located as `check` locates it.
    assert!(out.stderr.starts_with("error[E001]: "), "{}", out.stderr);
    assert!(
        out.stderr.contains(" --> broken.hujson:1:11"),
        "{}",
        out.stderr
    );
    // No temporary file is left behind.
    assert_eq!(names(&dir), ["a.hujson", "broken.hujson", "p.hujson"]);

    // Formatting again changes nothing.
    let out = run_in(
        dir.path(),
        &["fmt", "--write", "a.hujson", "p.hujson"],
        None,
    );
    assert_eq!((out.code, out.stdout.as_str()), (0, ""));
}

#[cfg(unix)]
#[test]
fn write_keeps_permissions_and_follows_symbolic_links() {
    use std::os::unix::fs::PermissionsExt;

    let dir = dir_with(&[("p.hujson", UNFORMATTED)]);
    let path = dir.path().join("p.hujson");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
    std::os::unix::fs::symlink("p.hujson", dir.path().join("link.hujson")).unwrap();

    let out = run_in(dir.path(), &["fmt", "--write", "link.hujson"], None);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(read(&dir, "p.hujson"), FORMATTED);
    let link = fs::symlink_metadata(dir.path().join("link.hujson")).unwrap();
    assert!(link.file_type().is_symlink(), "the link stays a link");
    let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);
}

#[cfg(unix)]
#[test]
fn write_refuses_read_only_files() {
    use std::os::unix::fs::PermissionsExt;

    let dir = dir_with(&[("ro.hujson", UNFORMATTED), ("p.hujson", UNFORMATTED)]);
    let path = dir.path().join("ro.hujson");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o444)).unwrap();

    let out = run_in(
        dir.path(),
        &["fmt", "--write", "ro.hujson", "p.hujson"],
        None,
    );
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("error[IO]: cannot write `ro.hujson`: the file is read-only (mode 0444)"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("the file was left as it was"),
        "{}",
        out.stderr
    );
    // Checked on the mode bits, so this holds when the tests run as root too.
    assert_eq!(read(&dir, "ro.hujson"), UNFORMATTED);
    let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o444);
    // The other file is formatted; no temporary file is left behind.
    assert_eq!(out.stdout, "formatted p.hujson\n");
    assert_eq!(read(&dir, "p.hujson"), FORMATTED);
    assert_eq!(names(&dir), ["p.hujson", "ro.hujson"]);
}

#[test]
fn crlf_line_endings_become_lf_as_hujson_makes_them() {
    let crlf = UNFORMATTED.replace('\n', "\r\n");
    let dir = dir_with(&[
        ("p.hujson", &crlf),
        ("f.hujson", &FORMATTED.replace('\n', "\r\n")),
    ]);
    let out = run_in(dir.path(), &["fmt", "p.hujson"], None);
    assert_eq!((out.code, out.stdout.as_str()), (0, FORMATTED));
    let out = run_in(
        dir.path(),
        &["fmt", "--write", "p.hujson", "f.hujson"],
        None,
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "formatted p.hujson (line endings changed from CRLF to LF)\n\
         formatted f.hujson (line endings changed from CRLF to LF)\n"
    );
    assert_eq!(read(&dir, "p.hujson"), FORMATTED);
    assert_eq!(read(&dir, "f.hujson"), FORMATTED);
}

#[test]
fn a_line_comment_ending_the_input_is_a_located_error() {
    // hujson.Parse rejects it (`parsing comment: unexpected EOF`), and so does Tailscale.
    let text = "{\n\t\"acls\": [],\n}\n// the end";
    let dir = dir_with(&[("p.hujson", text)]);
    let out = run_in(dir.path(), &["fmt", "--write", "p.hujson"], None);
    assert_eq!((out.code, out.stdout.as_str()), (1, ""), "{}", out.stderr);
    assert!(
        out.stderr.contains(
            "error[E001]: expected a line break after the `//` comment, found the end of the input"
        ),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains(" --> p.hujson:4:1"), "{}", out.stderr);
    assert!(
        out.stderr.contains("end the comment with a newline"),
        "{}",
        out.stderr
    );
    assert_eq!(read(&dir, "p.hujson"), text);
    let dir = dir_with(&[("p.hujson", &format!("{text}\n"))]);
    let out = run_in(dir.path(), &["fmt", "--check", "p.hujson"], None);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
}

#[test]
fn syntax_errors_print_nothing_on_stdout() {
    let dir = dir_with(&[("broken.hujson", BROKEN)]);
    for args in [
        &["fmt", "broken.hujson"][..],
        &["fmt", "--check", "broken.hujson"][..],
    ] {
        let out = run_in(dir.path(), args, None);
        assert_eq!(out.code, 1, "{args:?}");
        assert_eq!(out.stdout, "", "{args:?}");
        assert!(out.stderr.contains("error[E001]"), "{}", out.stderr);
        assert!(out.stderr.contains("broken.hujson:1:11"), "{}", out.stderr);
    }
}

#[test]
fn usage_and_io_errors_exit_2() {
    let dir = dir_with(&[("a.hujson", FORMATTED), ("b.hujson", FORMATTED)]);
    // Printing takes one file.
    let out = run_in(dir.path(), &["fmt", "a.hujson", "b.hujson"], None);
    assert_eq!((out.code, out.stdout.as_str()), (2, ""));
    assert!(out.stderr.contains("prints one file"), "{}", out.stderr);
    // Standard input cannot be rewritten.
    let out = run_in(dir.path(), &["fmt", "--write", "-"], Some(FORMATTED));
    assert_eq!(out.code, 2, "{}", out.stderr);
    // `--check` and `--write` exclude each other (clap's usage error).
    let out = run_in(dir.path(), &["fmt", "--check", "--write", "a.hujson"], None);
    assert_eq!(out.code, 2, "{}", out.stderr);
    // A missing file is an I/O error; the other files are still processed.
    let out = run_in(
        dir.path(),
        &["fmt", "--check", "missing.hujson", "a.hujson"],
        None,
    );
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("error[IO]: cannot read `missing.hujson`: no such file or directory"),
        "{}",
        out.stderr
    );
    // Not UTF-8.
    fs::write(dir.path().join("latin1.hujson"), b"{\"caf\xe9\": 1}").unwrap();
    let out = run_in(dir.path(), &["fmt", "--write", "latin1.hujson"], None);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("not valid UTF-8"), "{}", out.stderr);
}

#[test]
fn the_depot_fixture_is_formatted_and_formatting_is_idempotent() {
    let root = workspace_root();
    let fixture = "fixtures/depot/policy.hujson";
    let out = run_in(&root, &["fmt", fixture], None);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let again = run_in(&root, &["fmt", "-"], Some(&out.stdout));
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(
        again.stdout, out.stdout,
        "formatting formatted text changes nothing"
    );
    // The committed fixture is itself formatted.
    let check = run_in(&root, &["fmt", "--check", fixture], None);
    assert_eq!(check.code, 0, "{}", check.stdout);
    // Every comment survives.
    let original = fs::read_to_string(root.join(fixture)).unwrap();
    let comments = |text: &str| text.matches("//").count();
    assert_eq!(comments(&out.stdout), comments(&original));
}
