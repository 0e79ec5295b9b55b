//! Lints: patterns that Tailscale accepts but that are probably mistakes, risky or hard to
//! read. Each finding is a [`Diagnostic`] with a stable `TPxxx` code, a warning or an info
//! by default (an error only when the configuration says so).
//!
//! * [`registry`] holds the one table of rules (code, name, category, default severity,
//!   summary, documentation). Codes are never reused.
//! * `rules/<rule_name>.rs` holds one rule each: its documentation in fixed sections, the
//!   check and its tests.
//! * [`LintConfig`] selects rules and overrides severities (`tailpolicy.toml`).
//! * Comments `// tailpolicy-ignore TP012: reason` suppress findings on the next line
//!   (or, trailing, on their own line); see [`suppress`].
//!
//! Lints run only on policies without errors: validation errors stay separate, and a
//! policy with errors is not linted (see [`crate::api::check`]).

mod config;
pub mod docs;
pub mod registry;
mod rules;
mod suppress;
mod visit;

use crate::diagnostic::Diagnostic;
use crate::inventory::Inventory;
use crate::model::Policy;
use crate::span::Span;

pub use config::{DEFAULT_BROAD_GROUP_SIZE, DEFAULT_CI_TAG_PATTERNS, LintConfig};
pub use registry::{Category, PLANNED, PlannedRule, RULES, Rule};
pub use suppress::MARKER as SUPPRESSION_MARKER;

/// Everything a lint may look at besides the policy.
#[derive(Debug, Clone, Copy)]
pub struct LintContext<'a> {
    /// The policy text the spans point into (needed for suppression comments).
    pub source: &'a str,
    /// The span of every comment, in source order, as the parser reports them.
    pub comments: &'a [Span],
    /// Tailnet state, when given; some rules are sharper with it.
    pub inventory: Option<&'a Inventory>,
    pub config: &'a LintConfig,
}

/// Runs every enabled rule over a policy, applies the configured severities and the
/// suppression comments, and returns the findings sorted by position.
pub fn lint(policy: &Policy, ctx: &LintContext<'_>) -> Vec<Diagnostic> {
    let references = visit::references(policy);
    let broad_groups = rules::broad_groups(policy, ctx);
    let mut found = Vec::new();
    for rule in RULES {
        let Some(check) = rule.check else {
            continue;
        };
        if !ctx.config.is_enabled(rule) {
            continue;
        }
        let mut cx = RuleContext {
            policy,
            references: &references,
            broad_groups: &broad_groups,
            lint: ctx,
            rule,
            diagnostics: Vec::new(),
        };
        check(&mut cx);
        let severity = ctx.config.severity(rule);
        for mut diagnostic in cx.diagnostics {
            diagnostic.severity = severity;
            found.push(diagnostic);
        }
    }
    let mut diagnostics = suppress::apply(found, ctx);
    diagnostics.sort_by_key(|d| (d.primary_span().start, d.primary_span().end));
    diagnostics
}

/// What one rule sees while it runs, and where it reports.
pub(crate) struct RuleContext<'a> {
    pub policy: &'a Policy,
    /// Every name the policy uses ([`visit::references`]), collected once for all rules.
    pub references: &'a [visit::Reference<'a>],
    /// Broad groups by name, and why ([`rules::broad_groups`]).
    broad_groups: &'a crate::fasthash::FastMap<&'a str, String>,
    pub lint: &'a LintContext<'a>,
    rule: &'static Rule,
    diagnostics: Vec<Diagnostic>,
}

impl RuleContext<'_> {
    /// A finding of this rule at `span`; push it with [`RuleContext::push`].
    pub fn diagnostic(&self, message: impl Into<String>, span: Span) -> Diagnostic {
        Diagnostic::new(self.rule.code, self.rule.default_severity, message, span)
    }

    #[inline(never)]
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    pub fn config(&self) -> &LintConfig {
        self.lint.config
    }

    pub fn inventory(&self) -> Option<&Inventory> {
        self.lint.inventory
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    //! Helpers for the inline tests of every rule.

    use super::*;
    use crate::diagnostic::has_errors;

    /// Parses, lowers and validates `text` (which must be valid), then lints it with the
    /// default configuration plus `config`.
    pub fn lint_with(text: &str, config: &LintConfig) -> Vec<Diagnostic> {
        let parsed = crate::syntax::parse(text);
        let root = parsed.value.as_ref().expect("the policy parses");
        let (policy, mut errors) = crate::model::lower(root);
        errors.extend(crate::validate::validate(&policy, None));
        assert!(!has_errors(&errors), "the policy is invalid: {errors:#?}");
        lint(
            &policy,
            &LintContext {
                source: text,
                comments: &parsed.comments,
                inventory: None,
                config,
            },
        )
    }

    /// The messages of every finding of rule `code`.
    pub fn messages(text: &str, code: &str) -> Vec<String> {
        lint_with(text, &LintConfig::default())
            .into_iter()
            .filter(|d| d.code == code)
            .map(|d| d.message)
            .collect()
    }

    /// The codes and flagged texts of every finding of rule `code`.
    pub fn findings(text: &str, code: &str) -> Vec<String> {
        let config = LintConfig::default();
        lint_with(text, &config)
            .into_iter()
            .filter(|d| d.code == code)
            .map(|d| {
                let span = d.primary_span();
                text.get(span.range()).unwrap_or_default().to_owned()
            })
            .collect()
    }
}
