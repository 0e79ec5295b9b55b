//! Differential test against Tailscale's own HuJSON library (`github.com/tailscale/hujson`,
//! built as `hujson-oracle` from `../shared/oracles/hujson`; `scripts/test.sh` builds it).
//!
//! * `fmt` output equals `hujson.Format` byte for byte on every corpus policy and fixture, on
//!   generated re-layouts of them (line breaks, indentation, comments, CRLF, minifying,
//!   string escapes, trailing commas) and of random documents, and every `hujson.Format`
//!   output is left unchanged by [`tailpolicy::format`];
//! * [`tailpolicy::syntax::parse`] accepts exactly what `hujson.Parse` accepts, on mutated
//!   inputs, apart from the two documented differences: input that is not UTF-8 (refused) and
//!   nesting deeper than [`tailpolicy::syntax::MAX_DEPTH`].
//!
//! The oracle is `$TAILPOLICY_HUJSON_ORACLE`, else `target/hujson-oracle/bin/hujson-oracle`.
//! Without it the tests say they were skipped; under `CI=true` that is a failure. Inputs go to
//! the oracle in one batch per test (paths on stdin, one JSON verdict per line).

#![allow(clippy::print_stdout, reason = "the tests print their tables")]
#![expect(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a panic fails the test, and clippy.toml's test exemptions do not reach helpers outside `#[test]` functions"
)]

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;

// ---------------------------------------------------------------------------------------------
// The oracle

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn oracle() -> Option<PathBuf> {
    let path = std::env::var_os("TAILPOLICY_HUJSON_ORACLE")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target/hujson-oracle/bin/hujson-oracle"));
    if path.is_file() {
        return Some(path);
    }
    let build = "bash ../shared/oracles/hujson/build.sh target/hujson-oracle";
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!(
            "hujson oracle not found at {} (build it: {build})",
            path.display()
        );
    }
    println!(
        "skipped: hujson oracle not found at {} (build it: {build})",
        path.display()
    );
    None
}

/// What `hujson.Format` made of one input.
struct Verdict {
    /// `hujson.Parse` accepted it.
    ok: bool,
    /// `hujson.Format`'s output (when `ok`).
    format: Vec<u8>,
    error: String,
}

/// Runs the oracle on every input, in one process.
fn run_oracle(oracle: &Path, name: &str, inputs: &[Vec<u8>]) -> Vec<Verdict> {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("hujson-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut paths = String::new();
    for (i, input) in inputs.iter().enumerate() {
        let path = dir.join(format!("{i}.hujson"));
        std::fs::write(&path, input).unwrap();
        paths.push_str(path.to_str().unwrap());
        paths.push('\n');
    }
    let mut child = Command::new(oracle)
        .arg("batch")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", oracle.display()));
    let mut stdin = child.stdin.take().unwrap();
    // Written from a thread: the oracle answers while it reads.
    let writer = std::thread::spawn(move || stdin.write_all(paths.as_bytes()));
    let mut verdicts = Vec::with_capacity(inputs.len());
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let record: serde_json::Value = serde_json::from_str(&line.unwrap()).unwrap();
        verdicts.push(Verdict {
            ok: record["ok"].as_bool().unwrap_or(false),
            format: base64(record["format"].as_str().unwrap_or("")),
            error: record["error"].as_str().unwrap_or("").to_owned(),
        });
    }
    writer.join().unwrap().unwrap();
    assert!(child.wait().unwrap().success());
    assert_eq!(verdicts.len(), inputs.len(), "the oracle skipped inputs");
    let _ = std::fs::remove_dir_all(&dir);
    verdicts
}

fn base64(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => u32::from(c - b'A'),
        b'a'..=b'z' => u32::from(c - b'a') + 26,
        b'0'..=b'9' => u32::from(c - b'0') + 52,
        b'+' => 62,
        _ => 63,
    };
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    for chunk in text.as_bytes().chunks(4) {
        let digits: Vec<u8> = chunk.iter().copied().filter(|&c| c != b'=').collect();
        let n = digits
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &c)| n | (value(c) << (18 - 6 * i)));
        out.extend(
            n.to_be_bytes()
                .into_iter()
                .skip(1)
                .take(digits.len().saturating_sub(1)),
        );
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The inputs

