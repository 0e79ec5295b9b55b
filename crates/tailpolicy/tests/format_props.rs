//! Property tests for the formatter, on random HuJSON, on every policy of the conformance
//! corpus (as written and re-written with random trivia), and on the repository fixtures:
//!
//! * (a) idempotence: `format(format(x)) == format(x)`;
//! * (b) only layout changes: with whitespace outside strings and comments and all commas
//!   removed, strings compared by their decoded value and comments without any whitespace
//!   (the formatter re-indents block comments and trims line ends), input and output are equal;
//! * (c) the output parses to the same value (`Value::to_json`) with the same comments in the
//!   same order;
//! * and the layout invariants: one final newline, no line ending in whitespace, no `\r`.
//!
//! That the output is exactly `hujson.Format`'s is checked by `hujson_oracle.rs`.
#![expect(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a panic fails the test, and clippy.toml's test exemptions do not reach helpers outside `#[test]` functions"
)]

mod common;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use tailpolicy::FormatError;
use tailpolicy::syntax::{Value, ValueKind, parse};

// ---------------------------------------------------------------------------------------------
// The properties

/// A comment's text without any whitespace: what formatting may not change.
fn normalize_comment(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

/// A string literal by its decoded value (the formatter re-escapes strings).
fn normalize_string(literal: &str) -> String {
    match serde_json::from_str::<String>(literal) {
        Ok(decoded) => serde_json::to_string(&decoded).unwrap(),
        // Lone surrogates: Go (and the formatter) read them as U+FFFD.
        Err(_) => literal.to_owned(),
    }
}

/// The text without whitespace outside strings and comments and without commas; strings and
/// comments normalized. Written independently of the parser: a small lexer for valid HuJSON.
fn significant(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c == '"' {
            // A string, up to its closing unescaped quote.
            let mut end = 1;
            let mut escaped = false;
            for (i, c) in rest.char_indices().skip(1) {
                end = i + c.len_utf8();
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == '"' {
                    break;
                }
            }
            out.push_str(&normalize_string(&rest[..end]));
            rest = &rest[end..];
        } else if rest.starts_with("//") {
            let end = rest.find('\n').unwrap_or(rest.len());
            out.push_str(&normalize_comment(&rest[..end]));
            rest = &rest[end..];
        } else if rest.starts_with("/*") {
            let end = rest[2..].find("*/").map_or(rest.len(), |i| i + 4);
            out.push_str(&normalize_comment(&rest[..end]));
            rest = &rest[end..];
        } else {
            if !matches!(c, ' ' | '\t' | '\r' | '\n' | ',') {
                out.push(c);
            }
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

fn comment_texts(text: &str) -> Vec<String> {
    parse(text)
        .comments
        .iter()
        .map(|span| normalize_comment(&text[span.range()]))
        .collect()
}

/// Checks every property for one input that parses; returns the formatted text.
fn check_properties(input: &str) -> Result<String, TestCaseError> {
    let parsed = parse(input);
    let Some(value) = parsed.value else {
        return Err(TestCaseError::fail(format!(
            "input does not parse: {input:?}"
        )));
    };
    let output = match tailpolicy::format(input) {
        Ok(output) => output,
        Err(e) => return Err(TestCaseError::fail(format!("{e} {e:?} for {input:?}"))),
    };
    // (a)
    let again = tailpolicy::format(&output).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(&again, &output, "not idempotent; input {:?}", input);
    // (b)
    prop_assert_eq!(
        significant(&output),
        significant(input),
        "more than the layout changed:\n{}\n--- from\n{}",
        output,
        input
    );
    // (c)
    let reparsed = parse(&output);
    prop_assert!(
        reparsed.value.as_ref().map(Value::to_json) == Some(value.to_json()),
        "value changed:\n{}\n--- from\n{}",
        output,
        input
    );
    // The same duplicate-key errors, if any.
    prop_assert_eq!(reparsed.diagnostics.len(), parsed.diagnostics.len());
    prop_assert_eq!(comment_texts(&output), comment_texts(input));
    // Layout invariants.
    prop_assert!(
        output.ends_with('\n') && !output.ends_with("\n\n"),
        "{:?}",
        output
    );
    prop_assert!(!output.contains('\r'), "{:?}", output);
    for line in output.lines() {
        prop_assert!(
            !line.ends_with([' ', '\t']),
            "line ends in whitespace: {:?} in\n{}",
            line,
            output
        );
    }
    Ok(output)
}

// ---------------------------------------------------------------------------------------------
// Random HuJSON: a tree of raw JSON tokens (duplicate keys allowed), written with random trivia

#[derive(Debug, Clone)]
enum Tree {
    /// A scalar exactly as written.
    Leaf(String),
    Array(Vec<Tree>),
    /// Keys as written, quotes included.
    Object(Vec<(String, Tree)>),
}

/// A JSON string literal for `s`, with some characters escaped as `\uXXXX` when `escape`.
fn string_literal(s: &str, escape: bool) -> String {
    if !escape {
        return serde_json::to_string(s).unwrap();
    }
    let mut out = String::from("\"");
    for unit in s.encode_utf16() {
        match unit {
            0x22 => out.push_str("\\\""),
            0x5c => out.push_str("\\\\"),
            0x2f => out.push_str("\\/"),
            0x20..=0x7e => out.push(char::from(unit as u8)),
            _ => write!(out, "\\u{unit:04X}").unwrap(),
        }
    }
    out.push('"');
    out
}

fn arb_string() -> impl Strategy<Value = String> {
    (
        prop_oneof![
            3 => "[a-z:@./*-]{0,24}",
            1 => ".{0,12}",
            1 => "[a-zA-Z0-9 ]{30,70}",
        ],
        any::<bool>(),
    )
        .prop_map(|(s, escape)| string_literal(&s, escape))
}

fn arb_leaf() -> impl Strategy<Value = Tree> {
    prop_oneof![
        Just("null".to_owned()),
        Just("true".to_owned()),
        Just("false".to_owned()),
        any::<i64>().prop_map(|n| n.to_string()),
        prop::sample::select(vec!["-0", "1.0e3", "0.5E-7", "1e+300", "12.50"])
            .prop_map(str::to_owned),
        arb_string(),
    ]
    .prop_map(Tree::Leaf)
}

fn arb_tree() -> impl Strategy<Value = Tree> {
    arb_leaf().prop_recursive(5, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Tree::Array),
            prop::collection::vec(
                (prop_oneof![arb_string(), Just("\"dup\"".to_owned())], inner),
                0..8
            )
            .prop_map(Tree::Object),
        ]
    })
}

