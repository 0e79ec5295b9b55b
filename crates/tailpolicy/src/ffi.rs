//! The JavaScript API of the WebAssembly module (feature `wasm`; the `wasm/` crate exports
//! it, `wasm/README.md` documents it).
//!
//! * `check(policyText, options?)` → `{valid, diagnostics}`, the fields of the CLI's JSON;
//! * `Policy.parse(policyText, options?)` → `{ok: true, policy}` or `{ok: false,
//!   diagnostics}`; the handle answers `query({src, dst, proto})`, `reachableFrom(src)`,
//!   `reachableTo(dst)` and `test()` until `free()`;
//! * `version()`.
//!
//! Every problem comes back as a value: a broken policy as diagnostics, a bad inventory as
//! an `INVENTORY` diagnostic, a bad option as an `OPTIONS` diagnostic, a query that cannot
//! be answered as `{allowed: false, error}`. Nothing here throws or traps on any input.
//!
//! The results are the types of [`crate::output`], which the CLI's JSON serializes too.
//! Positions are 1-based; columns count UTF-16 code units unless `options.encoding` says
//! otherwise. The plain Rust layer ([`check_text`], [`PolicySession`]) holds all the logic
//! and is tested on the host; the `#[wasm_bindgen]` functions only move values across.

use js_sys::{Object, Reflect};
use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::api::CheckOptions;
use crate::diagnostic::Diagnostic;
use crate::ffi_js::{encoding_option, get, inventory_option, to_js};
use crate::inventory::Inventory;
use crate::model::Policy as PolicyModel;
use crate::output::{CheckOutput, DiagnosticOutput, QueryOutput, ReachEntry, TestReport};
use crate::query::Simulator;
use crate::span::{LineIndex, PositionEncoding, Span};

/// The codes of the inputs' diagnostics (kept here for callers; defined in `codes`).
pub use crate::codes::{INVENTORY, OPTIONS};

/// The output model's declarations, generated from `crate::output` (see there).
#[wasm_bindgen(typescript_custom_section)]
const OUTPUT_TYPES: &str = include_str!("../../../wasm/types.d.ts");

/// The inputs and the envelopes of this API, written by hand: the inputs are read field by
/// field from JavaScript values, not by a Rust type.
#[wasm_bindgen(typescript_custom_section)]
const TYPESCRIPT_TYPES: &str = r#"
/** How columns are counted: UTF-16 code units (the default, as JavaScript strings index),
 * Unicode scalar values (as the CLI counts), or bytes of UTF-8. */
export type PositionEncoding = "utf16" | "chars" | "utf8";

/** Options for `check` and `Policy.parse`. */
export interface Options {
  /** The tailnet's users, nodes and settings, as JSON text or as an object of that shape. */
  inventory?: string | Inventory | null;
  /** How columns are counted; default `"utf16"`. */
  encoding?: PositionEncoding | null;
}

/** The tailnet state a policy is evaluated against (the CLI's `--inventory` file). */
export interface Inventory {
  users?: InventoryUser[];
  nodes?: InventoryNode[];
  tailnet?: InventoryTailnet;
}

export interface InventoryUser {
  id?: number;
  /** Login name without domain, e.g. `alice`. */
  name: string;
  /** Login, e.g. `alice@example.com`. */
  email?: string | null;
  /** Admin-console roles (`owner`, `admin`, `network-admin`, ...). */
  roles?: string[];
}

export interface InventoryNode {
  name: string;
  ipv4?: string | null;
  ipv6?: string | null;
  /** The owning user's `name`; `null` for tagged nodes. */
  user?: string | null;
  tags?: string[];
  /** Routes the node advertises. */
  routable_ips?: string[];
  /** The approved subset of `routable_ips`. */
  approved_routes?: string[];
  primary_routes?: string[];
  created_by?: string | null;
}

export interface InventoryTailnet {
  /** Domains usable in `user:*@domain`; default: the first user's domain. */
  domains?: string[] | null;
  [setting: string]: unknown;
}

/** What `Policy.parse` returns: a handle, or the errors that keep the policy from being
 * queried. Warnings and the policy's own `tests` are `check`'s business. */
