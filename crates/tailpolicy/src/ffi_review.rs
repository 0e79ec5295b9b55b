//! The JavaScript API of the review WebAssembly module (feature `review`; the
//! `wasm/review/` crate exports it, `wasm/README.md` documents it). A second module, loaded
//! only when the preview page needs it, so the main one (`ffi.rs`) stays within its budget:
//!
//! * `diff(oldText, newText, options?)` → `{ok: true, diff, focus}` (`diff` is what
//!   `tailpolicy diff --format json` writes) or `{ok: false, failures}`, one per input that
//!   is not valid, naming it (`old`, `new`, `inventory`, `options`);
//! * `convertInventory(texts, names?)` → `{ok: true, inventory, shapes, warnings}` (what
//!   `tailpolicy inventory convert` writes) or `{ok: false, file, diagnostics}`.
//!
//! Nothing here throws or traps on any input. The plain Rust layer ([`diff_texts`],
//! [`convert_texts`]) holds the logic and is tested on the host.

use js_sys::Array;
use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::api::CheckOptions;
use crate::codes::{INVENTORY, OPTIONS};
use crate::diagnostic::Diagnostic;
use crate::diff::output::{DiffOutput, Sides};
use crate::diff::{Diff, Row};
use crate::ffi_js::{encoding_option, get, inventory_option, is_absent, to_js};
use crate::inventory::Inventory;
use crate::model::Policy;
use crate::output::DiagnosticOutput;
use crate::span::{LineIndex, PositionEncoding, Span};

/// The diff's declarations (`wasm/review/types.d.ts`, generated from `diff::output`) and
/// the output model's (`Diagnostic`).
#[wasm_bindgen(typescript_custom_section)]
const OUTPUT_TYPES: &str = include_str!("../../../wasm/types.d.ts");
#[wasm_bindgen(typescript_custom_section)]
const DIFF_TYPES: &str = include_str!("../../../wasm/review/types.d.ts");

/// The inputs and envelopes, written by hand (the inputs are read field by field).
#[wasm_bindgen(typescript_custom_section)]
const TYPESCRIPT_TYPES: &str = r#"
/** How columns are counted: UTF-16 code units (the default), Unicode scalar values (as the
 * CLI counts) or bytes of UTF-8. */
export type PositionEncoding = "utf16" | "chars" | "utf8";

/** Options for `diff`. */
export interface DiffOptions {
  /** The tailnet (any shape `convertInventory` reads, or the project's own, as text or
   * object); without it both policies are compared over hypothetical devices. */
  inventory?: string | object | null;
  /** How columns are counted; default `"utf16"`. */
  encoding?: PositionEncoding | null;
  /** The names the result gives the sides; default `"old"` and `"new"`. */
  oldName?: string | null;
  newName?: string | null;
  /** A selector (`tag:depot-runner`, a group, user, host or CIDR) whose rows `focus`
   * lists; without an inventory it also gets a hypothetical device, as
   * `tailpolicy diff --no-new-access-for` does. */
  focus?: string | null;
}

/** The rows that concern `options.focus`: indexes into `diff.added` / `diff.removed`. */
export interface DiffFocus {
  selector: string;
  /** The addresses the selector stands for on the tailnet compared. */
  addrs: string[];
  /** The change lets the selector reach more, or more reach it. */
  widens: boolean;
  added: number[];
  removed: number[];
}

/** One input that kept the diff from being computed. */
export interface DiffFailure {
  side: "old" | "new" | "inventory" | "options";
  /** The side's name (`options.oldName` ...). */
  name: string;
  diagnostics: Diagnostic[];
}

export type DiffResponse =
  | { ok: true; diff: DiffResult; focus: DiffFocus | null }
  | { ok: false; failures: DiffFailure[] };

/** A file's shape as recognised, e.g. "`tailscale status --json`". */
export interface ConvertedFile {
  name: string;
  shape: string;
}

export type ConvertResponse =
  | { ok: true; inventory: Inventory; files: ConvertedFile[]; warnings: (Diagnostic & { file: string })[] }
  | { ok: false; file: string; diagnostics: Diagnostic[] };

