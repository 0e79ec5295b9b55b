//! Any UTF-8 input as an inventory: `Inventory::parse` must not panic; an error is located
//! within the input; a loaded inventory is used to check and query the Depot example.
#![no_main]

use libfuzzer_sys::fuzz_target;

const DEPOT_POLICY: &str = include_str!("../../../../fixtures/depot/policy.hujson");

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match tailpolicy::Inventory::parse(text) {
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
            }
        }
        Err(error) => {
            let span = error.primary_span();
            let (start, end) = (span.start as usize, span.end as usize);
            assert!(start <= end && end <= text.len(), "span {span:?} outside the input");
            assert!(text.is_char_boundary(start) && text.is_char_boundary(end));
        }
    }
});