/// A tiny deterministic generator so one `u64` seed picks all the trivia.
struct Noise(u64);

impl Noise {
    fn next(&mut self, n: u64) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }
}

const TRIVIA: &[&str] = &[
    "",
    "",
    "",
    " ",
    "\n",
    "\n",
    "\t",
    "\r\n",
    "\n\n\n",
    "  \n    ",
    "// line\n",
    "// trailing blanks \t \n",
    "//\r\n",
    "/* block */",
    "/**/",
    "/* multi\n   line */",
    "/* crlf \r\n inside \t\r\n*/",
    "/***/ //x\n",
    "/* a */ /* b */",
    "\n// own line\n\n",
    "/* lone \r cr */",
    "/*\n * starred\n */\n",
];

/// Trivia that may end a document (a `//` comment needs its line break there too).
const FINAL_TRIVIA: &[&str] = &[
    "",
    "\n",
    "// eof\n",
    "// eof\r\n",
    "/* eof */",
    "\n\n// eof  \n\n",
];

struct Writer {
    noise: Noise,
    out: String,
    /// How likely trivia is, out of 8: low gives inline containers, high expanded ones.
    density: u64,
}

impl Writer {
    fn trivia(&mut self) {
        if self.noise.next(8) < self.density {
            let text = TRIVIA[self.noise.next(TRIVIA.len() as u64) as usize];
            self.out.push_str(text);
        }
    }