/** The project's own inventory (what `tailpolicy inventory convert` writes). */
export interface Inventory {
  users: { id?: number | null; name: string; email?: string | null; roles?: string[]; shared?: boolean }[];
  nodes: { name: string; ipv4?: string | null; ipv6?: string | null; user?: string | null; tags?: string[];
    routable_ips?: string[]; approved_routes?: string[]; primary_routes?: string[]; created_by?: string;
    ephemeral?: boolean; shared?: boolean }[];
  tailnet: { domains?: string[]; [setting: string]: unknown };
  unknown?: { roles: boolean; route_approval: boolean; nodes: boolean; users: boolean };
  services?: { name: string; addrs: string[]; ports: string[]; tags: string[] }[];
  assume_nodes?: string[];
}
"#;

/// What `diff` reads from its options.
#[derive(Debug, Clone)]
pub struct DiffSettings {
    pub inventory: Option<String>,
    pub encoding: PositionEncoding,
    pub old_name: String,
    pub new_name: String,
    pub focus: Option<String>,
}

impl Default for DiffSettings {
    fn default() -> Self {
        Self {
            inventory: None,
            encoding: PositionEncoding::default(),
            old_name: "old".to_owned(),
            new_name: "new".to_owned(),
            focus: None,
        }
    }
}

/// One input that is not valid.
#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    pub side: &'static str,
    pub name: String,
    pub diagnostics: Vec<DiagnosticOutput<'static>>,
}

/// The rows about one selector.
#[derive(Debug, Clone, Serialize)]
pub struct Focus {
    pub selector: String,
    pub addrs: Vec<String>,
    pub widens: bool,
    pub added: Vec<usize>,
    pub removed: Vec<usize>,
}

/// `diff`'s answer.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum DiffResponse<'a> {
    Done {
        ok: bool,
        diff: DiffOutput<'a>,
        focus: Option<Focus>,
    },
    Failed {
        ok: bool,
        failures: Vec<Failure>,
    },
}

fn owned(
    text: &str,
    diagnostics: &[Diagnostic],
    encoding: PositionEncoding,
) -> Vec<DiagnosticOutput<'static>> {
    DiagnosticOutput::all(text, diagnostics, encoding)
        .into_iter()
        .map(DiagnosticOutput::into_owned)
        .collect()
}

/// The inventory `diff` compares on, read as the CLI's `--inventory` is (any shape; assumed
/// nodes made real).
fn diff_inventory(
    text: &str,
    encoding: PositionEncoding,
) -> Result<Inventory, Vec<DiagnosticOutput<'static>>> {
    let mut inventory =
        Inventory::parse(text).map_err(|d| owned(text, std::slice::from_ref(&d), encoding))?;
    inventory.add_assumed_nodes().map_err(|message| {
        owned(
            text,
            &[Diagnostic::error(INVENTORY, message, Span::at(0))],
            encoding,
        )
    })?;
    Ok(inventory)
}

/// The difference between two policies: `tailpolicy diff --format json` for them.
pub fn diff_texts<'a>(old: &'a str, new: &'a str, settings: &'a DiffSettings) -> DiffResponse<'a> {
    let encoding = settings.encoding;
    let mut failures = Vec::new();
    let inventory = match settings.inventory.as_deref() {
        None => None,
        Some(text) => match diff_inventory(text, encoding) {
            Ok(inventory) => Some(inventory),
            Err(diagnostics) => {
                failures.push(Failure {
                    side: "inventory",
                    name: "inventory".to_owned(),
                    diagnostics,
                });
                None
            }
        },
    };
    let options = CheckOptions {
        inventory: inventory.as_ref(),
        ..CheckOptions::default()
    };
    let mut side =
        |which: &'static str, name: &str, text: &str| match crate::api::parse_valid(text, &options)
        {
            Ok(policy) => Some(policy),
            Err(report) => {
                let errors: Vec<Diagnostic> = report
                    .diagnostics
                    .into_iter()
                    .filter(Diagnostic::is_error)
                    .collect();
                failures.push(Failure {
                    side: which,
                    name: name.to_owned(),
                    diagnostics: owned(text, &errors, encoding),
                });
                None
            }
        };
    let old_policy = side("old", &settings.old_name, old);
    let new_policy = side("new", &settings.new_name, new);
    let (Some(old_policy), Some(new_policy)) = (old_policy, new_policy) else {
        return DiffResponse::Failed {
            ok: false,
            failures,
        };
    };
    if !failures.is_empty() {
        return DiffResponse::Failed {
            ok: false,
            failures,
        };
    }
    let focus = settings
        .focus
        .as_deref()
        .map(str::trim)
        .filter(|f| !f.is_empty());
    let extra: Vec<&str> = focus.into_iter().collect();
    let (tailnet, symbolic) = match inventory {
        Some(inventory) => (inventory, false),
        None => (
            crate::diff::symbolic_tailnet(&old_policy, &new_policy, &extra),
            true,
        ),
    };
    let diff = crate::diff::diff_on(&old_policy, &new_policy, &tailnet, symbolic);
    let sides = Sides {
        old_name: &settings.old_name,
        new_name: &settings.new_name,
        old: LineIndex::new(old),
        new: LineIndex::new(new),
        encoding,
    };
    let focus = focus.map(|selector| focus_on(selector, &diff, &new_policy, &old_policy, &tailnet));
    DiffResponse::Done {
        ok: true,
        diff: DiffOutput::new(&sides, &diff),
        focus,
    }
}

