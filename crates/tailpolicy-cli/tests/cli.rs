//! End-to-end tests of the `tailpolicy` binary: exit codes, the JSON report's shape and the
//! human report's locations. Fixtures live in `fixtures/` at the workspace root; the
//! binary runs from there so paths print as written.

use std::path::Path;

use serde_json::{Value, json};

mod common;
use common::{Run, run, run_in, workspace_root};

fn run_with(args: &[&str], stdin: Option<&str>) -> Run {
    run_in(&workspace_root(), args, stdin)
}

/// Runs `check --format json ARGS...` and parses stdout, which must be exactly one JSON
/// object.
fn check_json(args: &[&str]) -> (i32, Value) {
    let mut all = vec!["check", "--format", "json"];
    all.extend_from_slice(args);
    let out = run(&all);
    let mut stream = serde_json::Deserializer::from_str(&out.stdout).into_iter::<Value>();
    let report = stream
        .next()
        .unwrap_or_else(|| panic!("no JSON on stdout; stderr: {}", out.stderr))
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", out.stdout));
    assert!(
        stream.next().is_none(),
        "more than one JSON value: {}",
        out.stdout
    );
    assert!(report.is_object(), "{report}");
    assert_shape(&report);
    (out.code, report)
}

/// Every report has exactly the documented keys and types.
fn assert_shape(report: &Value) {
    let keys = |v: &Value| {
        let mut keys: Vec<String> = v.as_object().expect("object").keys().cloned().collect();
        keys.sort();
        keys
    };
    assert_eq!(keys(report), ["files", "valid"]);
    assert!(report["valid"].is_boolean());
    for file in report["files"].as_array().expect("files is an array") {
        assert_eq!(keys(file), ["diagnostics", "path", "valid"]);
        assert!(file["path"].is_string() && file["valid"].is_boolean());
        for d in file["diagnostics"]
            .as_array()
            .expect("diagnostics is an array")
        {
            assert_eq!(
                keys(d),
                [
                    "code",
                    "column",
                    "end_column",
                    "end_line",
                    "help",
                    "line",
                    "message",
                    "severity"
                ]
            );
            assert!(d["code"].is_string() && d["message"].is_string());
            assert!(["error", "warning", "info"].contains(&d["severity"].as_str().unwrap()));
            assert!(d["help"].is_string() || d["help"].is_null());
            for key in ["line", "column", "end_line", "end_column"] {
                assert!(d[key].as_u64().is_some_and(|n| n >= 1), "{key} in {d}");
            }
        }
    }
    let all_valid = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["valid"] == true);
    assert_eq!(
        report["valid"], all_valid,
        "top-level valid is the conjunction"
    );
}

