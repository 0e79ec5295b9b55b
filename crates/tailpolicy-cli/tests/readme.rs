//! The README's examples are real output: every code block after a line
//! `<!-- example: ARGS -->` is what `tailpolicy ARGS` prints, run from the repository root,
//! with `policy.hujson` (the README's broken example, `{acls: []}`) in a scratch directory
//! when the arguments name it. JSON blocks are compared as values.

use std::path::Path;

use assert_cmd::Command;

const README: &str = include_str!("../../../README.md");

/// `(args, block)` for every marked example.
fn examples() -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut lines = README.lines();
    while let Some(line) = lines.next() {
        let Some(args) = line
            .strip_prefix("<!-- example: ")
            .and_then(|rest| rest.strip_suffix(" -->"))
        else {
            continue;
        };
        let fence = lines.next().unwrap_or_default();
        assert!(fence.starts_with("```"), "a code block follows `{line}`");
        let block: Vec<&str> = lines.by_ref().take_while(|l| *l != "```").collect();
        found.push((args.to_owned(), block.join("\n") + "\n"));
    }
    found
}

#[test]
fn every_readme_example_is_what_the_command_prints() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let scratch = tempfile::tempdir().unwrap();
    std::fs::write(scratch.path().join("policy.hujson"), "{acls: []}\n").unwrap();
    let examples = examples();
    assert!(examples.len() >= 3, "{} examples", examples.len());
    for (args, expected) in examples {
        let words: Vec<&str> = args.split_whitespace().collect();
        let dir = if words.contains(&"policy.hujson") {
            scratch.path().to_path_buf()
        } else {
            root.clone()
        };
        let output = Command::cargo_bin("tailpolicy")
            .unwrap()
            .args(&words)
            .current_dir(&dir)
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let stdout = String::from_utf8(output.stdout).unwrap();
        if expected.trim_start().starts_with('{') {
            let real: serde_json::Value = serde_json::from_str(&stdout).unwrap();
            let shown: serde_json::Value = serde_json::from_str(&expected).unwrap();
            assert_eq!(real, shown, "README example `tailpolicy {args}`");
        } else {
            assert_eq!(stdout, expected, "README example `tailpolicy {args}`");
        }
    }
}
