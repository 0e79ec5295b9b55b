//! The one table of lint rules.
//!
//! A rule's code (`TP` and three digits) is stable: it is never renumbered, and the code of
//! a removed rule is never given to another. Names are kebab-case and name the pattern a
//! rule flags (so "ignore `unused-group`" reads naturally), never the fix: no `avoid-*`,
//! no `use-*`. The documentation of each rule is the doc comment in its file, in the
//! sections What it does / Why is this bad / Example / Use instead;
//! `docs/rules/<CODE>.md` is generated from it.

use crate::diagnostic::Severity;

use super::RuleContext;
use super::rules;

/// What kind of problem a rule finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    /// The policy does not do what it says (a rule that matches nothing, a wrong address).
    Correctness,
    /// The policy grants more than it probably should.
    Security,
    /// Probably a mistake, or leftovers.
    Suspicious,
    /// Legal and harmless, but harder to read than it needs to be.
    Style,
}

impl Category {
    pub const ALL: &'static [Category] = &[
        Category::Correctness,
        Category::Security,
        Category::Suspicious,
        Category::Style,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Correctness => "correctness",
            Category::Security => "security",
            Category::Suspicious => "suspicious",
            Category::Style => "style",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Category::Correctness => "the policy does not do what it says",
            Category::Security => "the policy grants more access than it probably should",
            Category::Suspicious => "probably a mistake or a leftover",
            Category::Style => "legal and harmless, but harder to read than it needs to be",
        }
    }
}

/// The check of a rule: it reads the policy through the context and reports there.
pub(crate) type CheckFn = fn(&mut RuleContext<'_>);

/// One lint rule.
#[derive(Clone, Copy)]
pub struct Rule {
    /// Stable code, `TP` and three digits.
    pub code: &'static str,
    /// Kebab-case name of the pattern the rule flags.
    pub name: &'static str,
    pub category: Category,
    /// Warning or info; the configuration may change it.
    pub default_severity: Severity,
    /// One line, lowercase, no final period; empty without the `rule-docs` feature.
    pub summary: &'static str,
    /// The rule's documentation (Markdown, from its doc comment).
    pub docs: &'static str,
    /// False for opt-in rules, which run only when the configuration selects them.
    pub default_enabled: bool,
    /// `None` for rules reported by the lint driver itself (suppression comments).
    pub(crate) check: Option<CheckFn>,
}

impl std::fmt::Debug for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rule")
            .field("code", &self.code)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Every rule, ordered by code.
pub static RULES: &[Rule] = &[
    rules::invalid_suppression::RULE,
    rules::unused_suppression::RULE,
    rules::broad_tag_owner::RULE,
    rules::ci_tag_broad_owner::RULE,
    rules::unused_group::RULE,
    rules::unused_tag::RULE,
    rules::unused_host::RULE,
    rules::unused_ipset::RULE,
    rules::unused_posture::RULE,
    rules::empty_group::RULE,
    rules::duplicate_list_entry::RULE,
    rules::legacy_acl_field::RULE,
    rules::acl_expressible_as_grant::RULE,
    rules::host_bits_set::RULE,
    rules::public_host_address::RULE,
    rules::danger_all_source::RULE,
    rules::broad_access_rule::RULE,
    rules::ci_tag_broad_destination::RULE,
    rules::ssh_check_from_tag::RULE,
    rules::ssh_root_from_broad_source::RULE,
    rules::unrouted_subnet_destination::RULE,
    rules::untested_sensitive_access::RULE,
    rules::redundant_rule::RULE,
    rules::duplicate_node_attr::RULE,
    rules::shared_ip_pool::RULE,
];

/// The rule with this code (`TP012`) or name (`unused-group`).
pub fn find(code_or_name: &str) -> Option<&'static Rule> {
    RULES
        .iter()
        .find(|r| r.code.eq_ignore_ascii_case(code_or_name) || r.name == code_or_name)
}

/// A rule that is designed but needs the access simulator, listed in the rule docs.
#[derive(Debug, Clone, Copy)]
pub struct PlannedRule {
    pub name: &'static str,
    pub summary: &'static str,
    /// What it waits for.
    pub needs: &'static str,
}

/// Rules that need the access simulator; they get codes when they are built.
pub static PLANNED: &[PlannedRule] = &[];