export type ParseResult =
  | { ok: true; policy: Policy }
  | { ok: false; diagnostics: Diagnostic[] };

/** A query: can `src` reach `dst` (`host:port`) over `proto` (default `"tcp"`)? */
export interface QueryRequest {
  /** A tag, user, group, host alias, IP or node name. */
  src: string;
  /** `host:port`; IPv6 as `[addr]:port`. */
  dst: string;
  /** A protocol name (`tcp`, `udp`, `icmp`, ...) or number. */
  proto?: string | null;
}

/** A query that cannot be answered as written (an unknown name, a bad port ...): the same
 * text in `explanation` and `error`. */
export type QueryFailure = Omit<QueryAnswer, "allowed" | "matches" | "via_node" | "conditions" | "error"> & {
  allowed: false;
  matches: [];
  via_node: null;
  conditions: [];
  error: string;
};

export type QueryResult = (Omit<QueryAnswer, "error"> & { error?: undefined }) | QueryFailure;

export type ReachResult =
  | { ok: true; reach: Reach[] }
  | { ok: false; error: string };
"#;

/// A reachability listing, or why there is none: `{ok: true, reach}` or `{ok: false, error}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReachListing {
    Listed(Vec<ReachEntry>),
    Failed(String),
}

impl Serialize for ReachListing {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(2))?;
        match self {
            Self::Listed(reach) => {
                map.serialize_entry("ok", &true)?;
                map.serialize_entry("reach", reach)?;
            }
            Self::Failed(error) => {
                map.serialize_entry("ok", &false)?;
                map.serialize_entry("error", error)?;
            }
        }
        map.end()
    }
}

/// The options both entry points take, once read.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub inventory: Option<Inventory>,
    pub encoding: PositionEncoding,
}

/// Reads inventory JSON; a failure is an `INVENTORY` diagnostic located in `text`.
pub fn parse_inventory(
    text: &str,
    encoding: PositionEncoding,
) -> Result<Inventory, DiagnosticOutput<'static>> {
    Inventory::parse(text).map_err(|diagnostic| {
        DiagnosticOutput::new(&diagnostic, Some(&LineIndex::new(text)), encoding).into_owned()
    })
}

/// An `OPTIONS` diagnostic at 1:1.
pub fn options_error(message: impl Into<String>) -> DiagnosticOutput<'static> {
    let diagnostic = Diagnostic::error(OPTIONS, message, Span::at(0)).with_help(
        "options are `{inventory?: string | object, encoding?: \"utf16\" | \"chars\" | \"utf8\"}`",
    );
    DiagnosticOutput::new(&diagnostic, None, PositionEncoding::Utf16).into_owned()
}

/// The core's options with everything but the inventory at its default (more options, such
/// as lint settings, keep their defaults until the JavaScript API exposes them).
#[allow(
    clippy::needless_update,
    reason = "`CheckOptions` gains fields on other branches; `allow`, not `expect`, so it holds either way"
)]
fn check_options(inventory: Option<&Inventory>) -> CheckOptions<'_> {
    CheckOptions {
        inventory,
        ..Default::default()
    }
}

/// Every diagnostic for a policy (what `tailpolicy check --format json` reports for it).
pub fn check_text(text: &str, settings: &Settings) -> CheckOutput<'static> {
    let options = check_options(settings.inventory.as_ref());
    let report = crate::api::check(text, &options);
    CheckOutput {
        valid: report.is_valid(),
        diagnostics: owned(DiagnosticOutput::all(
            text,
            &report.diagnostics,
            settings.encoding,
        )),
    }
}

fn owned(diagnostics: Vec<DiagnosticOutput<'_>>) -> Vec<DiagnosticOutput<'static>> {
    diagnostics
        .into_iter()
        .map(DiagnosticOutput::into_owned)
        .collect()
}

/// The text, typed policy and inventory a session borrows from.
struct Source {
    text: String,
    policy: PolicyModel,
    inventory: Option<Inventory>,
}

/// What a session computes once from its [`Source`].
struct Session<'a> {
    simulator: Simulator<'a>,
    lines: LineIndex<'a>,
}

self_cell::self_cell!(
    struct Loaded {
        owner: Source,
        #[not_covariant]
        dependent: Session,
    }
);