fn codes(file: &Value) -> Vec<&str> {
    file["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect()
}

// ---------------------------------------------------------------------------------------
// JSON output

#[test]
fn json_valid_file() {
    let (code, report) = check_json(&["fixtures/check/valid.hujson"]);
    assert_eq!(code, 0);
    assert_eq!(
        report,
        json!({
            "valid": true,
            "files": [{"path": "fixtures/check/valid.hujson", "valid": true, "diagnostics": []}],
        })
    );
}

#[test]
fn json_depot_example_is_valid_with_its_inventory() {
    let (code, report) = check_json(&[
        "fixtures/depot/policy.hujson",
        "--inventory",
        "fixtures/depot/inventory.json",
    ]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["valid"], true);
    assert_eq!(report["files"][0]["path"], "fixtures/depot/policy.hujson");
    let errors: Vec<&Value> = report["files"][0]["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["severity"] == "error")
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn json_unparseable_file() {
    let (code, report) = check_json(&["fixtures/check/unquoted-key.hujson"]);
    assert_eq!(code, 1);
    assert_eq!(report["valid"], false);
    let file = &report["files"][0];
    assert_eq!(file["path"], "fixtures/check/unquoted-key.hujson");
    assert_eq!(file["valid"], false);
    let first = &file["diagnostics"][0];
    assert_eq!(first["code"], "E001");
    assert_eq!(first["severity"], "error");
    assert_eq!((&first["line"], &first["column"]), (&json!(1), &json!(2)));
}

#[test]
fn json_invalid_but_parseable_file() {
    let (code, report) = check_json(&["fixtures/check/duplicate-key.hujson"]);
    assert_eq!(code, 1);
    let file = &report["files"][0];
    assert_eq!(file["valid"], false);
    assert!(codes(file).contains(&"E002"), "{file:#}");
    let duplicate = file["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "E002")
        .unwrap();
    assert_eq!(duplicate["line"], 4, "the second `acls` is the duplicate");
}

#[test]
fn json_columns_count_characters_not_bytes() {
    let (code, report) = check_json(&["fixtures/check/unicode-column.hujson"]);
    assert_eq!(code, 1);
    let first = &report["files"][0]["diagnostics"][0];
    assert_eq!(first["code"], "E001");
    // `'` follows `é` (2 bytes): character column 20, byte column 21.
    assert_eq!((&first["line"], &first["column"]), (&json!(1), &json!(20)));
}

#[test]
fn json_missing_file_still_prints_the_report() {
    let (code, report) = check_json(&["fixtures/check/valid.hujson", "fixtures/check/nope.hujson"]);
    assert_eq!(code, 2);
    assert_eq!(report["valid"], false);
    assert_eq!(
        report["files"][0]["valid"], true,
        "other files are still checked"
    );
    let missing = &report["files"][1];
    assert_eq!(missing["path"], "fixtures/check/nope.hujson");
    assert_eq!(missing["valid"], false);
    assert_eq!(codes(missing), ["IO"]);
    let message = missing["diagnostics"][0]["message"].as_str().unwrap();
    assert!(message.contains("fixtures/check/nope.hujson"), "{message}");
    assert!(message.contains("no such file"), "{message}");
}

#[test]
fn json_directory_is_an_io_error() {
    let (code, report) = check_json(&["fixtures/check"]);
    assert_eq!(code, 2);
    assert_eq!(codes(&report["files"][0]), ["IO"]);
}

#[test]
fn json_non_utf8_file_is_located() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let path = dir.join("tailpolicy-cli-non-utf8.hujson");
    std::fs::write(&path, b"{\n  \"hosts\": {\"x\xff\": \"100.64.0.1\"}\n}\n").unwrap();
    let (code, report) = check_json(&[path.to_str().unwrap()]);
    assert_eq!(code, 2);
    let d = &report["files"][0]["diagnostics"][0];
    assert_eq!(d["code"], "IO");
    assert!(d["message"].as_str().unwrap().contains("UTF-8"), "{d}");
    assert_eq!((&d["line"], &d["column"]), (&json!(2), &json!(15)));

    let human = run(&["check", path.to_str().unwrap()]);
    assert_eq!(human.code, 2);
    let located = format!("{}:2:15", path.display());
    assert!(human.stdout.contains(&located), "{}", human.stdout);
}

/// A policy saved as UTF-16 (with or without a byte order mark) is named as such, with the
/// conversion to do.
#[test]
fn utf16_file_is_reported_as_utf16_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let utf16 = |big_endian: bool, bom: bool| {
        let mut bytes = Vec::new();
        let text = if bom {
            "\u{feff}{\"acls\": []}\n"
        } else {
            "{\"acls\": []}\n"
        };
        for unit in text.encode_utf16() {
            let pair = if big_endian {
                unit.to_be_bytes()
            } else {
                unit.to_le_bytes()
            };
            bytes.extend_from_slice(&pair);
        }
        bytes
    };
    for (name, bytes, encoding) in [
        ("le-bom.hujson", utf16(false, true), "UTF-16"),
        ("be-bom.hujson", utf16(true, true), "UTF-16"),
        ("le.hujson", utf16(false, false), "UTF-16LE"),
        ("be.hujson", utf16(true, false), "UTF-16BE"),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let (code, report) = check_json(&[path.to_str().unwrap()]);
        assert_eq!(code, 2, "{name}");
        let d = &report["files"][0]["diagnostics"][0];
        assert_eq!(d["code"], "IO");
        assert!(
            d["message"]
                .as_str()
                .unwrap()
                .ends_with("is UTF-16 text, not UTF-8"),
            "{d}"
        );
        let help = d["help"].as_str().unwrap();
        assert!(
            help.contains(&format!("iconv -f {encoding} -t UTF-8")),
            "{name}: {help}"
        );
    }
}

#[test]
fn json_invalid_inventory_is_located_and_exits_2() {
    let (code, report) = check_json(&[
        "fixtures/check/valid.hujson",
        "--inventory",
        "fixtures/check/inventory-invalid.json",
    ]);
    assert_eq!(code, 2);
    assert_eq!(report["valid"], false);
    let files = report["files"].as_array().unwrap();
    assert_eq!(files.len(), 1, "no policy is checked without its inventory");
    assert_eq!(files[0]["path"], "fixtures/check/inventory-invalid.json");
    let d = &files[0]["diagnostics"][0];
    assert_eq!(d["code"], "INVENTORY");
    assert_eq!(d["line"], 4);
    assert!(d["message"].as_str().unwrap().contains("`devices`"), "{d}");
}

#[test]
fn json_missing_inventory_exits_2() {
    let (code, report) = check_json(&[
        "fixtures/check/valid.hujson",
        "--inventory",
        "fixtures/check/no-inventory.json",
    ]);
    assert_eq!(code, 2);
    assert_eq!(codes(&report["files"][0]), ["IO"]);
}

#[test]
fn json_valid_inventory_is_accepted() {
    let (code, report) = check_json(&[
        "fixtures/check/valid.hujson",
        "--inventory",
        "fixtures/check/inventory-valid.json",
    ]);
    assert_eq!(code, 0, "{report:#}");
}

// ---------------------------------------------------------------------------------------
// Human output

#[test]
fn human_valid_files_print_only_the_summary() {
    let out = run(&[
        "check",
        "fixtures/check/valid.hujson",
        "fixtures/check/empty-object.hujson",
    ]);
    assert_eq!(out.code, 0);
    assert_eq!(out.stdout, "2 files checked: 2 valid, 0 with errors\n");
    assert_eq!(out.stderr, "");
}

#[test]
fn human_errors_point_at_path_line_column() {
    let out = run(&["check", "fixtures/check/unquoted-key.hujson"]);
    assert_eq!(out.code, 1);
    assert!(out.stdout.starts_with("error[E001]: "), "{}", out.stdout);
    assert!(
        out.stdout
            .contains(" --> fixtures/check/unquoted-key.hujson:1:2\n"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("1 | {acls: []}"), "{}", out.stdout);
    assert!(out.stdout.contains('^'), "{}", out.stdout);
    assert!(
        out.stdout
            .ends_with("1 file checked: 0 valid, 1 with errors (1 error, 0 warnings)\n"),
        "{}",
        out.stdout
    );
    assert!(
        !out.stdout.contains('\u{1b}'),
        "no colour when not a terminal"
    );
}

#[test]
fn exit_code_is_1_when_any_policy_has_errors() {
    let out = run(&[
        "check",
        "fixtures/check/valid.hujson",
        "fixtures/check/unquoted-key.hujson",
    ]);
    assert_eq!(out.code, 1);
    assert!(
        out.stdout
            .contains("2 files checked: 1 valid, 1 with errors"),
        "{}",
        out.stdout
    );
}

#[test]
fn human_missing_file_names_the_path_and_exits_2() {
    let out = run(&[
        "check",
        "fixtures/check/nope.hujson",
        "fixtures/check/unquoted-key.hujson",
    ]);
    assert_eq!(out.code, 2, "I/O errors win over policy errors");
    assert!(
        out.stdout
            .contains("error[IO]: cannot read `fixtures/check/nope.hujson`: no such file"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("1 unreadable"), "{}", out.stdout);
}

#[test]
fn human_invalid_inventory_is_located() {
    let out = run(&[
        "check",
        "fixtures/check/valid.hujson",
        "--inventory",
        "fixtures/check/inventory-invalid.json",
    ]);
    assert_eq!(out.code, 2);
    assert!(
        out.stdout.starts_with("error[INVENTORY]: "),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("--> fixtures/check/inventory-invalid.json:4:"),
        "{}",
        out.stdout
    );
}

#[test]
fn stdin_is_read_for_a_dash() {
    let out = run_with(
        &["check", "--format", "json", "-"],
        Some("{\"acls\": []}\n"),
    );
    assert_eq!(out.code, 0, "{}", out.stdout);
    let report: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(report["files"][0]["path"], "<stdin>");
}

// ---------------------------------------------------------------------------------------
// Usage

#[test]
fn usage_errors_exit_2_with_nothing_on_stdout() {
    for args in [
        &[][..],
        &["check"][..],
        &["check", "--format", "xml", "fixtures/check/valid.hujson"][..],
        &["check", "--frobnicate", "fixtures/check/valid.hujson"][..],
        &["lint-everything"][..],
    ] {
        let out = run(args);
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
        assert_eq!(out.stdout, "", "{args:?}");
        assert!(!out.stderr.is_empty(), "{args:?}");
    }
}

#[test]
fn help_and_version_exit_0() {
    let help = run(&["check", "--help"]);
    assert_eq!(help.code, 0);
    assert!(
        help.stdout.contains("--inventory <FILE>"),
        "{}",
        help.stdout
    );
    assert!(help.stdout.contains("--format <FORMAT>"), "{}", help.stdout);
    let version = run(&["--version"]);
    assert_eq!(version.code, 0);
    // `tailpolicy 0.1.0 (commit 0123456789ab)`: the commit from build.rs, "unknown" outside git.
    let expected = format!("tailpolicy {} (commit ", env!("CARGO_PKG_VERSION"));
    let commit = version
        .stdout
        .trim_end()
        .strip_prefix(&expected)
        .and_then(|rest| rest.strip_suffix(')'))
        .unwrap_or_else(|| panic!("{}", version.stdout));
    assert!(
        commit == "unknown"
            || (commit.len() == 12 && commit.chars().all(|c| c.is_ascii_hexdigit())),
        "{commit}"
    );
}

/// Runs `sh_command` under `script` (util-linux), so that its standard output is a terminal;
/// `None` when `script` is not installed. Returns what reached the terminal.
fn on_a_terminal(sh_command: &str) -> Option<String> {
    let output = std::process::Command::new("script")
        .args(["-q", "-e", "-c", sh_command, "/dev/null"])
        .current_dir(workspace_root())
        .env_remove("NO_COLOR")
        .stdin(std::process::Stdio::null())
        .output()
        .ok()?;
    Some(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Colour is decided for the stream written to: `query` reports an invalid policy on stderr,
/// so `2>log` from a terminal gets plain text, while `check` on a terminal is coloured.
#[test]
fn colour_follows_the_stream_written_to() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("bad.hujson");
    std::fs::write(&policy, r#"{"acls": [{"action": "bogus"}]}"#).unwrap();
    let log = dir.path().join("err.log");
    let bin = env!("CARGO_BIN_EXE_tailpolicy");
    let quoted = |p: &Path| format!("'{}'", p.display());
    let Some(terminal) = on_a_terminal(&format!(
        "{} check {}",
        quoted(Path::new(bin)),
        quoted(&policy)
    )) else {
        println!("skipped: `script` (util-linux) is not installed");
        return;
    };
    // The control: stdout on a terminal is coloured, so the terminal is real.
    assert!(terminal.contains("error[E303]"), "{terminal}");
    assert!(terminal.contains('\u{1b}'), "{terminal}");

    let terminal = on_a_terminal(&format!(
        "{} query {} --src a --dst b:1 2>{}",
        quoted(Path::new(bin)),
        quoted(&policy),
        quoted(&log)
    ))
    .unwrap();
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.contains("error[E303]"), "{logged} / {terminal}");
    assert!(
        !logged.contains('\u{1b}'),
        "escape codes in the log: {logged:?}"
    );
}