/// The rows that concern `selector`: its addresses as a source or destination of a network
/// or capability row, its nodes or name in an SSH row, its name in an ownership row.
fn focus_on(selector: &str, diff: &Diff, new: &Policy, old: &Policy, tailnet: &Inventory) -> Focus {
    let mut addrs = crate::diff::selector_addrs(new, tailnet, selector);
    addrs.insert_set(&crate::diff::selector_addrs(old, tailnet, selector));
    let node_hit = |names: &[String]| {
        names.iter().any(|name| {
            tailnet.node(name).is_some_and(|node| {
                node.addrs()
                    .any(|ip| addrs.overlaps(&std::iter::once(ip).collect()))
            })
        })
    };
    let same = |text: &str| text.eq_ignore_ascii_case(selector);
    let concerns = |row: &Row| match row {
        Row::Network(r) => r.src_ips.overlaps(&addrs) || r.dst_ips.overlaps(&addrs),
        Row::Capability(r) => r.src_ips.overlaps(&addrs) || r.dst_ips.overlaps(&addrs),
        Row::Ssh(r) => {
            same(&r.src) || same(&r.dst) || node_hit(&r.src_nodes) || node_hit(&r.dst_nodes)
        }
        Row::Owner(r) => same(&r.target) || r.who.iter().any(|w| same(w)),
    };
    let indexes = |rows: &[Row]| {
        rows.iter()
            .enumerate()
            .filter(|(_, row)| concerns(row))
            .map(|(i, _)| i)
            .collect()
    };
    Focus {
        selector: selector.to_owned(),
        addrs: addrs.to_wire_strings(),
        widens: diff.widens(&addrs),
        added: indexes(&diff.added),
        removed: indexes(&diff.removed),
    }
}

/// A file `convertInventory` read.
#[derive(Debug, Clone, Serialize)]
pub struct ConvertedFile {
    pub name: String,
    pub shape: &'static str,
}

/// A warning of one file.
#[derive(Debug, Clone, Serialize)]
pub struct FileWarning {
    pub file: String,
    #[serde(flatten)]
    pub diagnostic: DiagnosticOutput<'static>,
}

/// `convertInventory`'s answer.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum ConvertResponse {
    Done {
        ok: bool,
        inventory: serde_json::Value,
        files: Vec<ConvertedFile>,
        warnings: Vec<FileWarning>,
    },
    Failed {
        ok: bool,
        file: String,
        diagnostics: Vec<DiagnosticOutput<'static>>,
    },
}

