//! The embedding facade: the few calls a service, the CLI or the WASM module need.

use crate::diagnostic::{Diagnostic, has_errors};
use crate::inventory::Inventory;
use crate::lint::{LintConfig, LintContext};
use crate::{lint, model, syntax, validate};

/// What `check` takes besides the policy text.
#[derive(Debug, Clone, Copy, Default)]
pub struct CheckOptions<'a> {
    /// Tailnet state; checks that need it (users, domains, `tests` against real nodes) run
    /// only when it is given.
    pub inventory: Option<&'a Inventory>,
    /// Which lints run and how loud they are; `None` runs every lint at its default
    /// severity.
    pub config: Option<&'a LintConfig>,
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

/// Parses and validates a policy, then lints it when it has no errors.
pub fn check(text: &str, options: &CheckOptions<'_>) -> CheckReport {
    let parsed = syntax::parse(text);
    let mut diagnostics = parsed.diagnostics;
    if let Some(root) = &parsed.value {
        let (policy, structural) = model::lower(root);
        diagnostics.extend(structural);
        diagnostics.extend(validate::validate(&policy, options.inventory));
        // Lints describe valid policies; on an invalid one they would mostly repeat the
        // errors in other words.
        if !has_errors(&diagnostics) {
            let default_config = LintConfig::default();
            let ctx = LintContext {
                source: text,
                comments: &parsed.comments,
                inventory: options.inventory,
                config: options.config.unwrap_or(&default_config),
            };
            diagnostics.extend(lint::lint(&policy, &ctx));
        }
    }
    diagnostics.sort_by_key(|d| (d.primary_span().start, d.primary_span().end));
    CheckReport { diagnostics }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lints_run_on_valid_policies_only() {
        let valid = r#"{"groups": {"group:a": []}, "acls": []}"#;
        let report = check(valid, &CheckOptions::default());
        assert!(report.is_valid());
        assert!(report.diagnostics.iter().any(|d| d.code.starts_with("TP")));

        let invalid = r#"{"groups": {"group:a": []}, "acls": [{"action": "deny"}]}"#;
        let report = check(invalid, &CheckOptions::default());
        assert!(!report.is_valid());
        assert!(report.diagnostics.iter().all(|d| !d.code.starts_with("TP")));
    }

    #[test]
    fn the_config_selects_lints_and_severities() {
        let text = r#"{"groups": {"group:a": []}, "acls": []}"#;
        let config = LintConfig::default()
            .with_select(&["empty-group"])
            .with_severity("empty-group", crate::Severity::Error);
        let report = check(
            text,
            &CheckOptions {
                config: Some(&config),
                ..CheckOptions::default()
            },
        );
        let codes: Vec<&str> = report.diagnostics.iter().map(|d| d.code).collect();
        assert_eq!(codes, ["TP009"]);
        assert!(!report.is_valid());
    }
}
