//! The rule documentation in `docs/rules/`, generated from the registry and the doc
//! comments of the rule files. Pure functions: the test `tests/rule_docs.rs` compares (or,
//! with `UPDATE_RULE_DOCS=1`, writes) the files.

use super::registry::{Category, PLANNED, RULES, Rule};
use super::suppress::MARKER;

/// The note at the end of every generated file.
const GENERATED: &str = "<!-- Generated from the rule registry and the rule doc comments; do not edit. \
Regenerate with `UPDATE_RULE_DOCS=1 cargo test -p tailpolicy --test rule_docs`. -->";

/// The file name of a rule's page: `TP004.md`.
pub fn rule_file_name(rule: &Rule) -> String {
    format!("{}.md", rule.code)
}

/// The page of one rule.
pub fn rule_markdown(rule: &Rule) -> String {
    let mut out = String::new();
    out.push_str(&format!("# {}: `{}`\n\n", rule.code, rule.name));
    out.push_str(&format!(
        "| category | default severity | enabled by default |\n| --- | --- | --- |\n| {} | {} | {} |\n\n",
        rule.category.as_str(),
        rule.default_severity.as_str(),
        if rule.default_enabled { "yes" } else { "no (opt in with `extend-select`)" },
    ));
    out.push_str(&format!("{}.\n\n", capitalize(rule.summary)));
    for line in rule.docs.lines() {
        let line = line.strip_prefix(' ').unwrap_or(line);
        // Sections are `###` in the doc comment, one level below the page title here.
        let line = match line.strip_prefix("### ") {
            Some(heading) => format!("## {heading}"),
            None => line.to_owned(),
        };
        out.push_str(line.trim_end());
        out.push('\n');
    }
    if rule.check.is_some() {
        out.push_str(&format!(
            "\n## Configuration\n\nSuppress one finding with a comment on the line before it \
             (or at the end of its line), giving the reason:\n\n```jsonc\n// {MARKER} {}: why this is fine here\n```\n\n\
             Turn the rule off, or change its severity, in `tailpolicy.toml`:\n\n```toml\n[lint]\nignore = [\"{}\"]\n\n[lint.severity]\n{} = \"error\"\n```\n",
            rule.code, rule.code, rule.code
        ));
    }
    out.push_str(&format!(
        "\nSource: `crates/tailpolicy/src/lint/rules/{}.rs`\n\n{GENERATED}\n",
        rule.name.replace('-', "_")
    ));
    out
}

/// The index, `docs/rules/README.md`.
pub fn index_markdown() -> String {
    let mut out = String::from("# Lint rules\n\n");
    out.push_str(
        "`tailpolicy check` lints every policy that has no errors. A finding is a warning or an \
         info unless the configuration makes it an error; warnings fail the run only with \
         `--deny-warnings`. Codes are stable and never reused.\n\n",
    );
    out.push_str("| code | name | category | severity | default | summary |\n");
    out.push_str("| --- | --- | --- | --- | --- | --- |\n");
    for rule in RULES {
        out.push_str(&format!(
            "| [{}]({}) | `{}` | {} | {} | {} | {} |\n",
            rule.code,
            rule_file_name(rule),
            rule.name,
            rule.category.as_str(),
            rule.default_severity.as_str(),
            if rule.default_enabled { "on" } else { "off" },
            rule.summary.replace('|', "\\|"),
        ));
    }
    out.push_str("\n## Categories\n\n");
    for category in Category::ALL {
        out.push_str(&format!(
            "* **{}**: {}\n",
            category.as_str(),
            category.description()
        ));
    }
    out.push_str("\n## Planned\n\nThese rules need the access simulator and get codes when they are built:\n\n");
    for planned in PLANNED {
        out.push_str(&format!(
            "* `{}`: {} (needs {})\n",
            planned.name, planned.summary, planned.needs
        ));
    }
    out.push_str(
        "\n## Covered by validation instead\n\n\
         Some patterns that look like lints are errors Tailscale reports, so `check` reports \
         them as validation errors and never lints them: an SSH rule from a tag (or \
         `autogroup:tagged`) to user-owned devices (`E313`), an undefined tag, group, host or \
         ipset (`E201`-`E204`), an ACL destination without a port (`E301`).\n",
    );
    out.push_str(&format!(
        "\n\
## Configuration: `tailpolicy.toml`\n\
\n\
`tailpolicy check` reads the `[lint]` table of the first `tailpolicy.toml` found in the \
policy's directory or a parent, up to the repository root (the directory holding `.git`), or \
the file given with `--config FILE`. Rules are named by code or name. Unknown rules, keys and \
severities are errors (exit code 2) that point into the file. The top-level `inventory` names \
inventory files (relative to the configuration file) used when `--inventory` is not given; \
the language server (`tailpolicy lsp`, docs/editors.md) reads them too.\n\
\n\
```toml\n\
inventory = [\"inventory.json\"]\n\
\n\
[lint]\n\
# Which rules run. `select` replaces the default set (\"ALL\" selects every rule);\n\
# `extend-select` adds to it, e.g. opt-in rules; `ignore` wins over both.\n\
select = [\"ALL\"]\n\
extend-select = [\"acl-expressible-as-grant\"]\n\
ignore = [\"unused-tag\"]\n\
# Tag names that mark CI runners (`*` matches any run of characters).\n\
ci-tag-patterns = [{}]\n\
# A group with more members than this counts as broad.\n\
broad-group-size = {}\n\
\n\
[lint.severity]\n\
TP017 = \"error\"   # error, warning or info\n\
```\n\
\n\
## Suppression comments\n\
\n\
A comment `// {MARKER} TP012, TP013: reason` hides findings of the named rules whose \
location starts on the next line holding something other than comments (or, for a comment \
after a value, on its own line). The reason after the colon is required: without it the \
comment is reported as [TP000](TP000.md). A named rule with no finding to hide is reported as \
[TP001](TP001.md).\n\
\n\
```jsonc\n\
\"groups\": {{\n\
  // {MARKER} empty-group: filled by the on-call rotation bot\n\
  \"group:oncall\": [],\n\
}},\n\
```\n\
\n\
{GENERATED}\n",
        super::DEFAULT_CI_TAG_PATTERNS
            .iter()
            .map(|p| format!("\"{p}\""))
            .collect::<Vec<_>>()
            .join(", "),
        super::DEFAULT_BROAD_GROUP_SIZE,
    ));
    out
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