    fn value(&mut self, tree: &Tree) {
        match tree {
            Tree::Leaf(raw) => self.out.push_str(raw),
            Tree::Array(items) => {
                self.out.push('[');
                for (i, item) in items.iter().enumerate() {
                    self.trivia();
                    self.value(item);
                    self.trivia();
                    if i + 1 < items.len() || self.noise.next(3) == 0 {
                        self.out.push(',');
                    }
                }
                self.trivia();
                self.out.push(']');
            }
            Tree::Object(members) => {
                self.out.push('{');
                for (i, (key, item)) in members.iter().enumerate() {
                    self.trivia();
                    self.out.push_str(key);
                    self.trivia();
                    self.out.push(':');
                    self.trivia();
                    self.value(item);
                    self.trivia();
                    if i + 1 < members.len() || self.noise.next(3) == 0 {
                        self.out.push(',');
                    }
                }
                self.trivia();
                self.out.push('}');
            }
        }
    }
}

fn hujson(tree: &Tree, seed: u64, density: u64) -> String {
    let mut writer = Writer {
        noise: Noise(seed | 1),
        out: String::new(),
        density,
    };
    writer.trivia();
    writer.value(tree);
    let end = FINAL_TRIVIA[writer.noise.next(FINAL_TRIVIA.len() as u64) as usize];
    writer.out.push_str(end);
    writer.out
}

/// A parsed value as a tree of its raw tokens.
fn tree_of(text: &str, value: &Value) -> Tree {
    match &value.kind {
        ValueKind::Array(items) => Tree::Array(items.iter().map(|v| tree_of(text, v)).collect()),
        ValueKind::Object(members) => Tree::Object(
            members
                .iter()
                .map(|m| (text[m.key_span.range()].to_owned(), tree_of(text, &m.value)))
                .collect(),
        ),
        _ => Tree::Leaf(text[value.span.range()].to_owned()),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(768))]

    #[test]
    fn random_hujson_formats_with_every_property(
        tree in arb_tree(),
        seed in any::<u64>(),
        density in 0u64..=8,
    ) {
        let text = hujson(&tree, seed, density);
        check_properties(&text)?;
    }

    #[test]
    fn any_text_formats_or_fails_cleanly(text in "[\\[\\]{}\",:/*\\\\ \n\r\t0-9a-z.'#+\u{e9}-]{0,48}") {
        match tailpolicy::format(&text) {
            Ok(_) => {
                check_properties(&text)?;
            }
            Err(FormatError::Syntax(diagnostics)) => prop_assert!(!diagnostics.is_empty()),
            Err(e @ FormatError::Internal(_)) => prop_assert!(false, "{e} for {text:?}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Real policies

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn hujson_fixtures(dir: &Path, found: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            hujson_fixtures(&path, found);
        } else if path.extension().is_some_and(|e| e == "hujson") {
            found.push(path);
        }
    }
}

fn run(text: &str, what: &str) -> String {
    check_properties(text).unwrap_or_else(|e| panic!("{what}: {e}"))
}

#[test]
fn fixtures_format_with_every_property() {
    let mut fixtures = Vec::new();
    hujson_fixtures(&workspace_root().join("fixtures"), &mut fixtures);
    assert!(fixtures.len() >= 5, "{fixtures:?}");
    let mut formatted = 0;
    for path in &fixtures {
        let text = std::fs::read_to_string(path).unwrap();
        if parse(&text).value.is_none() {
            // A fixture with a syntax error: the formatter refuses it.
            let err = tailpolicy::format(&text).unwrap_err();
            assert!(!err.diagnostics().is_empty(), "{}", path.display());
            continue;
        }
        run(&text, &path.display().to_string());
        formatted += 1;
    }
    assert!(formatted >= 3, "{formatted}");
}

#[test]
fn corpus_policies_format_with_every_property() {
    let Some(cases) = common::load_cases("saas") else {
        return;
    };
    let mut formatted = 0;
    for (i, case) in cases.iter().enumerate() {
        let parsed = parse(&case.policy);
        let Some(value) = parsed.value else {
            // Syntax-error captures: the formatter must refuse them, without output.
            assert!(tailpolicy::format(&case.policy).is_err(), "{}", case.name);
            continue;
        };
        run(&case.policy, &case.name);
        // The same policy with random trivia, inline-leaning and expanded-leaning.
        let tree = tree_of(&case.policy, &value);
        for density in [1, 6] {
            let text = hujson(&tree, i as u64 * 7919 + density, density);
            run(&text, &format!("{} (trivia {density})", case.name));
        }
        formatted += 1;
    }
    println!("formatted {formatted} of {} corpus policies", cases.len());
    assert!(formatted > 500, "{formatted}");
}