/// A valid policy ready for queries: parsed and compiled once, asked many times.
pub struct PolicySession {
    loaded: Loaded,
    encoding: PositionEncoding,
}

impl std::fmt::Debug for PolicySession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicySession")
            .field("bytes", &self.loaded.borrow_owner().text.len())
            .field("encoding", &self.encoding)
            .finish_non_exhaustive()
    }
}

impl PolicySession {
    /// The session, or the errors that keep the policy from being queried.
    pub fn parse(text: &str, settings: Settings) -> Result<Self, Vec<DiagnosticOutput<'static>>> {
        let options = check_options(settings.inventory.as_ref());
        let policy = match crate::api::parse_valid(text, &options) {
            Ok(policy) => policy,
            Err(report) => {
                let errors: Vec<Diagnostic> = report
                    .diagnostics
                    .into_iter()
                    .filter(Diagnostic::is_error)
                    .collect();
                return Err(owned(DiagnosticOutput::all(
                    text,
                    &errors,
                    settings.encoding,
                )));
            }
        };
        let source = Source {
            text: text.to_owned(),
            policy,
            inventory: settings.inventory,
        };
        let loaded = Loaded::new(source, |source| Session {
            simulator: Simulator::new(&source.policy, source.inventory.as_ref()),
            lines: LineIndex::new(&source.text),
        });
        Ok(Self {
            loaded,
            encoding: settings.encoding,
        })
    }

    /// Can `src` reach `dst` (`host:port`) over `proto` (default `tcp`)?
    pub fn query(&self, src: &str, dst: &str, proto: Option<&str>) -> QueryOutput {
        let encoding = self.encoding;
        self.loaded.with_dependent(
            |_, session| match session.simulator.query(src, dst, proto) {
                Ok(answer) => QueryOutput::new(answer, &session.lines, encoding),
                Err(error) => QueryOutput::failure(src, dst, proto, error.to_string()),
            },
        )
    }

    /// Everything `src` can reach.
    pub fn reachable_from(&self, src: &str) -> ReachListing {
        self.reach(src, true)
    }

    /// Everyone who can reach `dst` (`host` or `host:port`).
    pub fn reachable_to(&self, dst: &str) -> ReachListing {
        self.reach(dst, false)
    }

    // One body for both listings (not a generic over the listing call): the output
    // conversion is in the WASM module once.
    fn reach(&self, name: &str, from: bool) -> ReachListing {
        let encoding = self.encoding;
        self.loaded.with_dependent(|_, session| {
            let listed = if from {
                session.simulator.reachable_from(name)
            } else {
                session.simulator.reachable_to(name)
            };
            match listed {
                Ok(reach) => {
                    let mut entries = Vec::new();
                    for r in reach {
                        entries.push(ReachEntry::new(r, &session.lines, encoding));
                    }
                    ReachListing::Listed(entries)
                }
                Err(error) => ReachListing::Failed(error.to_string()),
            }
        })
    }

    /// The policy's own `tests` and `sshTests`, one result per assertion (`tailpolicy test`).
    pub fn test(&self) -> TestReport {
        let encoding = self.encoding;
        self.loaded.with_dependent(|source, session| {
            let assertions = crate::policy_tests::run(&source.policy, source.inventory.as_ref());
            TestReport::new(&assertions, &session.lines, encoding)
        })
    }
}

// ---------------------------------------------------------------------------------------
// The JavaScript side: read arguments, call the layer above, hand back plain objects.
// ---------------------------------------------------------------------------------------

/// Reads `{inventory?, encoding?}`; a problem is a diagnostic.
fn read_options(options: &JsValue) -> Result<Settings, DiagnosticOutput<'static>> {
    if options.is_undefined() || options.is_null() {
        return Ok(Settings::default());
    }
    if !options.is_object() {
        return Err(options_error(
            "options must be an object `{inventory?, encoding?}`",
        ));
    }
    let encoding = encoding_option(options)
        .map_err(options_error)?
        .unwrap_or_default();
    let inventory = match inventory_option(options).map_err(options_error)? {
        Some(text) => Some(parse_inventory(&text, encoding)?),
        None => None,
    };
    Ok(Settings {
        inventory,
        encoding,
    })
}