/// Declares the `RULE` constant of a rule file from its doc comment and metadata; the file
/// must define `fn check(cx: &mut RuleContext<'_>)` (unless `check: none`).
macro_rules! declare_rule {
    (
        $(#[doc = $doc:literal])+
        code: $code:literal,
        name: $name:literal,
        category: $category:ident,
        severity: $severity:ident,
        summary: $summary:literal,
        check: none $(,)?
    ) => {
        $(#[doc = $doc])+
        pub(crate) const RULE: $crate::lint::registry::Rule = $crate::lint::registry::Rule {
            code: $code,
            name: $name,
            category: $crate::lint::registry::Category::$category,
            default_severity: $crate::diagnostic::Severity::$severity,
            // Only the documentation reads the summary: the WASM module leaves both out.
            summary: if cfg!(feature = "rule-docs") { $summary } else { "" },
            // The WASM module leaves the long documentation out (the `rule-docs` feature).
            docs: if cfg!(feature = "rule-docs") { concat!($($doc, "\n"),+) } else { "" },
            default_enabled: true,
            check: None,
        };
    };
    (
        $(#[doc = $doc:literal])+
        code: $code:literal,
        name: $name:literal,
        category: $category:ident,
        severity: $severity:ident,
        summary: $summary:literal
        $(, default_enabled: $enabled:literal)? $(,)?
    ) => {
        $(#[doc = $doc])+
        pub(crate) const RULE: $crate::lint::registry::Rule = $crate::lint::registry::Rule {
            code: $code,
            name: $name,
            category: $crate::lint::registry::Category::$category,
            default_severity: $crate::diagnostic::Severity::$severity,
            // Only the documentation reads the summary: the WASM module leaves both out.
            summary: if cfg!(feature = "rule-docs") { $summary } else { "" },
            // The WASM module leaves the long documentation out (the `rule-docs` feature).
            docs: if cfg!(feature = "rule-docs") { concat!($($doc, "\n"),+) } else { "" },
            default_enabled: true $(&& $enabled)?,
            check: Some(check),
        };
    };
}
pub(crate) use declare_rule;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_well_formed_and_ordered() {
        let mut previous = "";
        for rule in RULES {
            let digits = rule.code.strip_prefix("TP").unwrap_or("");
            assert!(
                digits.len() == 3 && digits.bytes().all(|b| b.is_ascii_digit()),
                "{}: codes are TP and three digits",
                rule.code
            );
            assert!(
                rule.code > previous,
                "{} after {previous}: RULES is ordered by code, codes are unique",
                rule.code
            );
            previous = rule.code;
        }
    }

    #[test]
    fn names_are_unique_kebab_case_and_name_the_pattern() {
        let mut names: Vec<&str> = RULES.iter().map(|r| r.name).collect();
        names.extend(PLANNED.iter().map(|p| p.name));
        for name in &names {
            assert!(
                !name.is_empty()
                    && name
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                    && !name.starts_with('-')
                    && !name.ends_with('-')
                    && !name.contains("--"),
                "{name}: names are kebab-case"
            );
            for banned in ["avoid-", "use-", "no-", "prefer-"] {
                assert!(
                    !name.starts_with(banned),
                    "{name}: name the pattern flagged, not the fix ({banned}*)"
                );
            }
        }
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), count, "rule names are unique");
    }

    #[test]
    fn every_rule_is_documented_in_the_fixed_sections() {
        for rule in RULES {
            let mut at = 0;
            for section in [
                "### What it does",
                "### Why is this bad",
                "### Example",
                "### Use instead",
            ] {
                let found = rule.docs.get(at..).and_then(|rest| rest.find(section));
                let Some(offset) = found else {
                    panic!("{}: missing or out-of-order section `{section}`", rule.code);
                };
                at += offset + section.len();
            }
            let first_word = rule.summary.split(' ').next().unwrap_or("");
            let acronym =
                first_word.len() > 1 && first_word.bytes().all(|b| b.is_ascii_uppercase());
            assert!(
                !rule.summary.is_empty()
                    && !rule.summary.ends_with('.')
                    && (acronym || !rule.summary.starts_with(|c: char| c.is_ascii_uppercase())),
                "{}: summaries are lowercase with no final period",
                rule.code
            );
        }
    }

    #[test]
    fn default_severities_are_warnings_or_infos() {
        for rule in RULES {
            assert_ne!(
                rule.default_severity,
                Severity::Error,
                "{}: lints are errors only when configured",
                rule.code
            );
        }
    }

    #[test]
    fn find_takes_codes_and_names() {
        let rule = find("unused-group").unwrap();
        assert_eq!(find(rule.code).unwrap().name, "unused-group");
        assert_eq!(
            find(&rule.code.to_ascii_lowercase()).unwrap().code,
            rule.code
        );
        assert!(find("TP999").is_none());
    }
}
