//! Lint configuration: which rules run, at which severity, and the knobs some rules take.
//!
//! Read from the `[lint]` table of a `tailpolicy.toml`:
//!
//! ```toml
//! [lint]
//! select = ["ALL"]            # codes or names; replaces the default set
//! extend-select = ["TP012"]   # adds to the set (e.g. opt-in rules)
//! ignore = ["TP010", "unused-tag"]
//! ci-tag-patterns = ["tag:ci", "tag:*-ci", "tag:*runner*"]
//! broad-group-size = 10
//!
//! [lint.severity]
//! TP003 = "error"             # error, warning or info
//! ```
//!
//! The core parses the text; finding the file is the caller's business.

use crate::text::Trimmed;

#[cfg(feature = "config")]
use serde::Deserialize;
#[cfg(feature = "config")]
use std::collections::BTreeMap;
#[cfg(feature = "config")]
use toml::Spanned;

use crate::diagnostic::Severity;
#[cfg(feature = "config")]
use crate::{codes, diagnostic::Diagnostic, span::Span};

#[cfg(feature = "config")]
use super::registry::RULES;
use super::registry::{self, Rule};

/// Tag-name patterns that mark CI runners by default (`*` matches any run of characters).
pub const DEFAULT_CI_TAG_PATTERNS: &[&str] = &[
    "tag:ci",
    "tag:ci-*",
    "tag:*-ci",
    "tag:*-ci-*",
    "tag:*runner*",
    "tag:*depot*",
    "tag:*github-actions*",
    "tag:*gitlab*",
    "tag:*buildkite*",
];

/// A group with more members than this counts as broad by default.
pub const DEFAULT_BROAD_GROUP_SIZE: usize = 10;

/// Which rules run and how loud they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LintConfig {
    /// Codes of the rules to run; `None` runs the rules enabled by default.
    select: Option<Vec<&'static str>>,
    /// Codes of rules to run besides `select`.
    extend_select: Vec<&'static str>,
    /// Codes of rules never to run (beats `select`).
    ignore: Vec<&'static str>,
    /// Severity overrides by code, sorted by code (a `Vec`, not a `BTreeMap`: the
    /// WASM module carries no B-tree code for it).
    severity: Vec<(&'static str, Severity)>,
    /// Glob patterns (`*` only) over lowercase tag names that mark CI-runner tags.
    pub ci_tag_patterns: Vec<String>,
    /// A group with more members than this is broad (as is one holding every user of the
    /// inventory).
    pub broad_group_size: usize,
    /// Inventory files named by the top-level `inventory` key, as written (relative to the
    /// configuration file); the language server loads them.
    pub inventory: Vec<String>,
}

impl Default for LintConfig {
    fn default() -> Self {
        Self {
            select: None,
            extend_select: Vec::new(),
            ignore: Vec::new(),
            severity: Vec::new(),
            ci_tag_patterns: DEFAULT_CI_TAG_PATTERNS
                .iter()
                .map(|p| (*p).to_owned())
                .collect(),
            broad_group_size: DEFAULT_BROAD_GROUP_SIZE,
            inventory: Vec::new(),
        }
    }
}

#[cfg(feature = "config")]
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    lint: Option<RawLint>,
    inventory: Option<Vec<String>>,
}

#[cfg(feature = "config")]
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawLint {
    select: Option<Vec<Spanned<String>>>,
    extend_select: Option<Vec<Spanned<String>>>,
    ignore: Option<Vec<Spanned<String>>>,
    severity: Option<BTreeMap<Spanned<String>, Spanned<String>>>,
    ci_tag_patterns: Option<Vec<String>>,
    broad_group_size: Option<usize>,
}

