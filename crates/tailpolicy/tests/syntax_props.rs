//! Property tests for the HuJSON parser: round trips through random trivia, and random
//! mutations of real policies (and of the Depot inventory) that must never panic or produce
//! out-of-range spans.

use std::fmt::Write as _;
use std::sync::OnceLock;

use proptest::prelude::*;
use serde_json::{Map, Number, Value as Json};
use tailpolicy::codes;
use tailpolicy::syntax::parse;

mod common;

// ---------------------------------------------------------------------------------------------
// (a) Random JSON with random whitespace, comments and trailing commas

fn arb_json() -> impl Strategy<Value = Json> {
    let leaf = prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::Bool),
        any::<i64>().prop_map(|n| Json::Number(n.into())),
        any::<u64>().prop_map(|n| Json::Number(n.into())),
        any::<f64>().prop_filter_map("finite", |f| Number::from_f64(f).map(Json::Number)),
        ".*".prop_map(Json::String),
        "[a-z:@./*-]{0,12}".prop_map(Json::String),
    ];
    leaf.prop_recursive(6, 96, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Json::Array),
            prop::collection::vec((".*", inner), 0..8)
                .prop_map(|members| Json::Object(members.into_iter().collect::<Map<_, _>>())),
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

/// Trivia fragments; the second field counts the comments in each.
const TRIVIA: &[(&str, usize)] = &[
    ("", 0),
    ("", 0),
    (" ", 0),
    ("\n", 0),
    ("\t", 0),
    ("\r\n", 0),
    ("  \n    ", 0),
    ("// line comment\n", 1),
    ("// with /* inside\r\n", 1),
    ("/* block */", 1),
    ("/**/", 1),
    ("/* spans\n lines // and * / */", 1),
    ("/***/ //\n", 2),
];

struct Writer {
    noise: Noise,
    out: String,
    comments: usize,
}

#[expect(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "a test input generator: a panic here fails the test"
)]
impl Writer {
    fn trivia(&mut self) {
        let (text, comments) = TRIVIA[self.noise.next(TRIVIA.len() as u64) as usize];
        self.out.push_str(text);
        self.comments += comments;
    }

    fn string(&mut self, s: &str) {
        if self.noise.next(3) == 0 {
            // Escape everything outside printable ASCII, surrogate pairs included.
            self.out.push('"');
            for unit in s.encode_utf16() {
                match unit {
                    0x22 => self.out.push_str("\\\""),
                    0x5c => self.out.push_str(if self.noise.next(2) == 0 {
                        "\\\\"
                    } else {
                        "\\u005C"
                    }),
                    0x2f => self.out.push_str("\\/"),
                    0x20..=0x7e => self.out.push(char::from(unit as u8)),
                    _ => write!(self.out, "\\u{unit:04x}").unwrap(),
                }
            }
            self.out.push('"');
        } else {
            self.out.push_str(&serde_json::to_string(s).unwrap());
        }
    }

    fn value(&mut self, value: &Json) {
        match value {
            Json::Array(items) => {
                self.out.push('[');
                for (i, item) in items.iter().enumerate() {
                    self.trivia();
                    self.value(item);
                    self.trivia();
                    if i + 1 < items.len() || self.noise.next(2) == 0 {
                        self.out.push(',');
                    }
                }
                self.trivia();
                self.out.push(']');
            }
            Json::Object(members) => {
                self.out.push('{');
                for (i, (key, item)) in members.iter().enumerate() {
                    self.trivia();
                    self.string(key);
                    self.trivia();
                    self.out.push(':');
                    self.trivia();
                    self.value(item);
                    self.trivia();
                    if i + 1 < members.len() || self.noise.next(2) == 0 {
                        self.out.push(',');
                    }
                }
                self.trivia();
                self.out.push('}');
            }
            Json::String(s) => self.string(s),
            other => self.out.push_str(&serde_json::to_string(other).unwrap()),
        }
    }
}

