//! The embedding facade: the few calls a service, the CLI or the WASM module need.

use crate::diagnostic::{Diagnostic, has_errors};
use crate::inventory::Inventory;
use crate::model::Policy;
use crate::{model, syntax, validate};

/// What `check` takes besides the policy text.
#[derive(Debug, Clone, Copy, Default)]
pub struct CheckOptions<'a> {
    /// Tailnet state; checks that need it (users, domains, `tests` against real nodes) run
    /// only when it is given.
    pub inventory: Option<&'a Inventory>,
}

/// Every diagnostic for one policy, sorted by position.
#[derive(Debug, Clone, Default)]
pub struct CheckReport {
    pub diagnostics: Vec<Diagnostic>,
}

impl CheckReport {
    /// True when no diagnostic is an error.
    pub fn is_valid(&self) -> bool {
        !has_errors(&self.diagnostics)
    }
}

/// Parses and validates a policy.
pub fn check(text: &str, options: &CheckOptions<'_>) -> CheckReport {
    load(text, options).1
}

/// Parses and validates a policy, and returns the typed policy when it parses (with or
/// without validation errors) together with the report.
pub fn load(text: &str, options: &CheckOptions<'_>) -> (Option<Policy>, CheckReport) {
    let parsed = syntax::parse(text);
    let mut diagnostics = parsed.diagnostics;
    let mut policy = None;
    if let Some(root) = &parsed.value {
        let (lowered, structural) = model::lower(root);
        diagnostics.extend(structural);
        diagnostics.extend(validate::validate(&lowered, options.inventory));
        policy = Some(lowered);
    }
    diagnostics.sort_by_key(|d| (d.primary_span().start, d.primary_span().end));
    (policy, CheckReport { diagnostics })
}

/// A valid policy, ready for queries: [`load`] without errors.
pub fn parse_valid(text: &str, options: &CheckOptions<'_>) -> Result<Policy, CheckReport> {
    match load(text, options) {
        (Some(policy), report) if report.is_valid() => Ok(policy),
        (_, report) => Err(report),
    }
}