/// Reads every file in any supported shape, merges them in order and writes the project's
/// own inventory: `tailpolicy inventory convert FILE...`. `names[i]` names `texts[i]` in
/// messages (default `file 1`, `file 2` ...).
pub fn convert_texts(
    texts: &[String],
    names: &[String],
    encoding: PositionEncoding,
) -> ConvertResponse {
    let mut merged: Option<Inventory> = None;
    let mut files = Vec::new();
    let mut warnings = Vec::new();
    for (i, text) in texts.iter().enumerate() {
        let name = names
            .get(i)
            .cloned()
            .unwrap_or_else(|| format!("file {}", i + 1));
        let read = match Inventory::read(text) {
            Ok(read) => read,
            Err(diagnostic) => {
                return ConvertResponse::Failed {
                    ok: false,
                    file: name,
                    diagnostics: owned(text, std::slice::from_ref(&diagnostic), encoding),
                };
            }
        };
        warnings.extend(
            owned(text, &read.warnings, encoding)
                .into_iter()
                .map(|diagnostic| FileWarning {
                    file: name.clone(),
                    diagnostic,
                }),
        );
        files.push(ConvertedFile {
            name,
            shape: read.shape.describe(),
        });
        match &mut merged {
            None => merged = Some(read.inventory),
            Some(inventory) => inventory.merge(read.inventory),
        }
    }
    let inventory = merged.unwrap_or_default();
    // Several files: the merged inventory gets the checks each file had (as the CLI does).
    if texts.len() > 1
        && let Err(diagnostic) = inventory.check()
    {
        return ConvertResponse::Failed {
            ok: false,
            file: "<merged inventory>".to_owned(),
            diagnostics: owned("", std::slice::from_ref(&diagnostic), encoding),
        };
    }
    ConvertResponse::Done {
        ok: true,
        inventory: inventory.to_json(),
        files,
        warnings,
    }
}

// ---------------------------------------------------------------------------------------
// The JavaScript side: read arguments, call the layer above, hand back plain objects.
// ---------------------------------------------------------------------------------------

/// `object[key]` as a string: `Ok(None)` when absent or null, `Err` when not a string.
fn string_field(object: &JsValue, key: &str) -> Result<Option<String>, String> {
    let value = get(object, key);
    if is_absent(&value) {
        return Ok(None);
    }
    value
        .as_string()
        .map(Some)
        .ok_or_else(|| format!("`{key}` must be a string"))
}

fn options_failure(message: String) -> Failure {
    let diagnostic = Diagnostic::error(OPTIONS, message, Span::at(0))
        .with_help("options are `{inventory?, encoding?, oldName?, newName?, focus?}`");
    Failure {
        side: "options",
        name: "options".to_owned(),
        diagnostics: owned(
            "",
            std::slice::from_ref(&diagnostic),
            PositionEncoding::Utf16,
        ),
    }
}

fn read_diff_options(options: &JsValue) -> Result<DiffSettings, Failure> {
    let mut settings = DiffSettings::default();
    if is_absent(options) {
        return Ok(settings);
    }
    if !options.is_object() {
        return Err(options_failure("options must be an object".to_owned()));
    }
    if let Some(encoding) = encoding_option(options).map_err(options_failure)? {
        settings.encoding = encoding;
    }
    if let Some(name) = string_field(options, "oldName").map_err(options_failure)? {
        settings.old_name = name;
    }
    if let Some(name) = string_field(options, "newName").map_err(options_failure)? {
        settings.new_name = name;
    }
    settings.focus = string_field(options, "focus").map_err(options_failure)?;
    settings.inventory = inventory_option(options).map_err(options_failure)?;
    Ok(settings)
}

/// What one policy grants that the other does not, both ways: `{ok: true, diff, focus}`
/// (`diff` as `tailpolicy diff --format json`), or `{ok: false, failures}`. Never throws.
#[wasm_bindgen(js_name = diff, unchecked_return_type = "DiffResponse")]
pub fn diff_js(
    #[wasm_bindgen(js_name = oldText)] old_text: &str,
    #[wasm_bindgen(js_name = newText)] new_text: &str,
    #[wasm_bindgen(unchecked_optional_param_type = "DiffOptions")] options: JsValue,
) -> JsValue {
    match read_diff_options(&options) {
        Ok(settings) => to_js(&diff_texts(old_text, new_text, &settings)),
        Err(failure) => to_js(&DiffResponse::Failed {
            ok: false,
            failures: vec![failure],
        }),
    }
}

