//! The strict HuJSON parser: every accepted and rejected form, with positions.
#![expect(
    clippy::unwrap_used,
    clippy::string_slice,
    reason = "test code: a panic fails the test, and clippy.toml's test exemptions do not reach helpers outside `#[test]` functions"
)]

use serde_json::json;
use tailpolicy::codes;
use tailpolicy::syntax::{MAX_DEPTH, ParseOutput, ValueKind, parse};
use tailpolicy::{Diagnostic, LineIndex, PositionEncoding, Span};

fn accept(text: &str) -> ParseOutput {
    let out = parse(text);
    assert!(
        out.diagnostics.is_empty(),
        "{text:?} should parse, got {:#?}",
        out.diagnostics
    );
    assert!(out.value.is_some(), "{text:?} should have a value");
    out
}

fn json_of(text: &str) -> serde_json::Value {
    accept(text).value.map(|v| v.to_json()).unwrap_or_default()
}

/// The one diagnostic for `text` and its 1-based `line:column`.
fn reject(text: &str) -> (Diagnostic, String) {
    let out = parse(text);
    assert!(out.value.is_none(), "{text:?} should be rejected");
    assert_eq!(out.diagnostics.len(), 1, "{text:?}: {:#?}", out.diagnostics);
    let diagnostic = out.diagnostics.into_iter().next().unwrap();
    let pos =
        LineIndex::new(text).position(diagnostic.primary_span().start, PositionEncoding::Chars);
    (diagnostic, format!("{}:{}", pos.line, pos.column))
}

#[track_caller]
fn assert_rejected(text: &str, code: &str, at: &str, message: &str) -> Diagnostic {
    let (diagnostic, pos) = reject(text);
    assert_eq!(diagnostic.code, code, "{text:?}: {diagnostic:#?}");
    assert_eq!(pos, at, "{text:?}: {diagnostic:#?}");
    assert!(
        diagnostic.message.contains(message),
        "{text:?}: message {:?} lacks {message:?}",
        diagnostic.message
    );
    // Message style: lowercase start, no final period.
    assert!(
        !diagnostic.message.ends_with('.'),
        "{:?}",
        diagnostic.message
    );
    assert!(
        !diagnostic.message.starts_with(|c: char| c.is_uppercase()),
        "{:?}",
        diagnostic.message
    );
    diagnostic
}

fn spanned(text: &str, span: Span) -> &str {
    &text[span.range()]
}

// ---------------------------------------------------------------------------------------------
// Accepted

