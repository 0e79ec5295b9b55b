//! Any UTF-8 input: `check` must not panic, and every span it or the parser reports must lie
//! within the input, on char boundaries.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tailpolicy::Span;

fn assert_in_source(text: &str, span: Span, what: &str) {
    let (start, end) = (span.start as usize, span.end as usize);
    assert!(start <= end && end <= text.len(), "{what} span {span:?} outside 0..{}", text.len());
    assert!(
        text.is_char_boundary(start) && text.is_char_boundary(end),
        "{what} span {span:?} not on char boundaries"
    );
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let report = tailpolicy::check(text, &Default::default());
    for diagnostic in &report.diagnostics {
        for label in &diagnostic.labels {
            assert_in_source(text, label.span, diagnostic.code);
        }
    }

    let parsed = tailpolicy::syntax::parse(text);
    for &comment in &parsed.comments {
        assert_in_source(text, comment, "comment");
    }
    if let Some(root) = &parsed.value {
        // Walk the tree without recursion.
        let mut pending = vec![root];
        while let Some(value) = pending.pop() {
            assert_in_source(text, value.span, "value");
            if let Some(items) = value.as_array() {
                pending.extend(items);
            }
            if let Some(members) = value.as_object() {
                for member in members {
                    assert_in_source(text, member.key_span, "key");
                    pending.push(&member.value);
                }
            }
        }
    }
});