/// Every corpus policy (`saas` and `unit`) and every `.hujson` fixture, with a name.
fn sources() -> Vec<(String, String)> {
    let mut sources = Vec::new();
    for part in ["saas", "unit"] {
        for case in common::load_cases(part).unwrap_or_default() {
            sources.push((format!("{part}/{}/{}", case.folder, case.name), case.policy));
        }
    }
    let mut fixtures = Vec::new();
    hujson_files(&workspace_root().join("fixtures"), &mut fixtures);
    assert!(fixtures.len() >= 5, "{fixtures:?}");
    for path in fixtures {
        let text = std::fs::read_to_string(&path).unwrap();
        sources.push((path.display().to_string(), text));
    }
    sources
}

fn hujson_files(dir: &Path, found: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            hujson_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "hujson") {
            found.push(path);
        }
    }
}

/// A token of valid HuJSON, as written.
#[derive(Debug, Clone, PartialEq)]
enum Token<'a> {
    Punct(u8),
    Scalar(&'a str),
    Comment(&'a str),
    Space(&'a str),
}

/// Splits valid HuJSON into tokens (a `//` comment without its line break).
fn tokens(text: &str) -> Vec<Token<'_>> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let rest = &text[i..];
        let len = match bytes[i] {
            b'{' | b'}' | b'[' | b']' | b',' | b':' => {
                out.push(Token::Punct(bytes[i]));
                1
            }
            b' ' | b'\t' | b'\r' | b'\n' => {
                let n = rest
                    .find(|c| !matches!(c, ' ' | '\t' | '\r' | '\n'))
                    .unwrap_or(rest.len());
                out.push(Token::Space(&rest[..n]));
                n
            }
            b'/' if rest.starts_with("//") => {
                let n = rest.find('\n').unwrap_or(rest.len());
                out.push(Token::Comment(&rest[..n]));
                n
            }
            b'/' => {
                let n = rest[2..].find("*/").map_or(rest.len(), |n| n + 4);
                out.push(Token::Comment(&rest[..n]));
                n
            }
            b'"' => {
                let mut n = 1;
                let mut escaped = false;
                for (j, c) in rest.char_indices().skip(1) {
                    n = j + c.len_utf8();
                    match c {
                        _ if escaped => escaped = false,
                        '\\' => escaped = true,
                        '"' => break,
                        _ => {}
                    }
                }
                out.push(Token::Scalar(&rest[..n]));
                n
            }
            _ => {
                let n = rest
                    .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '+' | '.')))
                    .unwrap_or(rest.len());
                out.push(Token::Scalar(&rest[..n.max(1)]));
                n.max(1)
            }
        };
        i += len;
    }
    out
}

/// How a re-layout writes the whitespace between tokens.
#[derive(Debug, Clone, Copy)]
enum Base {
    /// As in the source.
    Original,
    /// None (comments kept, a line break after each `//` comment).
    Minified,
    /// The source's line breaks, re-indented with `indent` per level.
    Reindented,
    /// A line break at random token boundaries.
    RandomBreaks,
}

/// One generated re-layout of a source.
#[derive(Debug, Clone)]
struct Layout {
    seed: u64,
    base: Base,
    indent: &'static str,
    /// Out of 16: how often a comment is inserted at a token boundary.
    comments: u64,
    /// Out of 16: how often stray spaces and tabs are added.
    spaces: u64,
    /// Line endings: 0 `\n`, 1 `\r\n`, 2 a mix of `\n`, `\r\n` and `\n\r`.
    line_endings: u8,
    escapes: bool,
    /// Add or drop trailing commas at random.
    commas: bool,
}

