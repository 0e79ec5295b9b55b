//! The JSON Schema (draft 2020-12) of policy files, generated from [`super::fields`]:
//! `schema/tailpolicy.schema.json` is this output (the CLI's `tests/schema.rs` keeps them
//! equal and validates the corpus with it).
//!
//! Tailscale matches field names case-insensitively, so unknown names are refused with a
//! case-insensitive `propertyNames` pattern rather than `additionalProperties: false`; the
//! `properties` (canonical spelling) give editors descriptions and completion. Every field
//! also takes `null`, which Tailscale reads as absent.

use serde_json::{Map, Value, json};

use super::fields::{self, Field, Keys, Ty, Values};

/// Where the schema is published (SchemaStore's catalog names it by this address).
pub const SCHEMA_ID: &str = "https://json.schemastore.org/tailscale-policy.json";

/// The whole schema.
pub fn json_schema() -> Value {
    let mut root = object_schema(fields::POLICY);
    if let Value::Object(map) = &mut root {
        // The document itself is an object, never `null`.
        map.insert("type".to_owned(), json!("object"));
        let mut head = Map::new();
        head.insert(
            "$schema".to_owned(),
            json!("https://json-schema.org/draft/2020-12/schema"),
        );
        head.insert("$id".to_owned(), json!(SCHEMA_ID));
        head.insert("title".to_owned(), json!("Tailscale tailnet policy file"));
        head.insert(
            "description".to_owned(),
            json!("The tailnet policy file (HuJSON: JSON with comments and trailing commas) that sets access rules, groups, tags, SSH rules, tests and settings of a Tailscale tailnet"),
        );
        // VS Code's JSON service reads these two: HuJSON has comments and trailing commas.
        head.insert("allowComments".to_owned(), json!(true));
        head.insert("allowTrailingCommas".to_owned(), json!(true));
        head.append(map);
        *map = head;
    }
    root
}

fn nullable(ty: &str) -> Value {
    json!([ty, "null"])
}

/// `^(?:[aA][cC][lL][sS]|...)$`: the field names, any ASCII case.
fn names_pattern(fields: &[Field]) -> String {
    let alternatives: Vec<String> = fields
        .iter()
        .map(|f| {
            f.name
                .chars()
                .map(|c| {
                    if c.is_ascii_alphabetic() {
                        format!("[{}{}]", c.to_ascii_lowercase(), c.to_ascii_uppercase())
                    } else {
                        c.to_string()
                    }
                })
                .collect()
        })
        .collect();
    format!("^(?:{})$", alternatives.join("|"))
}

fn object_schema(fields: &'static [Field]) -> Value {
    let mut properties = Map::new();
    for field in fields {
        let mut schema = ty_schema(field.ty, true);
        if let Value::Object(map) = &mut schema {
            map.insert("description".to_owned(), json!(field.doc));
        }
        properties.insert(field.name.to_owned(), schema);
    }
    json!({
        "type": nullable("object"),
        "properties": properties,
        "propertyNames": {
            "pattern": names_pattern(fields),
            "description": "field names are matched case-insensitively; other names are refused",
        },
    })
}

fn strings_schema(values: Values) -> Value {
    let what = match values {
        Values::Sources => {
            "a source: user, group, tag, host, IP address or range, autogroup, or `*`"
        }
        Values::AclDestinations => "a destination with ports: `target:ports`",
        Values::GrantDestinations => "a destination without ports, or an `svc:` service",
        Values::SshDestinations => "an SSH destination: tag, host, user, or `autogroup:self`",
        Values::Owners => "a user, group, tag or autogroup",
        Values::Tags => "a tag",
        Values::Postures => "a posture name, `posture:name`",
        Values::TestDestinations => "a `host:port` destination",
        Values::SshUsers => "a local user name",
        Values::Other => "an entry",
    };
    json!({"type": "string", "description": what})
}

fn ty_schema(ty: Ty, null: bool) -> Value {
    let kind = |name: &str| if null { nullable(name) } else { json!(name) };
    match ty {
        Ty::String => json!({"type": kind("string")}),
        // Tailscale trims the value (`" accept"` is accepted, capture
        // ssh-malformed-action-whitespace), so a pattern, with the values as examples for
        // completion.
        Ty::Enum(options) => json!({
            "type": kind("string"),
            "pattern": format!("^[ \t\r\n]*(?:{})[ \t\r\n]*$", options.join("|")),
            "examples": options,
        }),
        Ty::Bool => json!({"type": kind("boolean")}),
        Ty::Strings(values) => json!({"type": kind("array"), "items": strings_schema(values)}),
        Ty::Object(fields) => {
            let mut schema = object_schema(fields);
            if !null && let Value::Object(map) = &mut schema {
                map.insert("type".to_owned(), json!("object"));
            }
            schema
        }
        Ty::ObjectList(fields) => {
            let mut item = object_schema(fields);
            if let Value::Object(map) = &mut item {
                map.insert("type".to_owned(), json!("object"));
            }
            json!({"type": kind("array"), "items": item})
        }
        Ty::Map { key, value } => {
            let (pattern, what) = match key {
                Keys::Group => (Some("^group:"), "a group name, `group:name`"),
                Keys::Tag => (Some("^tag:"), "a tag name, `tag:name`"),
                Keys::Ipset => (Some("^ipset:"), "an ipset name, `ipset:name`"),
                Keys::Posture => (Some("^posture:"), "a posture name, `posture:name`"),
                Keys::Host => (None, "a host name"),
                Keys::Route => (None, "a route (CIDR)"),
                Keys::Service => (None, "a service, `svc:name`, or a tag"),
                Keys::Capability => (None, "a capability name, `domain/path`"),
                Keys::Attribute => (None, "a custom attribute name"),
            };
            let mut value_schema = ty_schema(*value, false);
            if let Value::Object(map) = &mut value_schema {
                map.insert(
                    "description".to_owned(),
                    json!(format!("the value for {what}")),
                );
            }
            let mut names = json!({"description": what});
            if let (Some(pattern), Value::Object(map)) = (pattern, &mut names) {
                map.insert("pattern".to_owned(), json!(pattern));
            }
            json!({
                "type": kind("object"),
                "propertyNames": names,
                "additionalProperties": value_schema,
            })
        }
        Ty::Any => json!({}),
    }
}