/// Checks a policy: `{valid, diagnostics}`, the fields of the CLI's JSON.
#[wasm_bindgen(js_name = check, unchecked_return_type = "CheckResult")]
pub fn check_js(
    #[wasm_bindgen(js_name = policyText)] policy_text: &str,
    #[wasm_bindgen(unchecked_optional_param_type = "Options")] options: JsValue,
) -> JsValue {
    match read_options(&options) {
        // Serialized while it borrows the report: no owned copy of every message.
        Ok(settings) => {
            let options = check_options(settings.inventory.as_ref());
            let report = crate::api::check(policy_text, &options);
            to_js(&CheckOutput {
                valid: report.is_valid(),
                diagnostics: DiagnosticOutput::all(
                    policy_text,
                    &report.diagnostics,
                    settings.encoding,
                ),
            })
        }
        Err(diagnostic) => to_js(&CheckOutput {
            valid: false,
            diagnostics: vec![diagnostic],
        }),
    }
}

/// The version of tailpolicy this module was built from.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}

/// A parsed, valid policy: parse once with `Policy.parse`, ask many times, then `free()`.
#[wasm_bindgen(js_name = Policy)]
pub struct PolicyHandle {
    session: PolicySession,
}

#[wasm_bindgen(js_class = Policy)]
impl PolicyHandle {
    /// `{ok: true, policy}`, or `{ok: false, diagnostics}` with the errors that keep the
    /// policy from being queried. Never throws.
    #[wasm_bindgen(unchecked_return_type = "ParseResult")]
    pub fn parse(
        #[wasm_bindgen(js_name = policyText)] policy_text: &str,
        #[wasm_bindgen(unchecked_optional_param_type = "Options")] options: JsValue,
    ) -> JsValue {
        let parsed = read_options(&options)
            .map_err(|d| vec![d])
            .and_then(|settings| PolicySession::parse(policy_text, settings));
        let result = Object::new();
        match parsed {
            Ok(session) => {
                set(&result, "ok", &JsValue::TRUE);
                set(&result, "policy", &JsValue::from(PolicyHandle { session }));
            }
            Err(diagnostics) => {
                set(&result, "ok", &JsValue::FALSE);
                set(&result, "diagnostics", &to_js(&diagnostics));
            }
        }
        result.into()
    }

    /// Can `src` reach `dst` over `proto`? An unanswerable query gives `{allowed: false,
    /// error}`.
    #[wasm_bindgen(unchecked_return_type = "QueryResult")]
    pub fn query(
        &self,
        #[wasm_bindgen(unchecked_param_type = "QueryRequest")] request: JsValue,
    ) -> JsValue {
        let src = get(&request, "src").as_string();
        let dst = get(&request, "dst").as_string();
        let proto_value = get(&request, "proto");
        let proto = proto_value.as_string();
        let output = match (src, dst) {
            (Some(src), Some(dst))
                if proto.is_some() || proto_value.is_undefined() || proto_value.is_null() =>
            {
                self.session.query(&src, &dst, proto.as_deref())
            }
            (src, dst) => QueryOutput::failure(
                src.as_deref().unwrap_or(""),
                dst.as_deref().unwrap_or(""),
                proto.as_deref(),
                "a query is `{src: string, dst: string, proto?: string}`".to_owned(),
            ),
        };
        to_js(&output)
    }

    /// Everything `src` can reach, per destination node, with ports and rules.
    #[wasm_bindgen(js_name = reachableFrom, unchecked_return_type = "ReachResult")]
    pub fn reachable_from(&self, src: &str) -> JsValue {
        to_js(&self.session.reachable_from(src))
    }

    /// Everyone who can reach `dst` (`host` or `host:port`).
    #[wasm_bindgen(js_name = reachableTo, unchecked_return_type = "ReachResult")]
    pub fn reachable_to(&self, dst: &str) -> JsValue {
        to_js(&self.session.reachable_to(dst))
    }

    /// The policy's own `tests` and `sshTests`, one result per assertion.
    #[wasm_bindgen(unchecked_return_type = "TestReport")]
    pub fn test(&self) -> JsValue {
        to_js(&self.session.test())
    }
}