#[test]
fn accepts_plain_json_values() {
    assert_eq!(json_of("null"), json!(null));
    assert_eq!(json_of("true"), json!(true));
    assert_eq!(json_of(" false "), json!(false));
    assert_eq!(json_of("0"), json!(0));
    assert_eq!(json_of("-0"), json!(-0.0));
    assert_eq!(json_of("-12.5e+3"), json!(-12500.0));
    assert_eq!(json_of("1E-2"), json!(0.01));
    assert_eq!(json_of("\"x\""), json!("x"));
    assert_eq!(json_of("[]"), json!([]));
    assert_eq!(json_of("{}"), json!({}));
    assert_eq!(
        json_of(r#"{"a": [1, {"b": null}], "c": "d"}"#),
        json!({"a": [1, {"b": null}], "c": "d"})
    );
    assert_eq!(json_of(" \t\r\n[ \t\r\n1 \t\r\n] \t\r\n"), json!([1]));
}

#[test]
fn numbers_are_kept_as_written() {
    let out = accept("[1.50, -0, 1e400]");
    let items = out.value.as_ref().unwrap().as_array().unwrap();
    let raw: Vec<_> = items
        .iter()
        .map(|v| match &v.kind {
            ValueKind::Number(n) => n.as_str(),
            _ => panic!("not a number"),
        })
        .collect();
    assert_eq!(raw, ["1.50", "-0", "1e400"]);
}

#[test]
fn accepts_comments_everywhere_whitespace_may_stand() {
    let text = "// head\n/* a */{/* b */\"k\"/* c */:/* d */[/* e */1/* f */,/* g */2/* h */]/* i */}/* j */\n// tail\n";
    let out = accept(text);
    assert_eq!(out.value.unwrap().to_json(), json!({"k": [1, 2]}));
    let comments: Vec<_> = out.comments.iter().map(|&s| spanned(text, s)).collect();
    assert_eq!(
        comments,
        [
            "// head", "/* a */", "/* b */", "/* c */", "/* d */", "/* e */", "/* f */", "/* g */",
            "/* h */", "/* i */", "/* j */", "// tail"
        ]
    );
}

#[test]
fn block_comments_do_not_nest() {
    let text = "/* outer /* inner */ 1";
    let out = accept(text);
    assert_eq!(out.value.unwrap().to_json(), json!(1));
    assert_eq!(spanned(text, out.comments[0]), "/* outer /* inner */");
    // `*/` closes even when the comment holds stars and slashes.
    let out = accept("/***/ /*/ */ /* ** / */ 2");
    assert_eq!(out.comments.len(), 3);
    // So the rest of an attempted nested comment is garbage.
    assert_rejected(
        "/* a /* b */ c */ 1",
        codes::SYNTAX,
        "1:14",
        "expected a value, found `c`",
    );
}

#[test]
fn comment_markers_inside_strings_are_text() {
    let out = accept(r#"{"a": "// not a comment", "b": "/* nor this */"}"#);
    assert!(out.comments.is_empty());
    assert_eq!(
        out.value.unwrap().to_json(),
        json!({"a": "// not a comment", "b": "/* nor this */"})
    );
}

#[test]
fn line_comment_on_last_line_needs_a_newline() {
    // As github.com/tailscale/hujson (`parsing comment: unexpected EOF`), so Tailscale too.
    let text = "{\"a\": 1}\n// done";
    let d = assert_rejected(
        text,
        codes::SYNTAX,
        "2:1",
        "expected a line break after the `//` comment, found the end of the input",
    );
    assert_eq!(spanned(text, d.primary_span()), "// done");
    assert_eq!(d.help.as_deref(), Some("end the comment with a newline"));
    assert_rejected("null//", codes::SYNTAX, "1:5", "line break");
    assert_rejected("null // x\r", codes::SYNTAX, "1:6", "line break");
    let out = accept("null//\n");
    assert_eq!(out.comments, [Span::new(4, 6)]);
}

#[test]
fn crlf_line_comment_excludes_the_carriage_return() {
    let text = "// one\r\n{}\r\n// two\r\n";
    let out = accept(text);
    let comments: Vec<_> = out.comments.iter().map(|&s| spanned(text, s)).collect();
    assert_eq!(comments, ["// one", "// two"]);
}

#[test]
fn accepts_one_trailing_comma() {
    assert_eq!(json_of("[1,2,]"), json!([1, 2]));
    assert_eq!(json_of("[1,]"), json!([1]));
    assert_eq!(json_of(r#"{"a":1,}"#), json!({"a": 1}));
    assert_eq!(json_of("[1, // c\n]"), json!([1]));
    assert_eq!(
        json_of("{\"a\": [\n  \"x\",\n  \"y\",\n],\n}\n"),
        json!({"a": ["x", "y"]})
    );
}

#[test]
fn decodes_escapes() {
    assert_eq!(
        json_of(r#""\" \\ \/ \b \f \n \r \t \u00e9 \u20AC \ud83d\ude00""#),
        json!("\" \\ / \u{8} \u{c} \n \r \t é € 😀")
    );
    assert_eq!(json_of("\"caf\u{e9} \u{1F600}\""), json!("café 😀"));
}

#[test]
fn lone_surrogates_become_replacement_characters() {
    // Like Go's encoding/json: no error, U+FFFD instead.
    assert_eq!(json_of(r#""\ud800""#), json!("\u{fffd}"));
    assert_eq!(json_of(r#""\udc00x""#), json!("\u{fffd}x"));
    assert_eq!(json_of(r#""\ud800\u0041""#), json!("\u{fffd}A"));
    assert_eq!(
        json_of(r#""\ud800\ud800\udc00""#),
        json!("\u{fffd}\u{10000}")
    );
    assert_eq!(json_of(r#""\udbff\udfff""#), json!("\u{10ffff}"));
}

#[test]
fn spans_cover_keys_and_values() {
    let text = "{\n  \"acls\": [ \"a\", 12 ],\n  \"x\": {\"y\": true}\n}";
    let out = accept(text);
    let root = out.value.unwrap();
    assert_eq!(root.span, Span::new(0, text.len() as u32));
    let members = root.as_object().unwrap();
    assert_eq!(spanned(text, members[0].key_span), "\"acls\"");
    assert_eq!(spanned(text, members[0].value.span), "[ \"a\", 12 ]");
    let items = members[0].value.as_array().unwrap();
    assert_eq!(spanned(text, items[0].span), "\"a\"");
    assert_eq!(spanned(text, items[1].span), "12");
    assert_eq!(spanned(text, members[1].value.span), "{\"y\": true}");
    let inner = members[1].value.as_object().unwrap();
    assert_eq!(spanned(text, inner[0].value.span), "true");
}

#[test]
fn string_span_with_escapes_includes_quotes() {
    let text = r#"["a\"b", "\u00e9"]"#;
    let out = accept(text);
    let items = out.value.as_ref().unwrap().as_array().unwrap().to_vec();
    assert_eq!(spanned(text, items[0].span), r#""a\"b""#);
    assert_eq!(items[0].as_str(), Some("a\"b"));
    assert_eq!(spanned(text, items[1].span), r#""\u00e9""#);
}

#[test]
fn duplicate_keys_keep_both_members_and_report_the_later() {
    let text = "{\n  \"acls\": [],\n  \"hosts\": {},\n  \"acls\": [1]\n}";
    let out = parse(text);
    let root = out.value.expect("the tree is still built");
    let keys: Vec<_> = root
        .as_object()
        .unwrap()
        .iter()
        .map(|m| m.key.as_str())
        .collect();
    assert_eq!(keys, ["acls", "hosts", "acls"]);
    assert_eq!(out.diagnostics.len(), 1);
    let d = &out.diagnostics[0];
    assert_eq!(d.code, codes::DUPLICATE_KEY);
    assert_eq!(d.message, "duplicate key `\"acls\"`");
    let index = LineIndex::new(text);
    let pos = index.position(d.primary_span().start, PositionEncoding::Chars);
    assert_eq!((pos.line, pos.column), (4, 3));
    assert_eq!(d.labels.len(), 2);
    assert_eq!(d.labels[1].message.as_deref(), Some("first defined here"));
    let first = index.position(d.labels[1].span.start, PositionEncoding::Chars);
    assert_eq!((first.line, first.column), (2, 3));
    // The last duplicate wins in the JSON view.
    assert_eq!(root.to_json(), json!({"acls": [1], "hosts": {}}));
}

#[test]
fn duplicate_keys_are_case_sensitive_and_decoded() {
    assert!(parse(r#"{"acls": 1, "ACLs": 2}"#).diagnostics.is_empty());
    // Escaped and plain spellings of one key are the same key.
    let out = parse(r#"{"a": 1, "\u0061": 2}"#);
    assert_eq!(out.diagnostics.len(), 1);
    assert_eq!(out.diagnostics[0].code, codes::DUPLICATE_KEY);
}

#[test]
fn duplicate_keys_in_large_and_nested_objects() {
    // Large objects take the hash-map path.
    let mut text = String::from("{");
    for i in 0..100 {
        text.push_str(&format!("\"k{i}\": {i},"));
    }
    text.push_str("\"k7\": 0, \"k99\": 0, \"k7\": 1, \"inner\": {\"x\": 1, \"x\": 2}}");
    let out = parse(&text);
    assert!(out.value.is_some());
    let messages: Vec<_> = out.diagnostics.iter().map(|d| d.message.as_str()).collect();
    // Sorted by position.
    assert_eq!(
        messages,
        [
            "duplicate key `\"k7\"`",
            "duplicate key `\"k99\"`",
            "duplicate key `\"k7\"`",
            "duplicate key `\"x\"`"
        ]
    );
    // Every repeat points back at the first definition.
    let first_k7 = text.find("\"k7\"").unwrap() as u32;
    assert_eq!(out.diagnostics[0].labels[1].span.start, first_k7);
    assert_eq!(out.diagnostics[2].labels[1].span.start, first_k7);
    // Same key in different objects is fine.
    assert!(parse(r#"[{"a": 1}, {"a": 2}]"#).diagnostics.is_empty());
}

#[test]
fn accepts_nesting_up_to_the_limit() {
    let text = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
    accept(&text);
    let text = format!("{}1{}", "{\"a\":".repeat(MAX_DEPTH), "}".repeat(MAX_DEPTH));
    accept(&text);
}

// ---------------------------------------------------------------------------------------------
// Rejected

#[test]
fn rejects_unquoted_keys() {
    let text = "{\n  acls: []\n}";
    let d = assert_rejected(
        text,
        codes::SYNTAX,
        "2:3",
        "expected a double-quoted object key",
    );
    assert_eq!(spanned(text, d.primary_span()), "acls");
    assert_eq!(
        d.help.as_deref(),
        Some("quote this key: policy files are HuJSON, not JSON5")
    );
    let text = r#"{"a": 1, tag_owners: {}}"#;
    let d = assert_rejected(text, codes::SYNTAX, "1:10", "found `tag_owners`");
    assert_eq!(spanned(text, d.primary_span()), "tag_owners");
    let d = assert_rejected("{true: 1}", codes::SYNTAX, "1:2", "found `true`");
    assert_eq!(
        d.help.as_deref(),
        Some("quote this key: policy files are HuJSON, not JSON5")
    );
    let d = assert_rejected("{1: 1}", codes::SYNTAX, "1:2", "object key");
    assert!(d.help.unwrap().contains("quote this key"));
}

#[test]
fn rejects_single_quotes() {
    let text = "{'acls': []}";
    let d = assert_rejected(text, codes::SYNTAX, "1:2", "found a single-quoted string");
    assert_eq!(spanned(text, d.primary_span()), "'acls'");
    assert!(d.help.as_deref().unwrap().contains("use double quotes"));
    let text = "{\"a\":\n 'x'}";
    let d = assert_rejected(
        text,
        codes::SYNTAX,
        "2:2",
        "expected a value, found a single-quoted string",
    );
    assert_eq!(spanned(text, d.primary_span()), "'x'");
    assert!(d.help.as_deref().unwrap().contains("use double quotes"));
}

#[test]
fn rejects_non_json_numbers_with_the_whole_literal_spanned() {
    let cases = [
        ("[0x1F]", "0x1F", "hexadecimal"),
        ("[+1]", "+1", "plus"),
        ("[.5]", ".5", "before the decimal point"),
        ("[1.]", "1.", "after the decimal point"),
        ("[1.e5]", "1.e5", "after the decimal point"),
        ("[01]", "01", "leading zeros"),
        ("[-01]", "-01", "leading zeros"),
        ("[00]", "00", "leading zeros"),
        ("[1e]", "1e", "exponent"),
        ("[1e+]", "1e+", "exponent"),
        ("[-]", "-", "digits after the `-`"),
        ("[-Infinity]", "-Infinity", "finite"),
        ("[1.2.3]", "1.2.3", "digits"),
        ("[12abc]", "12abc", "digits"),
    ];
    for (text, literal, help) in cases {
        let d = assert_rejected(
            text,
            codes::SYNTAX,
            "1:2",
            &format!("expected a JSON number, found `{literal}`"),
        );
        assert_eq!(spanned(text, d.primary_span()), literal, "{text}");
        assert!(
            d.help.as_deref().unwrap().contains(help),
            "{text}: {:?}",
            d.help
        );
    }
}

#[test]
fn rejects_nan_infinity_and_bare_words() {
    let d = assert_rejected(
        "{\"a\": NaN}",
        codes::SYNTAX,
        "1:7",
        "expected a value, found `NaN`",
    );
    assert!(d.help.unwrap().contains("finite"));
    let d = assert_rejected(
        "[Infinity]",
        codes::SYNTAX,
        "1:2",
        "expected a value or `]`, found `Infinity`",
    );
    assert!(d.help.unwrap().contains("finite"));
    let d = assert_rejected("True", codes::SYNTAX, "1:1", "found `True`");
    assert!(d.help.unwrap().contains("lowercase"));
    let text = "{\"action\": accept}";
    let d = assert_rejected(
        text,
        codes::SYNTAX,
        "1:12",
        "expected a value, found `accept`",
    );
    assert_eq!(spanned(text, d.primary_span()), "accept");
    assert_rejected("nul", codes::SYNTAX, "1:1", "found `nul`");
    assert_rejected("nullx", codes::SYNTAX, "1:1", "found `nullx`");
    assert_rejected("undefined", codes::SYNTAX, "1:1", "found `undefined`");
}

#[test]
fn rejects_raw_control_characters_in_strings() {
    let d = assert_rejected(
        "[\"a\tb\"]",
        codes::SYNTAX,
        "1:4",
        "raw control character U+0009",
    );
    assert!(d.help.unwrap().contains("`\\t`"));
    let d = assert_rejected(
        "[\"a\u{0}b\"]",
        codes::SYNTAX,
        "1:4",
        "raw control character U+0000",
    );
    assert!(d.help.unwrap().contains("`\\u0000`"));
    assert_rejected("\"\u{1f}\"", codes::SYNTAX, "1:2", "U+001F");
    // DEL and U+0080..U+009F are allowed by JSON.
    accept("\"\u{7f}\u{80}\u{9f}\"");
    // A raw newline: the string is unterminated on its line.
    let text = "{\"a\": \"abc\n\"}";
    let d = assert_rejected(
        text,
        codes::SYNTAX,
        "1:7",
        "expected a closing `\"` before the end of the line",
    );
    assert_eq!(spanned(text, d.primary_span()), "\"abc");
    assert_rejected("[\"a\r\n\"]", codes::SYNTAX, "1:2", "end of the line");
}

#[test]
fn rejects_bad_escapes() {
    let text = r#"["ok", "a\xb"]"#;
    let d = assert_rejected(text, codes::SYNTAX, "1:10", "expected an escape sequence");
    assert!(d.message.ends_with("found `\\x`"), "{}", d.message);
    assert_eq!(spanned(text, d.primary_span()), "\\x");
    assert_rejected(
        r#""\'""#,
        codes::SYNTAX,
        "1:2",
        "expected an escape sequence",
    );
    assert_rejected(
        r#""\a""#,
        codes::SYNTAX,
        "1:2",
        "expected an escape sequence",
    );
    let text = "\"\\\u{e9}\"";
    let d = assert_rejected(text, codes::SYNTAX, "1:2", "expected an escape sequence");
    assert_eq!(spanned(text, d.primary_span()), "\\\u{e9}");
    let text = r#""\u12G4""#;
    let d = assert_rejected(
        text,
        codes::SYNTAX,
        "1:2",
        "expected 4 hex digits after `\\u`",
    );
    assert_eq!(spanned(text, d.primary_span()), "\\u12G4");
    let text = r#"["\u12"]"#;
    let d = assert_rejected(text, codes::SYNTAX, "1:3", "4 hex digits");
    assert_eq!(spanned(text, d.primary_span()), "\\u12");
    assert_rejected(
        r#""\U0041""#,
        codes::SYNTAX,
        "1:2",
        "expected an escape sequence",
    );
    assert_rejected(
        "\"\\\t\"",
        codes::SYNTAX,
        "1:2",
        "found `\\` followed by character U+0009",
    );
    // A valid high surrogate followed by a broken escape.
    assert_rejected(r#""\ud800\uZZZZ""#, codes::SYNTAX, "1:8", "4 hex digits");
}

#[test]
fn rejects_hash_and_semicolon_comments() {
    let d = assert_rejected(
        "# comment\n{}",
        codes::SYNTAX,
        "1:1",
        "expected a value, found `#`",
    );
    assert!(d.help.unwrap().contains("`//`"));
    let d = assert_rejected(
        "{\n  \"a\": 1, # note\n}",
        codes::SYNTAX,
        "2:11",
        "expected a double-quoted object key or `}`, found `#`",
    );
    assert!(d.help.unwrap().contains("`//`"));
    let d = assert_rejected(
        "[1 ; x\n]",
        codes::SYNTAX,
        "1:4",
        "expected `,` or `]`, found `;`",
    );
    assert!(d.help.unwrap().contains("`//`"));
    let d = assert_rejected(
        "{} # end",
        codes::SYNTAX,
        "1:4",
        "unexpected `#` after the top-level value",
    );
    assert!(d.help.unwrap().contains("`//`"));
    // A lone slash is not a comment either.
    assert_rejected("[1, / 2]", codes::SYNTAX, "1:5", "found `/`");
}

#[test]
fn rejects_extra_commas() {
    let d = assert_rejected(
        "[1,,2]",
        codes::SYNTAX,
        "1:4",
        "expected a value or `]`, found `,`",
    );
    assert_eq!(d.help.as_deref(), Some("remove this comma"));
    assert_rejected(
        "[,]",
        codes::SYNTAX,
        "1:2",
        "expected a value or `]`, found `,`",
    );
    assert_rejected("[1,2,,]", codes::SYNTAX, "1:6", "found `,`");
    assert_rejected(
        "{,}",
        codes::SYNTAX,
        "1:2",
        "expected a double-quoted object key or `}`, found `,`",
    );
    assert_rejected("{\"a\":1,,}", codes::SYNTAX, "1:8", "found `,`");
    assert_rejected("[,1]", codes::SYNTAX, "1:2", "found `,`");
    assert_rejected(
        "{\"a\":,}",
        codes::SYNTAX,
        "1:6",
        "expected a value, found `,`",
    );
}

#[test]
fn rejects_missing_commas_and_colons() {
    let d = assert_rejected(
        "[1 2]",
        codes::SYNTAX,
        "1:4",
        "expected `,` or `]`, found `2`",
    );
    assert_eq!(d.help.as_deref(), Some("add a `,` between the elements"));
    let text = "{\n  \"a\": 1\n  \"b\": 2\n}";
    let d = assert_rejected(
        text,
        codes::SYNTAX,
        "3:3",
        "expected `,` or `}`, found a string",
    );
    assert_eq!(spanned(text, d.primary_span()), "\"b\"");
    let text = "{\"a\" 1}";
    let d = assert_rejected(
        text,
        codes::SYNTAX,
        "1:6",
        "expected `:` after the object key, found `1`",
    );
    assert_eq!(
        d.help.as_deref(),
        Some("separate the key from its value with `:`")
    );
    assert_rejected(
        "{\"a\"}",
        codes::SYNTAX,
        "1:5",
        "expected `:` after the object key, found `}`",
    );
    assert_rejected("{\"a\" = 1}", codes::SYNTAX, "1:6", "found `=`");
    assert_rejected(
        "{\"a\":}",
        codes::SYNTAX,
        "1:6",
        "expected a value, found `}`",
    );
    assert_rejected(
        "[1}",
        codes::SYNTAX,
        "1:3",
        "expected `,` or `]`, found `}`",
    );
    assert_rejected(
        "{\"a\":1]",
        codes::SYNTAX,
        "1:7",
        "expected `,` or `}`, found `]`",
    );
    assert_rejected("]", codes::SYNTAX, "1:1", "expected a value, found `]`");
}

#[test]
fn rejects_unterminated_input() {
    let text = "{\"a\": \"abc";
    let d = assert_rejected(text, codes::SYNTAX, "1:7", "unterminated string");
    assert!(d.message.contains("before the end of the input"));
    assert_eq!(spanned(text, d.primary_span()), "\"abc");
    assert_rejected("\"abc\\", codes::SYNTAX, "1:1", "unterminated string");
    assert_rejected("\"abc\\u12", codes::SYNTAX, "1:5", "4 hex digits");
    let text = "{\n  /* open\n  \"a\": 1\n}";
    let d = assert_rejected(text, codes::SYNTAX, "2:3", "unterminated block comment");
    assert_eq!(spanned(text, d.primary_span()), "/*");
    assert_rejected("/*/", codes::SYNTAX, "1:1", "unterminated block comment");
    let d = assert_rejected(
        "[1,",
        codes::SYNTAX,
        "1:4",
        "expected a value or `]`, found the end of the input",
    );
    assert_eq!(d.primary_span(), Span::at(3));
    assert_rejected(
        "{\"a\": [1, 2]",
        codes::SYNTAX,
        "1:13",
        "expected `,` or `}`, found the end of the input",
    );
    assert_rejected(
        "{",
        codes::SYNTAX,
        "1:2",
        "expected a double-quoted object key or `}`, found the end of the input",
    );
    assert_rejected("{\"a\"", codes::SYNTAX, "1:5", "expected `:`");
    assert_rejected(
        "{\"a\":",
        codes::SYNTAX,
        "1:6",
        "expected a value, found the end of the input",
    );
}

#[test]
fn rejects_empty_and_comment_only_documents() {
    assert_rejected("", codes::EMPTY_DOCUMENT, "1:1", "empty document");
    assert_rejected(" \n\t\r\n", codes::EMPTY_DOCUMENT, "1:1", "empty document");
    assert_rejected(
        "// only a comment\n",
        codes::EMPTY_DOCUMENT,
        "1:1",
        "only comments",
    );
    assert_rejected(
        "/* a */ // b\n",
        codes::EMPTY_DOCUMENT,
        "1:1",
        "only comments",
    );
}

#[test]
fn rejects_a_second_value_and_trailing_garbage() {
    let d = assert_rejected(
        "{} {}",
        codes::SYNTAX,
        "1:4",
        "unexpected `{` after the top-level value",
    );
    assert!(d.help.unwrap().contains("exactly one top-level value"));
    assert_rejected(
        "{}\n\n  \"x\"",
        codes::SYNTAX,
        "3:3",
        "unexpected string after the top-level value",
    );
    assert_rejected(
        "1 2",
        codes::SYNTAX,
        "1:3",
        "unexpected `2` after the top-level value",
    );
    assert_rejected(
        "{},",
        codes::SYNTAX,
        "1:3",
        "unexpected `,` after the top-level value",
    );
    assert_rejected(
        "[]]",
        codes::SYNTAX,
        "1:3",
        "unexpected `]` after the top-level value",
    );
    assert_rejected(
        "{} // c\n x",
        codes::SYNTAX,
        "2:2",
        "after the top-level value",
    );
    assert_rejected(
        "null\u{0}",
        codes::SYNTAX,
        "1:5",
        "unexpected character U+0000 after the top-level value",
    );
}

#[test]
fn rejects_a_leading_byte_order_mark() {
    let text = "\u{feff}{}";
    let d = assert_rejected(text, codes::SYNTAX, "1:1", "byte-order mark");
    assert_eq!(d.primary_span(), Span::new(0, 3));
    assert!(d.help.unwrap().contains("remove the byte-order mark"));
    // Elsewhere too.
    let d = assert_rejected(
        "[1,\u{feff}2]",
        codes::SYNTAX,
        "1:4",
        "found a byte-order mark (U+FEFF)",
    );
    assert!(d.help.unwrap().contains("remove the byte-order mark"));
}

#[test]
fn rejects_non_json_whitespace() {
    let d = assert_rejected(
        "[1,\u{a0}2]",
        codes::SYNTAX,
        "1:4",
        "found character U+00A0",
    );
    assert!(d.help.unwrap().contains("whitespace"));
    let d = assert_rejected("[1,\u{b}2]", codes::SYNTAX, "1:4", "found character U+000B");
    assert!(d.help.unwrap().contains("whitespace"));
    assert_rejected("{\u{c}}", codes::SYNTAX, "1:2", "U+000C");
    assert_rejected("[1,\u{200b}2]", codes::SYNTAX, "1:4", "U+200B");
}

#[test]
fn non_ascii_positions_count_chars() {
    let text = "{\"\u{e9}t\u{e9}\": \"\u{1F600}\", x}";
    let d = assert_rejected(text, codes::SYNTAX, "1:14", "found `x`");
    assert_eq!(spanned(text, d.primary_span()), "x");
    assert_rejected(
        "[\"\u{1F600}\", \u{1F600}]",
        codes::SYNTAX,
        "1:7",
        "found `\u{1F600}`",
    );
    let d = assert_rejected("{\u{e9}t\u{e9}: 1}", codes::SYNTAX, "1:2", "object key");
    assert_eq!(
        d.help.as_deref(),
        Some("quote this key: policy files are HuJSON, not JSON5")
    );
}

#[test]
fn crlf_input_reports_correct_lines() {
    let text = "{\r\n  // comment\r\n  \"a\": 1,\r\n  b: 2\r\n}\r\n";
    assert_rejected(
        text,
        codes::SYNTAX,
        "4:3",
        "expected a double-quoted object key",
    );
    let text = "{\r\n  \"a\": \"x\r\n\"}";
    assert_rejected(text, codes::SYNTAX, "2:8", "end of the line");
    let text = "{\r\n  \"a\": 1,\r\n  \"a\": 2,\r\n}\r\n";
    let out = parse(text);
    let pos = LineIndex::new(text).position(
        out.diagnostics[0].primary_span().start,
        PositionEncoding::Chars,
    );
    assert_eq!((pos.line, pos.column), (3, 3));
}

#[test]
fn long_tokens_are_shortened_in_messages() {
    let word = "a".repeat(10_000);
    let text = format!("[{word}]");
    let (d, _) = reject(&text);
    assert!(d.message.len() < 200, "{}", d.message);
    assert_eq!(d.primary_span().len(), 10_000);
}

#[test]
fn stops_at_the_first_syntax_error() {
    let out = parse("[1,, 2,, 3 4]");
    assert!(out.value.is_none());
    assert_eq!(out.diagnostics.len(), 1);
    // Duplicates found before the error are kept.
    let out = parse("[{\"a\":1,\"a\":2}, x]");
    assert!(out.value.is_none());
    let codes: Vec<_> = out.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(codes, [codes::DUPLICATE_KEY, codes::SYNTAX]);
}

#[test]
fn nesting_deeper_than_the_limit_is_an_error() {
    let text = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
    let d = assert_rejected(
        &text,
        codes::NESTING_TOO_DEEP,
        &format!("1:{}", MAX_DEPTH + 1),
        "nesting too deep",
    );
    assert_eq!(d.primary_span().len(), 1);
    let text = "{\"a\":".repeat(MAX_DEPTH + 1);
    assert_rejected(
        &text,
        codes::NESTING_TOO_DEEP,
        &format!("1:{}", MAX_DEPTH * 5 + 1),
        "nesting too deep",
    );
}

#[test]
fn hundred_thousand_brackets_do_not_overflow_a_small_stack() {
    // Debug build, 2 MiB thread: the parser must not recurse per level.
    let result = std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(|| {
            for open in ["[", "{\"a\":", "[{\"k\":"] {
                let text = open.repeat(100_000);
                let out = parse(&text);
                assert!(out.value.is_none());
                assert_eq!(out.diagnostics.len(), 1);
                assert_eq!(out.diagnostics[0].code, codes::NESTING_TOO_DEEP);
                let closed = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
                let report = tailpolicy::check(&closed, &Default::default());
                assert!(!report.is_valid());
            }
            // The deepest accepted tree can be converted and dropped on this stack too.
            let text = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
            let value = parse(&text).value.unwrap();
            let json = value.to_json();
            drop(value);
            drop(json);
        })
        .unwrap()
        .join();
    assert!(result.is_ok());
}

#[test]
fn check_reports_syntax_errors() {
    let report = tailpolicy::check("{acls: []}", &Default::default());
    assert!(!report.is_valid());
    assert_eq!(report.diagnostics[0].code, codes::SYNTAX);
}

#[test]
fn to_json_types_numbers_like_serde_json() {
    for literal in [
        "0",
        "-0",
        "1",
        "-1",
        "1.5",
        "1e2",
        "-0.0",
        "9223372036854775807",
        "-9223372036854775808",
        "-9223372036854775809",
        "18446744073709551615",
        "18446744073709551616",
        "123456789012345678901234567890",
        "2.2250738585072014e-308",
    ] {
        let ours = json_of(literal);
        let theirs: serde_json::Value = serde_json::from_str(literal).unwrap();
        assert_eq!(ours, theirs, "{literal}");
    }
    // Correctly rounded, where serde_json without `float_roundtrip` is one ulp off.
    assert_eq!(
        json_of("-7.030469519652123e-236"),
        json!(-7.030469519652123e-236_f64)
    );
    // Out of f64 range: not representable in serde_json.
    assert_eq!(json_of("1e400"), json!(null));
}