fn arb_layout() -> impl Strategy<Value = Layout> {
    (
        any::<u64>(),
        prop_oneof![
            Just(Base::Original),
            Just(Base::Minified),
            Just(Base::Reindented),
            Just(Base::RandomBreaks)
        ],
        prop::sample::select(vec!["\t", "  ", "    ", " ", "\t  "]),
        prop_oneof![2 => Just(0u64), 1 => 1u64..4, 1 => 4u64..12],
        prop_oneof![2 => Just(0u64), 1 => 1u64..8],
        prop_oneof![2 => Just(0u8), 1 => Just(1u8), 1 => Just(2u8)],
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(seed, base, indent, comments, spaces, line_endings, escapes, commas)| Layout {
                seed,
                base,
                indent,
                comments,
                spaces,
                line_endings,
                escapes,
                commas,
            },
        )
}

/// A tiny deterministic generator: one seed picks every choice of a layout.
struct Noise(u64);

impl Noise {
    fn next(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }

    fn chance(&mut self, out_of_16: u64) -> bool {
        self.next(16) < out_of_16
    }
}

const COMMENTS: &[&str] = &[
    "// note\n",
    "//\n",
    "// trailing blanks \t \n",
    "/* c */",
    "/**/",
    "/* multi\n   line */",
    "/*\n * starred\n * block\n */",
    "/* one\n\n   blank */",
    "/*\tindented\n\t\tmore\n\t*/",
    "/* a */ /* b */",
    "/* \u{e9}t\u{e9} \u{2014} width in bytes */",
    "// a very long comment line that by itself is wider than the eighty columns hujson allows\n",
];

/// A random block comment over several lines: indentation, `*` columns, blank lines and
/// trailing blanks, which hujson re-indents.
fn block_comment(noise: &mut Noise) -> String {
    const PIECES: &[&str] = &[
        "*", " ", "\t", "  ", "x", "**", "/", "y z", " * ", "\u{a0}", "\t*",
    ];
    const CLOSINGS: &[&str] = &[" ", "\t", "  ", "x ", " *"];
    let piece = |noise: &mut Noise, from: &[&str], most: u64| {
        let mut text = String::new();
        for _ in 0..noise.next(most + 1) {
            text.push_str(from[noise.next(from.len() as u64) as usize]);
        }
        text
    };
    let mut comment = format!("/*{}", piece(noise, PIECES, 3));
    for _ in 0..1 + noise.next(4) {
        comment.push('\n');
        comment.push_str(&piece(noise, PIECES, 4));
    }
    comment.push('\n');
    comment.push_str(&piece(noise, CLOSINGS, 3));
    // Only the last `*/` may close it.
    comment.replace("*/", "* /") + "*/"
}