fn set(object: &Object, key: &str, value: &JsValue) {
    // Setting a plain data property on a fresh object cannot fail.
    let _ = Reflect::set(object, &JsValue::from_str(key), value);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::Section;

    const DEPOT: &str = include_str!("../../../fixtures/depot/policy.hujson");
    const DEPOT_INVENTORY: &str = include_str!("../../../fixtures/depot/inventory.json");

    fn depot(encoding: PositionEncoding) -> PolicySession {
        let inventory = parse_inventory(DEPOT_INVENTORY, encoding).unwrap();
        PolicySession::parse(
            DEPOT,
            Settings {
                inventory: Some(inventory),
                encoding,
            },
        )
        .unwrap()
    }

    #[test]
    fn columns_count_utf16_units_by_default() {
        // A non-BMP character (two UTF-16 units) before an unquoted key.
        let text = "{/* \u{1F600} */ bad: 1}";
        let utf16 = check_text(text, &Settings::default());
        assert!(!utf16.valid);
        let chars = check_text(
            text,
            &Settings {
                encoding: PositionEncoding::Chars,
                ..Default::default()
            },
        );
        let (a, b) = (&utf16.diagnostics[0], &chars.diagnostics[0]);
        assert_eq!(a.code, b.code);
        assert_eq!((a.line, a.column, b.column), (1, 11, 10), "{a:?} vs {b:?}");
    }

    #[test]
    fn depot_runner_reaches_the_database_through_acls_0() {
        let session = depot(PositionEncoding::Utf16);
        let answer = session.query("tag:depot-runner", "database:5432", Some("tcp"));
        assert!(answer.allowed, "{answer:?}");
        assert_eq!(answer.error, None);
        let first = &answer.matches[0];
        assert_eq!((first.section, first.index), (Section::Acls, 0));
        let lines: Vec<&str> = DEPOT.lines().collect();
        assert!(lines[first.line as usize - 1].trim_start().starts_with('{'));
        assert!(first.end_line > first.line);
    }

    #[test]
    fn unknown_names_are_errors_as_values() {
        let session = depot(PositionEncoding::Utf16);
        let answer = session.query("tag:depot-runner", "nowhere:1", None);
        assert!(!answer.allowed);
        assert!(answer.error.as_deref().unwrap().contains("nowhere"));
        // An unknown tag says so before the destination is looked at.
        let answer = session.query("tag:nobody", "nowhere:1", None);
        assert!(
            answer.error.as_deref().unwrap().contains("tagOwners"),
            "{answer:?}"
        );
        let failed = session.reachable_from("group:nope");
        assert!(matches!(&failed, ReachListing::Failed(error) if error.contains("group:nope")));
        let json = serde_json::to_value(&failed).unwrap();
        assert_eq!(json["ok"], false);
        match session.reachable_from("tag:depot-runner") {
            ReachListing::Listed(reach) => {
                assert!(reach.iter().any(|r| r.name == "database"), "{reach:?}");
                let json = serde_json::to_value(ReachListing::Listed(reach)).unwrap();
                assert_eq!(json["ok"], true);
                assert_eq!(json["reach"][0]["rules"][0]["section"], "acls");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_policy_tests_run_on_the_session() {
        let report = depot(PositionEncoding::Utf16).test();
        assert!(report.passed, "{report:?}");
        assert_eq!(report.total, report.assertions.len());
        assert!(report.total > 3, "{report:?}");
        let first = &report.assertions[0];
        assert!(DEPOT.lines().nth(first.line as usize - 1).is_some());
    }

    #[test]
    fn broken_policies_and_inventories_come_back_as_diagnostics() {
        let errors = PolicySession::parse("{\"acls\": [", Settings::default()).unwrap_err();
        assert!(!errors.is_empty());
        let bad = parse_inventory("{\n  \"nodes\": 1\n}", PositionEncoding::Utf16).unwrap_err();
        assert_eq!(bad.code, INVENTORY);
        assert_eq!(bad.line, 2);
        let json = serde_json::to_value(check_text("{}", &Settings::default())).unwrap();
        assert_eq!(json, serde_json::json!({"valid": true, "diagnostics": []}));
    }
}