#[cfg(feature = "config")]
impl LintConfig {
    /// Parses a `tailpolicy.toml`. Errors (TOML syntax, unknown keys, unknown rule codes,
    /// bad severities) are diagnostics with spans into `text`.
    pub fn from_toml_str(text: &str) -> Result<LintConfig, Vec<Diagnostic>> {
        let raw: RawFile = toml::from_str(text).map_err(|err| {
            let span = err.span().map_or(Span::at(0), range_span);
            vec![
                Diagnostic::error(
                    codes::INVALID_CONFIG,
                    format!("invalid configuration: {}", err.message().trim_end()),
                    span,
                )
                .with_help("see docs/rules/README.md for the `[lint]` table"),
            ]
        })?;
        let mut config = LintConfig {
            inventory: raw.inventory.unwrap_or_default(),
            ..LintConfig::default()
        };
        let Some(lint) = raw.lint else {
            return Ok(config);
        };
        let mut errors = Vec::new();
        if let Some(select) = &lint.select {
            let mut codes = Vec::new();
            for entry in select {
                if entry.get_ref() == "ALL" {
                    codes.extend(RULES.iter().map(|r| r.code));
                } else if let Some(rule) = rule_for(entry, &mut errors) {
                    codes.push(rule.code);
                }
            }
            config.select = Some(codes);
        }
        for entry in lint.extend_select.iter().flatten() {
            if entry.get_ref() == "ALL" {
                config.extend_select.extend(RULES.iter().map(|r| r.code));
            } else if let Some(rule) = rule_for(entry, &mut errors) {
                config.extend_select.push(rule.code);
            }
        }
        for entry in lint.ignore.iter().flatten() {
            if let Some(rule) = rule_for(entry, &mut errors) {
                config.ignore.push(rule.code);
            }
        }
        for (key, value) in lint.severity.iter().flatten() {
            let rule = rule_for(key, &mut errors);
            let severity = match value.get_ref().as_str() {
                "error" => Some(Severity::Error),
                "warning" => Some(Severity::Warning),
                "info" => Some(Severity::Info),
                other => {
                    errors.push(
                        Diagnostic::error(
                            codes::INVALID_CONFIG,
                            format!("unknown severity `{other}`"),
                            range_span(value.span()),
                        )
                        .with_help("use \"error\", \"warning\" or \"info\"; to turn a rule off, list it in `ignore`"),
                    );
                    None
                }
            };
            if let (Some(rule), Some(severity)) = (rule, severity) {
                config.set_severity(rule.code, severity);
            }
        }
        if let Some(patterns) = lint.ci_tag_patterns {
            config.ci_tag_patterns = patterns.iter().map(|p| p.to_ascii_lowercase()).collect();
        }
        if let Some(size) = lint.broad_group_size {
            config.broad_group_size = size;
        }
        if errors.is_empty() {
            Ok(config)
        } else {
            Err(errors)
        }
    }
}

impl LintConfig {
    /// Runs only these rules (codes or names); unknown entries are ignored.
    #[must_use]
    pub fn with_select(mut self, rules: &[&str]) -> Self {
        self.select = Some(
            rules
                .iter()
                .filter_map(|r| registry::find(r))
                .map(|r| r.code)
                .collect(),
        );
        self
    }

    /// Also runs these rules (codes or names); unknown entries are ignored.
    #[must_use]
    pub fn with_extend_select(mut self, rules: &[&str]) -> Self {
        self.extend_select.extend(
            rules
                .iter()
                .filter_map(|r| registry::find(r))
                .map(|r| r.code),
        );
        self
    }

    /// Never runs these rules (codes or names); unknown entries are ignored.
    #[must_use]
    pub fn with_ignore(mut self, rules: &[&str]) -> Self {
        self.ignore.extend(
            rules
                .iter()
                .filter_map(|r| registry::find(r))
                .map(|r| r.code),
        );
        self
    }

    /// Reports a rule (code or name) at `severity`; unknown rules are ignored.
    #[must_use]
    pub fn with_severity(mut self, rule: &str, severity: Severity) -> Self {
        if let Some(rule) = registry::find(rule) {
            self.set_severity(rule.code, severity);
        }
        self
    }