/// Writes `source` (valid HuJSON) anew in `layout`.
fn relayout(source: &str, layout: &Layout) -> String {
    let tokens = tokens(source);
    let mut noise = Noise(layout.seed | 1);
    let mut out = String::with_capacity(source.len() * 2);
    let mut depth = 0usize;
    // Whether the last significant token ended a value (so a trailing comma may follow).
    let mut after_value = false;
    let significant = |from: usize| {
        tokens[from..]
            .iter()
            .find(|t| !matches!(t, Token::Space(_) | Token::Comment(_)))
            .cloned()
    };
    for (i, token) in tokens.iter().enumerate() {
        if let Token::Space(space) = token {
            let breaks = space.matches('\n').count();
            match layout.base {
                Base::Original => out.push_str(space),
                Base::Reindented if breaks > 0 => {
                    let closing = matches!(significant(i), Some(Token::Punct(b'}' | b']')));
                    out.push_str(&"\n".repeat(breaks.min(3)));
                    out.push_str(
                        &layout
                            .indent
                            .repeat(depth.saturating_sub(usize::from(closing))),
                    );
                }
                _ => {}
            }
            continue;
        }
        if let Base::RandomBreaks = layout.base
            && noise.next(3) == 0
        {
            out.push('\n');
            out.push_str(&layout.indent.repeat(depth));
        }
        if layout.spaces > 0 && noise.chance(layout.spaces) {
            out.push_str([" ", "\t", "  ", " \t "][noise.next(4) as usize]);
        }
        if layout.comments > 0 && noise.chance(layout.comments) {
            if noise.next(4) == 0 {
                out.push_str(&block_comment(&mut noise));
            } else {
                out.push_str(COMMENTS[noise.next(COMMENTS.len() as u64) as usize]);
            }
            if noise.next(2) == 0 {
                out.push(' ');
            }
        }
        match token {
            Token::Punct(b) => {
                match b {
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth = depth.saturating_sub(1);
                        if layout.commas && after_value && noise.next(3) == 0 {
                            // A trailing comma, after any inserted comment: hujson keeps
                            // it there.
                            out.push(',');
                        }
                    }
                    _ => {}
                }
                let drop_comma = *b == b','
                    && layout.commas
                    && matches!(significant(i + 1), Some(Token::Punct(b'}' | b']')))
                    && noise.next(2) == 0;
                if !drop_comma {
                    out.push(char::from(*b));
                }
                after_value = matches!(b, b'}' | b']');
            }
            Token::Scalar(raw) => {
                if layout.escapes && raw.starts_with('"') && noise.next(2) == 0 {
                    out.push_str(&escape(raw, &mut noise));
                } else {
                    out.push_str(raw);
                }
                after_value = true;
            }
            Token::Comment(text) => {
                out.push_str(text);
                if text.starts_with("//") {
                    // Its line break is in the following space, unless minified.
                    if !matches!(tokens.get(i + 1), Some(Token::Space(s)) if s.contains('\n'))
                        || !matches!(layout.base, Base::Original | Base::Reindented)
                    {
                        out.push('\n');
                        out.push_str(&layout.indent.repeat(depth));
                    }
                }
            }
            Token::Space(_) => {}
        }
        if let Base::Minified | Base::RandomBreaks = layout.base
            && i + 1 == tokens.len()
            && noise.next(2) == 0
        {
            out.push('\n');
        }
    }
    if layout.comments > 0 && noise.chance(layout.comments) {
        // Comments after the root value.
        out.push_str(COMMENTS[noise.next(COMMENTS.len() as u64) as usize]);
        out.push_str(["", "\n", " \n\n"][noise.next(3) as usize]);
    }
    match layout.line_endings {
        1 => out.replace('\n', "\r\n"),
        2 => {
            let mut mixed = String::with_capacity(out.len() + out.len() / 8);
            for c in out.chars() {
                if c == '\n' {
                    mixed.push_str(["\n", "\r\n", "\n\r"][noise.next(3) as usize]);
                } else {
                    mixed.push(c);
                }
            }
            mixed
        }
        _ => out,
    }
}

