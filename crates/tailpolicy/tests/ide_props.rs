//! Property tests for the editor features (`tailpolicy::ide`): random edits of real policies
//! and random text go through every handler at random offsets; none may panic, hang or
//! answer with a span outside the text.

use proptest::prelude::*;
use tailpolicy::Span;
use tailpolicy::ide::{Analysis, apply_edits};

const DEPOT: &str = include_str!("../../../fixtures/depot/policy.hujson");
const GUIDE: &str = include_str!("../../../fixtures/guide/policy.hujson");

fn in_bounds(text: &str, span: Span) {
    assert!(span.start <= span.end, "{span:?}");
    assert!(
        (span.end as usize) <= text.len(),
        "{span:?} past {}",
        text.len()
    );
    assert!(
        text.is_char_boundary(span.start as usize) && text.is_char_boundary(span.end as usize),
        "{span:?} splits a character"
    );
}

/// Runs every handler at `offsets` and checks every span answered.
fn exercise(text: &str, offsets: &[usize]) {
    let analysis = Analysis::new(text);
    let report = tailpolicy::check(text, &Default::default());
    for symbol in analysis.symbols() {
        in_bounds(text, symbol.span);
        in_bounds(text, symbol.selection_span);
    }
    for &raw in offsets {
        let mut offset = raw.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let offset = offset as u32;
        if let Some(hover) = analysis.hover(offset) {
            in_bounds(text, hover.span);
        }
        for span in analysis.definition(offset) {
            in_bounds(text, span);
        }
        for span in analysis.references(offset, true) {
            in_bounds(text, span);
        }
        if let Ok((span, _)) = analysis.prepare_rename(offset) {
            in_bounds(text, span);
        }
        if let Ok(edits) = analysis.rename(offset, "renamed") {
            for edit in &edits {
                in_bounds(text, edit.span);
            }
            let _ = apply_edits(text, &edits);
        }
        for completion in analysis.completions(offset) {
            in_bounds(text, completion.edit_span);
        }
        let range = Span::new(offset, offset);
        for action in analysis.code_actions(range, &report.diagnostics) {
            for edit in &action.edits {
                in_bounds(text, edit.span);
            }
        }
    }
}

fn mutate(base: &str, edits: &[(usize, usize, String)]) -> String {
    let mut text = base.to_owned();
    for (at, delete, insert) in edits {
        let mut start = (*at).min(text.len());
        while !text.is_char_boundary(start) {
            start -= 1;
        }
        let mut end = (start + delete).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        text.replace_range(start..end, insert);
    }
    text
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn edited_policies_never_break_a_handler(
        which in any::<bool>(),
        edits in prop::collection::vec((0usize..6000, 0usize..40, "[{}\\[\\]\",:a-z/*\n \u{e9}\u{1F600}]{0,6}"), 1..6),
        offsets in prop::collection::vec(0usize..6000, 1..12),
    ) {
        let base = if which { DEPOT } else { GUIDE };
        let text = mutate(base, &edits);
        exercise(&text, &offsets);
    }

    #[test]
    fn random_text_never_breaks_a_handler(
        text in "[{}\\[\\]\",:a-z@/*\n \\\\u]{0,120}|.{0,80}",
        offsets in prop::collection::vec(0usize..200, 1..8),
    ) {
        exercise(&text, &offsets);
    }
}

#[test]
fn every_offset_of_the_depot_policy() {
    let offsets: Vec<usize> = (0..=DEPOT.len()).step_by(3).collect();
    exercise(DEPOT, &offsets);
}

#[test]
fn every_offset_of_a_truncated_policy() {
    for cut in (0..DEPOT.len()).step_by(97) {
        let text = DEPOT.get(..cut).unwrap_or("");
        let offsets: Vec<usize> = (0..=text.len()).step_by(29).collect();
        exercise(text, &offsets);
    }
}

#[test]
fn rename_changes_every_use_of_a_tag() {
    let text = DEPOT;
    let at = text.find("\"tag:depot-runner\"").unwrap() as u32 + 3;
    let analysis = Analysis::new(text);
    let edits = analysis.rename(at, "tag:ci-runner").unwrap();
    let renamed = apply_edits(text, &edits);
    assert!(!renamed.contains("\"tag:depot-runner"), "{renamed}");
    let before = tailpolicy::check(text, &Default::default());
    let after = tailpolicy::check(&renamed, &Default::default());
    assert_eq!(before.is_valid(), after.is_valid());
    assert_eq!(before.diagnostics.len(), after.diagnostics.len());
    let uses = analysis.references(at, true).len();
    assert_eq!(uses, edits.len());
    assert!(uses >= 3, "{uses}");
}