    fn set_severity(&mut self, code: &'static str, severity: Severity) {
        match self.severity.binary_search_by(|(c, _)| c.cmp(&code)) {
            Ok(at) => {
                if let Some(entry) = self.severity.get_mut(at) {
                    entry.1 = severity;
                }
            }
            Err(at) => self.severity.insert(at, (code, severity)),
        }
    }

    /// True when the rule runs.
    pub fn is_enabled(&self, rule: &Rule) -> bool {
        let selected = match &self.select {
            Some(codes) => codes.contains(&rule.code),
            None => rule.default_enabled,
        };
        (selected || self.extend_select.contains(&rule.code)) && !self.ignore.contains(&rule.code)
    }

    /// The severity the rule reports at.
    pub fn severity(&self, rule: &Rule) -> Severity {
        self.severity
            .iter()
            .find(|(code, _)| *code == rule.code)
            .map_or(rule.default_severity, |(_, severity)| *severity)
    }

    /// True when `tag` (any case) matches one of the CI-runner patterns.
    pub fn is_ci_tag(&self, tag: &str) -> bool {
        let tag = tag.trimmed();
        let tag = crate::text::ascii_lowercase(tag);
        self.ci_tag_patterns.iter().any(|p| glob_match(p, &tag))
    }
}

#[cfg(feature = "config")]
fn rule_for(entry: &Spanned<String>, errors: &mut Vec<Diagnostic>) -> Option<&'static Rule> {
    let text = entry.get_ref();
    let rule = registry::find(text);
    if rule.is_none() {
        let mut diagnostic = Diagnostic::error(
            codes::INVALID_CONFIG,
            format!("unknown rule `{text}`"),
            range_span(entry.span()),
        );
        let candidates = RULES.iter().flat_map(|r| [r.code, r.name]);
        diagnostic.help = Some(match crate::fuzzy::closest(text, candidates) {
            Some(near) => format!("did you mean `{near}`?"),
            None => {
                "rules are named by code (`TP012`) or name; see docs/rules/README.md".to_owned()
            }
        });
        errors.push(diagnostic);
    }
    rule
}

#[cfg(feature = "config")]
fn range_span(range: std::ops::Range<usize>) -> Span {
    let start = u32::try_from(range.start).unwrap_or(u32::MAX);
    let end = u32::try_from(range.end).unwrap_or(u32::MAX);
    Span::new(start, end.max(start))
}