/// A string literal written again with random escapes (`\uXXXX` in either case, `\/`).
fn escape(raw: &str, noise: &mut Noise) -> String {
    let Ok(decoded) = serde_json::from_str::<String>(raw) else {
        return raw.to_owned();
    };
    let mut out = String::from("\"");
    for c in decoded.chars() {
        let mut units = [0u16; 2];
        match c {
            '/' if noise.next(2) == 0 => out.push_str("\\/"),
            _ if noise.next(4) == 0 || c < ' ' => {
                for unit in c.encode_utf16(&mut units) {
                    if noise.next(2) == 0 {
                        out.push_str(&format!("\\u{unit:04x}"));
                    } else {
                        out.push_str(&format!("\\u{unit:04X}"));
                    }
                }
            }
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

// ---------------------------------------------------------------------------------------------
// Comparing

/// Formats every input with tailpolicy and compares with the oracle; returns a table and the
/// number of disagreements. Inputs that are not UTF-8 or nest too deep are counted apart.
#[derive(Default)]
struct Tally {
    inputs: usize,
    both_accept: usize,
    both_reject: usize,
    format_equal: usize,
    format_differ: Vec<String>,
    verdict_differ: Vec<String>,
    not_utf8: usize,
    /// Of those, how many `hujson.Parse` accepts.
    not_utf8_hujson_accepts: usize,
    too_deep: usize,
    /// `hujson.Format` outputs that `tailpolicy::format` changes.
    output_changed: Vec<String>,
}

impl Tally {
    fn add(&mut self, name: &str, input: &[u8], verdict: &Verdict) {
        self.inputs += 1;
        let Ok(text) = std::str::from_utf8(input) else {
            // Documented difference: tailpolicy refuses such input before parsing.
            self.not_utf8 += 1;
            self.not_utf8_hujson_accepts += usize::from(verdict.ok);
            return;
        };
        let ours = tailpolicy::format(text);
        match (&ours, verdict.ok) {
            (Ok(out), true) => {
                self.both_accept += 1;
                if out.as_bytes() == verdict.format.as_slice() {
                    self.format_equal += 1;
                } else {
                    self.format_differ.push(format!(
                        "{name}: input {text:?}\n  hujson: {:?}\n  ours:   {out:?}",
                        String::from_utf8_lossy(&verdict.format)
                    ));
                }
                let hujson = String::from_utf8_lossy(&verdict.format);
                match tailpolicy::format(&hujson) {
                    Ok(again) if again == hujson => {}
                    other => self.output_changed.push(format!(
                        "{name}: hujson output {hujson:?}\n  ours: {other:?}"
                    )),
                }
            }
            (Err(_), false) => self.both_reject += 1,
            (Err(error), true) if is_too_deep(error) => self.too_deep += 1,
            _ => self.verdict_differ.push(format!(
                "{name}: input {text:?}\n  hujson: {}\n  ours:   {:?}",
                if verdict.ok {
                    "accepts"
                } else {
                    &verdict.error
                },
                ours.as_ref()
                    .map(|_| "accepts")
                    .map_err(|e| e.diagnostics().to_vec())
            )),
        }
    }

    fn report(&self, what: &str) {
        let accepted = self.both_accept.max(1);
        println!("hujson differential: {what}");
        println!("  inputs                        {:>7}", self.inputs);
        println!("  accepted by both              {:>7}", self.both_accept);
        println!("  rejected by both              {:>7}", self.both_reject);
        println!(
            "  verdicts differ (undocumented){:>7}",
            self.verdict_differ.len()
        );
        println!(
            "  not UTF-8 (refused; documented){:>6} (hujson accepts {})",
            self.not_utf8, self.not_utf8_hujson_accepts
        );
        println!("  nesting > 256 (documented)    {:>7}", self.too_deep);
        println!(
            "  fmt == hujson.Format          {:>7} ({:.1}%)",
            self.format_equal,
            100.0 * self.format_equal as f64 / accepted as f64
        );
        println!(
            "  hujson outputs left unchanged {:>7} ({:.1}%)",
            self.both_accept - self.output_changed.len(),
            100.0 * (self.both_accept - self.output_changed.len()) as f64 / accepted as f64
        );
        let failures: Vec<&String> = self
            .verdict_differ
            .iter()
            .chain(&self.format_differ)
            .chain(&self.output_changed)
            .collect();
        assert!(
            failures.is_empty(),
            "{} disagreements with hujson; the first:\n{}",
            failures.len(),
            failures
                .iter()
                .take(5)
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

fn is_too_deep(error: &tailpolicy::FormatError) -> bool {
    error
        .diagnostics()
        .iter()
        .any(|d| d.message.starts_with("nesting too deep"))
}

fn compare(what: &str, named: Vec<(String, Vec<u8>)>) -> Tally {
    let mut tally = Tally::default();
    let Some(oracle) = oracle() else {
        return tally;
    };
    let inputs: Vec<Vec<u8>> = named.iter().map(|(_, input)| input.clone()).collect();
    let start = std::time::Instant::now();
    let verdicts = run_oracle(&oracle, what, &inputs);
    let oracle_time = start.elapsed();
    for ((name, input), verdict) in named.iter().zip(&verdicts) {
        tally.add(name, input, verdict);
    }
    println!(
        "(oracle {:.1} s, tailpolicy {:.1} s)",
        oracle_time.as_secs_f64(),
        (start.elapsed() - oracle_time).as_secs_f64()
    );
    tally
}

// ---------------------------------------------------------------------------------------------
// The tests

#[test]
fn corpus_and_fixtures_format_as_hujson_does() {
    if oracle().is_none() {
        return;
    }
    let named = sources()
        .into_iter()
        .map(|(name, text)| (name, text.into_bytes()))
        .collect();
    let tally = compare("sources", named);
    tally.report("corpus policies and fixtures");
    assert!(tally.both_accept > 900, "{}", tally.both_accept);
}

/// Re-layouts per source.
const LAYOUTS: usize = 12;

#[test]
fn relayouts_format_as_hujson_does() {
    if oracle().is_none() {
        return;
    }
    let mut runner = TestRunner::deterministic();
    let strategy = arb_layout();
    let mut named = Vec::new();
    for (name, text) in sources() {
        if tailpolicy::syntax::parse(&text).value.is_none() {
            continue;
        }
        for k in 0..LAYOUTS {
            let layout = strategy.new_tree(&mut runner).unwrap().current();
            named.push((
                format!("{name} #{k} {layout:?}"),
                relayout(&text, &layout).into_bytes(),
            ));
        }
    }
    let tally = compare("relayouts", named);
    tally.report("generated re-layouts");
    assert!(tally.both_accept > 10_000, "{}", tally.both_accept);
}

/// A random JSON document, minified (re-laid out afterwards): shapes the corpus lacks, such
/// as long strings, deep nesting, escapes and wide characters.
fn arb_document() -> impl Strategy<Value = String> {
    let string = prop_oneof![
        3 => "[a-z:@./*-]{0,12}",
        1 => ".{0,10}",
        1 => "[a-zA-Z0-9 \u{e9}\u{4e16}]{20,60}",
    ]
    .prop_map(|s| serde_json::to_string(&s).unwrap());
    let leaf = prop_oneof![
        Just("null".to_owned()),
        Just("true".to_owned()),
        any::<i32>().prop_map(|n| n.to_string()),
        prop::sample::select(vec!["-0", "1.5e3", "0.25E-7", "12.50"]).prop_map(str::to_owned),
        string.clone(),
    ];
    leaf.prop_recursive(6, 48, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8)
                .prop_map(|items| format!("[{}]", items.join(","))),
            prop::collection::vec((string.clone(), inner), 0..8).prop_map(|members| {
                let members: Vec<String> =
                    members.iter().map(|(k, v)| format!("{k}:{v}")).collect();
                format!("{{{}}}", members.join(","))
            }),
        ]
    })
}

/// Random documents.
const DOCUMENTS: usize = 1500;

#[test]
fn random_documents_format_as_hujson_does() {
    if oracle().is_none() {
        return;
    }
    let mut runner = TestRunner::deterministic();
    let (documents, layouts) = (arb_document(), arb_layout());
    let named = (0..DOCUMENTS)
        .map(|k| {
            let document = documents.new_tree(&mut runner).unwrap().current();
            let layout = layouts.new_tree(&mut runner).unwrap().current();
            let text = relayout(&document, &layout);
            (format!("document #{k} {layout:?}"), text.into_bytes())
        })
        .collect();
    let tally = compare("documents", named);
    tally.report("random documents, re-laid out");
    assert!(tally.both_accept == DOCUMENTS, "{}", tally.both_accept);
}

/// Edits that break or bend the syntax.
const INSERTS: &[&str] = &[
    ",", "}", "]", "{", "[", ":", "/", "*", "//", "/*", "*/", "\n", "\r", "\"", "\\", " ", "#",
    "'", "x", "0", "-", ".", "e", "+", "\t", "\u{feff}", "\u{a0}", "\u{b}", "\u{c}", "\\u",
    "\\ud800", "\\x", "nul", "true", "01", "1.", "-.5", "1e", "\u{0}", "\u{1f}", "\u{7f}",
    "\u{e9}", ",,", "[]", "{}", "\"\":", "/**/", "//\n", "/* x",
];

fn mutate(text: &str, noise: &mut Noise) -> Vec<u8> {
    let bytes = text.as_bytes();
    let len = bytes.len().max(1) as u64;
    let at = noise.next(len) as usize;
    let mut out = bytes.to_vec();
    match noise.next(9) {
        0 | 1 => {
            if at < out.len() {
                out.remove(at);
            }
        }
        2..=4 => {
            let insert = INSERTS[noise.next(INSERTS.len() as u64) as usize];
            out.splice(at..at, insert.bytes());
        }
        5 => out.truncate(at),
        6 => {
            // A `//` comment at the end, with or without a line break.
            out.extend_from_slice(if noise.next(2) == 0 {
                b" // end"
            } else {
                b"//\n"
            });
        }
        7 => {
            // Invalid UTF-8.
            out.insert(at, [0xff, 0xc3, 0x80][noise.next(3) as usize]);
        }
        _ => {
            let end = (at + 1 + noise.next(8) as usize).min(out.len());
            let piece = out[at..end].to_vec();
            out.splice(end..end, piece);
        }
    }
    out
}

#[test]
fn syntax_verdicts_match_hujson() {
    if oracle().is_none() {
        return;
    }
    let mut noise = Noise(0x5eed);
    let mut named: Vec<(String, Vec<u8>)> = Vec::new();
    let sources: Vec<(String, String)> = sources()
        .into_iter()
        .filter(|(_, text)| text.len() < 4000)
        .collect();
    for round in 0..4 {
        for (name, text) in &sources {
            let mut input = mutate(text, &mut noise);
            if round == 3 {
                // Two edits.
                if let Ok(text) = std::str::from_utf8(&input) {
                    input = mutate(text, &mut noise);
                }
            }
            named.push((format!("{name} (mutation {round})"), input));
        }
    }
    // Small documents and the edges of the grammar.
    let edges = [
        "",
        " ",
        "null",
        "null//",
        "null//\n",
        "null//x",
        "null /* x */",
        "null/* x",
        "1 2",
        "[1,]",
        "[1,,]",
        "[,]",
        "{,}",
        "{\"a\":1,}",
        "{\"a\" 1}",
        "[\"\\ud800\"]",
        "\"\\u00e9\"",
        "\"a\u{7f}b\"",
        "-0",
        "-01",
        "1e5",
        "1E+5",
        ".5",
        "[] []",
        "\u{feff}{}",
        "{}\u{0}",
        "/**/null",
        "/*/null",
        "//\r\nnull",
        "null\r",
        "tru",
        "nulll",
        "1.e5",
        "01.5",
        "1e+",
        "+1",
        "0x10",
        "Infinity",
        "\"\\u123g\"",
        "\"\\a\"",
        "\"tab\there\"",
        "\u{c}[1]",
        "[1]\u{b}",
        "[1]//\r",
        "[1] */",
        "[1]/",
        "{\"a\":1,,\"b\":2}",
        "{1:1}",
        "[,1]",
        "\"\\udc00\"",
        "[1 ]]",
        "{\"a\"}",
        "{\"a\":}",
        "\"a\"\n\"b\"",
        "[\"\u{2028}\u{7f}\"]",
    ];
    for edge in edges {
        named.push((format!("edge {edge:?}"), edge.as_bytes().to_vec()));
    }
    for depth in [255, 256, 257, 300] {
        let deep = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        named.push((format!("{depth} nested arrays"), deep.into_bytes()));
    }
    let tally = compare("mutations", named);
    tally.report("mutated inputs (accept/reject)");
    assert!(tally.inputs > 3000, "{}", tally.inputs);
}
