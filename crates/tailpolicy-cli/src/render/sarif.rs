//! SARIF 2.1.0 (OASIS), the format code-scanning services ingest.
//!
//! One run: `tool.driver.rules` lists every lint rule of the registry (with a link to its
//! documentation) and a bare descriptor for each other code that appears; each diagnostic
//! is a result whose physical location has a 1-based region, columns in Unicode code
//! points (`columnKind`), the end exclusive as SARIF defines it. Secondary labels become
//! related locations.

use serde_json::{Value, json};
use tailpolicy::lint::{RULES, Rule};
use tailpolicy::{Diagnostic, Label, LineColumn, LineIndex, PositionEncoding, Severity};

use super::FileResult;

/// The schema URI written into the log.
const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// Where the rule documentation lives: `<repository>/blob/main/docs/rules/<CODE>.md`.
pub fn help_uri(code: &str) -> String {
    format!(
        "{}/blob/main/docs/rules/{code}.md",
        env!("CARGO_PKG_REPOSITORY")
    )
}

/// The whole log for a run.
pub fn sarif_log(files: &[FileResult]) -> Value {
    let mut rules: Vec<Value> = RULES.iter().map(rule_descriptor).collect();
    let mut ids: Vec<&str> = RULES.iter().map(|r| r.code).collect();
    let mut results = Vec::new();
    for file in files {
        let index = file.source.as_deref().map(LineIndex::new);
        for diagnostic in &file.diagnostics {
            let rule_index = match ids.iter().position(|id| *id == diagnostic.code) {
                Some(i) => i,
                None => {
                    ids.push(diagnostic.code);
                    rules.push(json!({ "id": diagnostic.code }));
                    ids.len() - 1
                }
            };
            results.push(result(&file.path, index.as_ref(), diagnostic, rule_index));
        }
    }
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "tailpolicy",
                    "version": env!("CARGO_PKG_VERSION"),
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "informationUri": env!("CARGO_PKG_REPOSITORY"),
                    "rules": rules,
                }
            },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    })
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

fn rule_descriptor(rule: &Rule) -> Value {
    json!({
        "id": rule.code,
        "name": rule.name,
        "shortDescription": { "text": rule.summary },
        "fullDescription": { "text": rule.summary },
        "help": { "text": rule.docs, "markdown": rule.docs },
        "helpUri": help_uri(rule.code),
        "defaultConfiguration": {
            "level": level(rule.default_severity),
            "enabled": rule.default_enabled,
        },
        "properties": {
            "category": rule.category.as_str(),
            "tags": [rule.category.as_str()],
        },
    })
}

fn result(
    path: &str,
    index: Option<&LineIndex<'_>>,
    diagnostic: &Diagnostic,
    rule_index: usize,
) -> Value {
    let mut text = diagnostic.message.clone();
    if let Some(help) = &diagnostic.help {
        text.push_str("\nhelp: ");
        text.push_str(help);
    }
    let primary = match (diagnostic.labels.first(), index) {
        (Some(label), Some(index)) => location(path, Some((index, label))),
        _ => location(path, None),
    };
    let mut result = json!({
        "ruleId": diagnostic.code,
        "ruleIndex": rule_index,
        "level": level(diagnostic.severity),
        "message": { "text": text },
        "locations": [primary],
    });
    if let Some(index) = index {
        let related: Vec<Value> = diagnostic
            .labels
            .iter()
            .skip(1)
            .enumerate()
            .map(|(id, label)| {
                let mut related = location(path, Some((index, label)));
                if let Some(object) = related.as_object_mut() {
                    object.insert("id".into(), json!(id));
                    if let Some(message) = &label.message {
                        object.insert("message".into(), json!({ "text": message }));
                    }
                }
                related
            })
            .collect();
        if !related.is_empty()
            && let Some(object) = result.as_object_mut()
        {
            object.insert("relatedLocations".into(), Value::Array(related));
        }
    }
    result
}