/// Matches `text` against `pattern`, where `*` stands for any run of characters. Works on
/// bytes: it runs for every tag a rule names, and `str` searchers cost more to set up than
/// these short texts take to scan.
pub(crate) fn glob_match(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.as_bytes().split(|&b| b == b'*');
    let Some(mut rest) = text
        .as_bytes()
        .strip_prefix(parts.next().unwrap_or_default())
    else {
        return false;
    };
    let Some(last) = parts.next_back() else {
        return rest.is_empty();
    };
    for part in parts {
        match find(rest, part) {
            Some(at) => rest = rest.get(at + part.len()..).unwrap_or_default(),
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    let Some(&first) = needle.first() else {
        return Some(0);
    };
    (0..haystack.len()).find(|&i| {
        haystack.get(i) == Some(&first) && haystack.get(i..).is_some_and(|h| h.starts_with(needle))
    })
}

// Two attributes: clippy exempts only a plain `#[cfg(test)]` module (clippy.toml).
#[cfg(test)]
#[cfg(feature = "config")]
mod tests {
    use super::*;

    fn code(name: &str) -> &'static str {
        registry::find(name).unwrap().code
    }

    #[test]
    fn empty_and_lintless_files_give_the_defaults() {
        assert_eq!(
            LintConfig::from_toml_str("").unwrap(),
            LintConfig::default()
        );
        assert_eq!(
            LintConfig::from_toml_str("[lint]\n").unwrap(),
            LintConfig::default()
        );
    }

    #[test]
    fn select_ignore_and_severity() {
        let unused_group = code("unused-group");
        let empty_group = code("empty-group");
        let text = format!(
            "[lint]\nselect = [\"{unused_group}\", \"empty-group\"]\nignore = [\"empty-group\"]\n\
             [lint.severity]\n{unused_group} = \"error\"\n"
        );
        let config = LintConfig::from_toml_str(&text).unwrap();
        let rule = |c| registry::find(c).unwrap();
        assert!(config.is_enabled(rule(unused_group)));
        assert!(!config.is_enabled(rule(empty_group)));
        assert!(!config.is_enabled(rule(code("unused-tag"))));
        assert_eq!(config.severity(rule(unused_group)), Severity::Error);
        assert_eq!(
            config.severity(rule(empty_group)),
            rule(empty_group).default_severity
        );
        let all = LintConfig::from_toml_str("[lint]\nselect = [\"ALL\"]").unwrap();
        assert!(RULES.iter().all(|r| all.is_enabled(r)));
        let opt_in = rule(code("acl-expressible-as-grant"));
        assert!(!LintConfig::default().is_enabled(opt_in));
        let extended =
            LintConfig::from_toml_str("[lint]\nextend-select = [\"acl-expressible-as-grant\"]")
                .unwrap();
        assert!(extended.is_enabled(opt_in) && extended.is_enabled(rule(empty_group)));
    }

    #[test]
    fn unknown_codes_and_severities_are_located_errors() {
        let text = "[lint]\nignore = [\"TP999\"]\n[lint.severity]\nunused-grup = \"loud\"\n";
        let errors = LintConfig::from_toml_str(text).unwrap_err();
        let shown: Vec<(&str, &str)> = errors
            .iter()
            .map(|d| {
                (
                    d.message.as_str(),
                    text.get(d.primary_span().range()).unwrap(),
                )
            })
            .collect();
        assert_eq!(
            shown,
            [
                ("unknown rule `TP999`", "\"TP999\""),
                ("unknown rule `unused-grup`", "unused-grup"),
                ("unknown severity `loud`", "\"loud\""),
            ]
        );
        assert_eq!(
            errors[1].help.as_deref(),
            Some("did you mean `unused-group`?")
        );
        assert!(errors.iter().all(|d| d.code == codes::INVALID_CONFIG));
    }

    #[test]
    fn unknown_keys_and_bad_toml_are_located_errors() {
        let text = "[lint]\nselct = []\n";
        let errors = LintConfig::from_toml_str(text).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert!(errors[0].message.contains("selct"), "{}", errors[0].message);
        assert_eq!(text.get(errors[0].primary_span().range()), Some("selct"));
        let errors = LintConfig::from_toml_str("[lint\n").unwrap_err();
        assert!(errors[0].message.starts_with("invalid configuration: "));
    }

    #[test]
    fn ci_patterns() {
        let config = LintConfig::default();
        for tag in [
            "tag:ci",
            "tag:CI-runner",
            "tag:depot-runner",
            "tag:build-ci",
            "tag:gh-ci-x",
        ] {
            assert!(config.is_ci_tag(tag), "{tag}");
        }
        for tag in ["tag:social", "tag:precision", "tag:web", "tag:circle"] {
            assert!(!config.is_ci_tag(tag), "{tag}");
        }
        let config = LintConfig::from_toml_str("[lint]\nci-tag-patterns = [\"tag:*ci*\"]").unwrap();
        assert!(config.is_ci_tag("tag:social"));
    }

    #[test]
    fn globs() {
        assert!(glob_match("a*c", "abc"));
        assert!(glob_match("a*c", "ac"));
        assert!(!glob_match("a*c", "ab"));
        assert!(glob_match("*", ""));
        assert!(glob_match("*x*", "axb"));
        assert!(!glob_match("*x*", "ab"));
        assert!(glob_match("ab", "ab"));
        assert!(!glob_match("ab", "abc"));
        assert!(!glob_match("a*a", "a"));
    }
}