/// Strings of a JavaScript array; `Err` names the first item that is not one.
fn strings(value: &JsValue, what: &str) -> Result<Vec<String>, String> {
    if value.is_undefined() || value.is_null() {
        return Ok(Vec::new());
    }
    if !Array::is_array(value) {
        return Err(format!("{what} must be an array of strings"));
    }
    Array::from(value)
        .iter()
        .enumerate()
        .map(|(i, item)| {
            item.as_string()
                .ok_or_else(|| format!("{what}[{i}] is not a string"))
        })
        .collect()
}

/// Reads inventories in any supported shape and merges them: `{ok: true, inventory, files,
/// warnings}` (`inventory` as `tailpolicy inventory convert` writes it), or `{ok: false,
/// file, diagnostics}` naming the file that no shape fits. Never throws.
#[wasm_bindgen(js_name = convertInventory, unchecked_return_type = "ConvertResponse")]
pub fn convert_inventory_js(
    #[wasm_bindgen(unchecked_param_type = "string[]")] texts: JsValue,
    #[wasm_bindgen(unchecked_optional_param_type = "string[]")] names: JsValue,
) -> JsValue {
    let read = strings(&texts, "texts").and_then(|t| Ok((t, strings(&names, "names")?)));
    match read {
        Ok((texts, names)) => to_js(&convert_texts(&texts, &names, PositionEncoding::Utf16)),
        Err(message) => {
            let diagnostic = Diagnostic::error(OPTIONS, message, Span::at(0))
                .with_help("call `convertInventory(texts: string[], names?: string[])`");
            to_js(&ConvertResponse::Failed {
                ok: false,
                file: "arguments".to_owned(),
                diagnostics: owned(
                    "",
                    std::slice::from_ref(&diagnostic),
                    PositionEncoding::Utf16,
                ),
            })
        }
    }
}

/// The version of tailpolicy this module was built from (equal to the main module's).
#[wasm_bindgen(js_name = reviewVersion)]
pub fn review_version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEPOT: &str = include_str!("../../../fixtures/depot/policy.hujson");
    const WIDENED: &str = include_str!("../../../fixtures/diff/depot-widened.hujson");
    const STATUS: &str = include_str!("../../../fixtures/inventories/depot/status.json");

    #[test]
    fn a_widened_rule_is_an_added_row_for_the_runner() {
        let settings = DiffSettings {
            focus: Some("tag:depot-runner".to_owned()),
            ..DiffSettings::default()
        };
        let json = serde_json::to_value(diff_texts(DEPOT, WIDENED, &settings)).unwrap();
        assert_eq!(json["ok"], true, "{json}");
        assert_eq!(json["diff"]["unchanged"], false);
        assert_eq!(json["focus"]["widens"], true, "{json}");
        assert!(!json["focus"]["added"].as_array().unwrap().is_empty());
    }

    #[test]
    fn a_broken_side_is_named() {
        let json =
            serde_json::to_value(diff_texts(DEPOT, "{\"acls\": [", &DiffSettings::default()))
                .unwrap();
        assert_eq!(json["ok"], false);
        let failures = json["failures"].as_array().unwrap();
        assert_eq!(failures.len(), 1, "{json}");
        assert_eq!(failures[0]["side"], "new");
        assert!(!failures[0]["diagnostics"].as_array().unwrap().is_empty());
    }

    #[test]
    fn inventories_convert_or_name_the_file() {
        let done = serde_json::to_value(convert_texts(
            &[STATUS.to_owned()],
            &["status.json".to_owned()],
            PositionEncoding::Utf16,
        ))
        .unwrap();
        assert_eq!(done["ok"], true, "{done}");
        assert_eq!(done["files"][0]["shape"], "`tailscale status --json`");
        assert!(
            done["inventory"]["nodes"]
                .as_array()
                .is_some_and(|n| !n.is_empty())
        );
        let failed = serde_json::to_value(convert_texts(
            &[STATUS.to_owned(), "{\"bogus\": 1}".to_owned()],
            &["status.json".to_owned(), "bogus.json".to_owned()],
            PositionEncoding::Utf16,
        ))
        .unwrap();
        assert_eq!(failed["ok"], false);
        assert_eq!(failed["file"], "bogus.json");
        let help = failed["diagnostics"][0]["help"].as_str().unwrap();
        assert!(help.contains("tailscale status --json"), "{help}");
    }
}