fn location(path: &str, region: Option<(&LineIndex<'_>, &Label)>) -> Value {
    let mut physical = json!({ "artifactLocation": { "uri": path_uri(path) } });
    if let Some((index, label)) = region {
        let (start, end): (LineColumn, LineColumn) =
            index.span(label.span, PositionEncoding::Chars);
        if let Some(object) = physical.as_object_mut() {
            object.insert(
                "region".into(),
                json!({
                    "startLine": start.line,
                    "startColumn": start.column,
                    "endLine": end.line,
                    "endColumn": end.column,
                }),
            );
        }
    }
    json!({ "physicalLocation": physical })
}

/// A path as a relative URI reference: forward slashes, everything outside the unreserved
/// characters percent-encoded.
fn path_uri(path: &str) -> String {
    let mut uri = String::with_capacity(path.len());
    for byte in path.replace('\\', "/").bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            uri.push(char::from(byte));
        } else {
            uri.push_str(&format!("%{byte:02X}"));
        }
    }
    uri
}

#[cfg(test)]
mod tests {
    use tailpolicy::Span;

    use super::*;

    #[test]
    fn results_point_at_regions_and_rules() {
        let source = "{\n  \"groups\": {\"group:é\": []},\n}\n";
        let at = u32::try_from(source.find("\"group:é\"").unwrap()).unwrap();
        let end = at + u32::try_from("\"group:é\"".len()).unwrap();
        let diagnostic = Diagnostic::warning("TP009", "group has no members", Span::new(at, end))
            .with_secondary(Span::new(0, 1), "policy")
            .with_help("add members");
        let files = [FileResult {
            path: "my dir/p.hujson".into(),
            source: Some(source.into()),
            diagnostics: vec![diagnostic],
            failed: false,
        }];
        let log = sarif_log(&files);
        let run = &log["runs"][0];
        assert_eq!(log["version"], "2.1.0");
        let result = &run["results"][0];
        assert_eq!(result["ruleId"], "TP009");
        assert_eq!(result["level"], "warning");
        assert_eq!(
            result["message"]["text"],
            "group has no members\nhelp: add members"
        );
        let rule = &run["tool"]["driver"]["rules"][result["ruleIndex"].as_u64().unwrap() as usize];
        assert_eq!(rule["id"], "TP009");
        assert!(
            rule["helpUri"]
                .as_str()
                .unwrap()
                .ends_with("/docs/rules/TP009.md")
        );
        // Every rule's `helpUri` names a page that exists in the repository.
        let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/rules");
        for rule in tailpolicy::lint::RULES {
            assert!(
                docs.join(format!("{}.md", rule.code)).is_file(),
                "docs/rules/{}.md is missing",
                rule.code
            );
        }
        let location = &result["locations"][0]["physicalLocation"];
        assert_eq!(location["artifactLocation"]["uri"], "my%20dir/p.hujson");
        assert_eq!(
            location["region"],
            json!({"startLine": 2, "startColumn": 14, "endLine": 2, "endColumn": 23})
        );
        assert_eq!(result["relatedLocations"][0]["message"]["text"], "policy");
    }

    #[test]
    fn unknown_codes_get_descriptors_and_unlocated_results_name_the_file() {
        let files = [FileResult {
            path: "x.hujson".into(),
            source: None,
            diagnostics: vec![Diagnostic {
                code: "IO",
                severity: Severity::Error,
                message: "cannot read".into(),
                labels: Vec::new(),
                help: None,
            }],
            failed: true,
        }];
        let log = sarif_log(&files);
        let run = &log["runs"][0];
        let result = &run["results"][0];
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(run["tool"]["driver"]["rules"][index]["id"], "IO");
        assert_eq!(index, RULES.len());
        assert!(
            result["locations"][0]["physicalLocation"]
                .get("region")
                .is_none()
        );
    }
}