fn hujson(value: &Json, seed: u64) -> (String, usize) {
    let mut writer = Writer {
        noise: Noise(seed | 1),
        out: String::new(),
        comments: 0,
    };
    writer.trivia();
    writer.value(value);
    writer.trivia();
    (writer.out, writer.comments)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_hujson_round_trips(value in arb_json(), seed in any::<u64>()) {
        let (text, comments) = hujson(&value, seed);
        let out = parse(&text);
        prop_assert!(out.diagnostics.is_empty(), "{:?}\n{}", out.diagnostics, text);
        let parsed = out.value.as_ref().map(|v| v.to_json());
        prop_assert_eq!(parsed.as_ref(), Some(&value), "{}", text);
        prop_assert_eq!(out.comments.len(), comments);
        for span in &out.comments {
            let comment = text.get(span.range()).unwrap_or_default();
            prop_assert!(comment.starts_with("//") || comment.starts_with("/*"), "{:?}", comment);
            prop_assert!(!comment.ends_with('\n') && !comment.ends_with('\r'), "{:?}", comment);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// (b) Random mutations of real policies

const EMBEDDED: &[&str] = &[
    r#"// Example policy
{
  "groups": {
    "group:eng": ["alice@example.com", "bob@example.com",],
  },
  /* hosts */
  "hosts": {"db": "100.64.0.5", "corp": "10.0.0.0/8"},
  "tagOwners": {"tag:web": ["group:eng"]},
  "acls": [
    {"action": "accept", "src": ["group:eng"], "dst": ["tag:web:443,8080", "db:5432"]},
  ],
}
"#,
    "{\r\n  \"grants\": [\r\n    // everyone to the web\r\n    {\"src\": [\"*\"], \"dst\": [\"tag:web\"], \"ip\": [\"tcp:443\", \"icmp:*\"]},\r\n  ],\r\n  \"tagOwners\": {\"tag:web\": [\"autogroup:admin\"]},\r\n}\r\n",
    r#"{
  "ssh": [{"action": "check", "src": ["autogroup:member"], "dst": ["autogroup:self"], "users": ["autogroup:nonroot", "root"]}],
  "tests": [{"src": "alice@example.com", "accept": ["tag:web:443"], "deny": ["100.64.0.5:22"]}],
  "nodeAttrs": [{"target": ["*"], "attr": ["funnel"]}],
  "note": "caf\u00e9 \ud83d\ude00 \"quoted\" ✓",
}"#,
];

/// The embedded policies plus up to 20 real ones from the conformance corpus, if present.
fn policies() -> &'static [String] {
    static POLICIES: OnceLock<Vec<String>> = OnceLock::new();
    POLICIES.get_or_init(|| {
        let mut policies: Vec<String> = EMBEDDED.iter().map(|s| (*s).to_owned()).collect();
        let dir = common::corpus_dir().map(|d| d.join("headscale/saas/acl"));
        let mut files: Vec<_> = dir
            .into_iter()
            .flat_map(std::fs::read_dir)
            .flatten()
            .flatten()
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|e| e == "json"))
            .collect();
        files.sort();
        for path in files.iter().take(20) {
            let Ok(text) = std::fs::read_to_string(path) else {
                continue;
            };
            let Ok(capture) = serde_json::from_str::<Json>(&text) else {
                continue;
            };
            if let Some(policy) = capture.get("policy").and_then(Json::as_str) {
                policies.push(policy.to_owned());
            }
        }
        policies
    })
}

#[derive(Debug, Clone)]
enum Mutation {
    Insert(usize, char),
    Delete(usize),
    Replace(usize, char),
}

fn arb_char() -> impl Strategy<Value = char> {
    prop_oneof![
        3 => prop::sample::select(vec![
            '"', '\\', '/', '*', ',', ':', '{', '}', '[', ']', '\'', '#', '\n', '\r', '\t', ' ', '0',
            '-', '.', 'e', 'u', 'x', '\u{0}', '\u{1f}', '\u{feff}', '\u{a0}', '\u{e9}', '\u{1F600}',
        ]),
        1 => any::<char>(),
    ]
}

fn arb_mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), arb_char()).prop_map(|(at, c)| Mutation::Insert(at, c)),
        any::<usize>().prop_map(Mutation::Delete),
        (any::<usize>(), arb_char()).prop_map(|(at, c)| Mutation::Replace(at, c)),
    ]
}

fn mutate(text: &str, mutations: &[Mutation]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for mutation in mutations {
        match *mutation {
            Mutation::Insert(at, c) => chars.insert(at % (chars.len() + 1), c),
            Mutation::Delete(at) if !chars.is_empty() => {
                chars.remove(at % chars.len());
            }
            Mutation::Replace(at, c) if !chars.is_empty() => {
                let at = at % chars.len();
                if let Some(slot) = chars.get_mut(at) {
                    *slot = c;
                }
            }
            _ => {}
        }
    }
    chars.into_iter().collect()
}

