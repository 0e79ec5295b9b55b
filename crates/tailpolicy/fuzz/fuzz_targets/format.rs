//! Any UTF-8 input: `format` must not panic, must succeed exactly when the input parses, and
//! its output must be a fixed point that parses to the same value with the same comments.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tailpolicy::FormatError;
use tailpolicy::syntax::parse;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = parse(text);
    match tailpolicy::format(text) {
        Ok(formatted) => {
            let value = parsed.value.expect("formatted text must have parsed");
            let again = tailpolicy::format(&formatted).expect("formatted text formats");
            assert_eq!(again, formatted, "format is not idempotent");
            let reparsed = parse(&formatted);
            assert_eq!(
                reparsed.value.map(|v| v.to_json()),
                Some(value.to_json()),
                "formatting changed the value"
            );
            assert_eq!(reparsed.comments.len(), parsed.comments.len());
        }
        Err(FormatError::Syntax(diagnostics)) => {
            assert!(parsed.value.is_none() && !diagnostics.is_empty());
        }
        Err(error @ FormatError::Internal(_)) => panic!("{error}"),
    }
});
