//! `schema/tailpolicy.schema.json`: generated from the core's field table
//! (`tailpolicy::ide::schema`), and checked with a real validator (the `jsonschema` crate,
//! draft 2020-12) on the comment-free form of every policy the conformance corpus accepts,
//! every `fixtures/real/` policy and the examples; the structurally invalid corpus policies
//! (those `check` rejects for an unknown field or a wrong type) must fail it. "Accepted" is
//! the capture's verdict for the SaaS captures, and `check`'s for headscale's unit cases.
//!
//! After changing the field table: `UPDATE_SCHEMA=1 cargo nextest run -p tailpolicy-cli
//! --test schema` rewrites the file.
#![allow(clippy::print_stdout, reason = "the corpus test prints its table")]

use std::path::PathBuf;

use serde_json::Value;

mod common;
use common::workspace_root;

fn schema_path() -> PathBuf {
    workspace_root().join("schema/tailpolicy.schema.json")
}

fn validator() -> jsonschema::Validator {
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(schema_path()).unwrap()).unwrap();
    jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the schema is a valid draft 2020-12 schema")
}

/// The comment-free JSON of a HuJSON policy.
fn json_of(text: &str) -> Option<Value> {
    tailpolicy::syntax::parse(text).value.map(|v| v.to_json())
}

fn errors(validator: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    validator
        .iter_errors(instance)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

#[test]
fn the_schema_file_is_generated_from_the_field_table() {
    let generated =
        serde_json::to_string_pretty(&tailpolicy::ide::schema::json_schema()).unwrap() + "\n";
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(schema_path(), &generated).unwrap();
    }
    let committed = std::fs::read_to_string(schema_path()).unwrap_or_default();
    assert!(
        committed == generated,
        "schema/tailpolicy.schema.json is stale: run UPDATE_SCHEMA=1 cargo nextest run -p tailpolicy-cli --test schema"
    );
}

#[test]
fn every_field_has_a_description() {
    fn walk(value: &Value, path: &str, missing: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::Object(properties)) = map.get("properties") {
                    for (name, schema) in properties {
                        if schema
                            .get("description")
                            .and_then(Value::as_str)
                            .is_none_or(str::is_empty)
                        {
                            missing.push(format!("{path}.{name}"));
                        }
                    }
                }
                for key in ["additionalProperties", "propertyNames", "items"] {
                    if let Some(schema @ Value::Object(inner)) = map.get(key)
                        && !inner.is_empty()
                        && schema.get("description").is_none()
                        && key != "items"
                    {
                        missing.push(format!("{path}/{key}"));
                    }
                }
                for (key, inner) in map {
                    walk(inner, &format!("{path}/{key}"), missing);
                }
            }
            Value::Array(items) => items.iter().for_each(|i| walk(i, path, missing)),
            _ => {}
        }
    }
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(schema_path()).unwrap()).unwrap();
    let mut missing = Vec::new();
    walk(&schema, "", &mut missing);
    assert!(missing.is_empty(), "{missing:?}");
}

#[test]
fn the_examples_and_real_policies_validate() {
    let validator = validator();
    let mut files = vec![
        workspace_root().join("fixtures/depot/policy.hujson"),
        workspace_root().join("fixtures/guide/policy.hujson"),
    ];
    for entry in std::fs::read_dir(workspace_root().join("fixtures/real")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "hujson") {
            files.push(path);
        }
    }
    files.sort();
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let json = json_of(&text).unwrap();
        let errors = errors(&validator, &json);
        assert!(errors.is_empty(), "{}: {errors:?}", path.display());
    }
    println!("schema: {} example and real policies validate", files.len());
    assert!(files.len() >= 11);
}

#[test]
fn the_corpus_accepted_policies_validate_and_structural_errors_fail() {
    let dir = std::env::var_os("TAILPOLICY_CONFORMANCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("../shared/conformance"))
        .join("headscale");
    if !dir.join("saas").is_dir() {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "conformance corpus missing"
        );
        println!("skipped: conformance corpus not found at {}", dir.display());
        return;
    }
    let validator = validator();
    let (mut accepted, mut rejected, mut structural, mut structural_caught, mut other_caught) =
        (0, 0, 0, 0, 0);
    let mut saas_accepted = 0;
    let mut missed = Vec::new();
    for part in ["saas", "unit"] {
        for folder in std::fs::read_dir(dir.join(part)).unwrap() {
            let folder = folder.unwrap().path();
            if !folder.is_dir() || folder.ends_with("vectors") {
                continue;
            }
            for file in std::fs::read_dir(&folder).unwrap() {
                let file = file.unwrap().path();
                let case: Value =
                    serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
                let Some(text) = case["policy"].as_str() else {
                    continue;
                };
                let Some(json) = json_of(text) else { continue };
                let errors = errors(&validator, &json);
                let name = file.display().to_string();
                let report = tailpolicy::check(text, &Default::default());
                // The SaaS captures say what Tailscale accepts; headscale's unit cases say
                // what headscale accepts (it ignores `#` fields, Tailscale does not), so
                // for them `check` decides.
                let valid = if part == "saas" {
                    case["expect"]["valid"].as_bool() == Some(true)
                } else {
                    report.is_valid()
                };
                if valid {
                    accepted += 1;
                    saas_accepted += usize::from(part == "saas");
                    assert!(
                        errors.is_empty(),
                        "{name}: accepted by Tailscale, refused by the schema: {errors:?}"
                    );
                    continue;
                }
                rejected += 1;
                let is_structural = report.diagnostics.iter().any(|d| {
                    d.code == tailpolicy::codes::UNKNOWN_FIELD
                        || d.code == tailpolicy::codes::WRONG_TYPE
                });
                if is_structural {
                    structural += 1;
                    if errors.is_empty() {
                        missed.push(name);
                    } else {
                        structural_caught += 1;
                    }
                } else if !errors.is_empty() {
                    other_caught += 1;
                }
            }
        }
    }
    println!(
        "schema on the corpus: {accepted} accepted policies validate ({saas_accepted} SaaS \
         captures); of {rejected} rejected, \
         {structural} structurally invalid (unknown field, wrong type): {structural_caught} fail \
         the schema; {other_caught} others fail it too"
    );
    assert!(
        missed.is_empty(),
        "structurally invalid but valid for the schema: {missed:?}"
    );
    assert!(accepted > 500, "{accepted}");
}