fn check_spans(text: &str) -> Result<(), TestCaseError> {
    let out = parse(text);
    let in_source = |span: tailpolicy::Span| {
        span.start <= span.end
            && (span.end as usize) <= text.len()
            && text.is_char_boundary(span.start as usize)
            && text.is_char_boundary(span.end as usize)
    };
    for d in &out.diagnostics {
        for label in &d.labels {
            prop_assert!(in_source(label.span), "{:?} in {:?}", d, text);
        }
        prop_assert!(
            !d.message.is_empty() && !d.message.ends_with('.'),
            "{:?}",
            d.message
        );
    }
    for &span in &out.comments {
        prop_assert!(in_source(span), "comment {:?} in {:?}", span, text);
    }
    let stopping: Vec<_> = out
        .diagnostics
        .iter()
        .filter(|d| d.code != codes::DUPLICATE_KEY)
        .collect();
    prop_assert!(stopping.len() <= 1, "{:?}", stopping);
    prop_assert_eq!(
        out.value.is_none(),
        stopping.len() == 1,
        "{:?}",
        out.diagnostics
    );
    // The facade sees the same input without trouble.
    let report = tailpolicy::check(text, &Default::default());
    for d in &report.diagnostics {
        for label in &d.labels {
            prop_assert!(in_source(label.span), "{:?} in {:?}", d, text);
        }
    }
    Ok(())
}

#[test]
fn unmutated_policies_parse() {
    assert!(policies().len() >= EMBEDDED.len());
    for policy in policies() {
        let out = parse(policy);
        assert!(
            out.value.is_some() && out.diagnostics.is_empty(),
            "{:?}\n{policy}",
            out.diagnostics
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn mutated_policies_never_panic_and_spans_stay_in_source(
        index in any::<prop::sample::Index>(),
        mutations in prop::collection::vec(arb_mutation(), 1..8),
    ) {
        let policies = policies();
        let policy = &policies[index.index(policies.len())];
        check_spans(&mutate(policy, &mutations))?;
    }

    #[test]
    fn arbitrary_strings_never_panic(text in "\\PC*") {
        check_spans(&text)?;
    }

    #[test]
    fn json_like_noise_never_panics(text in "[\\[\\]{}\",:/*\\\\ \n0-9a-z.'#+\u{feff}-]{0,64}") {
        check_spans(&text)?;
    }
}

const DEPOT_POLICY: &str = include_str!("../../../fixtures/depot/policy.hujson");
const DEPOT_INVENTORY: &str = include_str!("../../../fixtures/depot/inventory.json");

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// A broken inventory is one located `INVENTORY` error; a strange but loadable one
    /// (renamed nodes, other addresses and routes) is checked and queried without a panic.
    #[test]
    fn mutated_inventories_never_panic_and_errors_stay_in_source(
        mutations in prop::collection::vec(arb_mutation(), 1..6),
    ) {
        let text = mutate(DEPOT_INVENTORY, &mutations);
        match tailpolicy::Inventory::parse(&text) {
            Ok(inventory) => {
                let options = tailpolicy::CheckOptions {
                    inventory: Some(&inventory),
                    ..Default::default()
                };
                let _ = tailpolicy::check(DEPOT_POLICY, &options);
                if let Ok(policy) = tailpolicy::parse_valid(DEPOT_POLICY, &options) {
                    let simulator = tailpolicy::Simulator::new(&policy, Some(&inventory));
                    let _ = simulator.query("tag:depot-runner", "database:5432", Some("tcp"));
                    let _ = simulator.reachable_from("tag:depot-runner");
                    let _ = simulator.reachable_to("database");
                }
            }
            Err(error) => {
                prop_assert_eq!(error.code, "INVENTORY");
                prop_assert!(error.message.starts_with("invalid inventory: "), "{}", error.message);
                let span = error.primary_span();
                prop_assert!(
                    span.start <= span.end
                        && (span.end as usize) <= text.len()
                        && text.is_char_boundary(span.start as usize)
                        && text.is_char_boundary(span.end as usize),
                    "{:?} in {:?}", span, text
                );
            }
        }
    }
}
