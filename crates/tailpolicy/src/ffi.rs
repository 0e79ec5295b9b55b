//! The JavaScript API of the WebAssembly module (feature `wasm`; the `wasm/` crate exports
//! it, `wasm/README.md` documents it).
//!
//! * `check(policyText, options?)` → `{valid, diagnostics}`, the fields of the CLI's JSON;
//! * `Policy.parse(policyText, options?)` → `{ok: true, policy}` or `{ok: false,
//!   diagnostics}`; the handle answers `query({src, dst, proto})`, `reachableFrom(src)`
//!   and `reachableTo(dst)` until `free()`;
//! * `version()`.
//!
//! Every problem comes back as a value: a broken policy as diagnostics, a bad inventory as
//! an `INVENTORY` diagnostic, a bad option as an `OPTIONS` diagnostic, a query that cannot
//! be answered as `{allowed: false, error}`. Nothing here throws or traps on any input.
//!
//! Positions are 1-based; columns count UTF-16 code units unless `options.encoding` says
//! otherwise. The plain Rust layer ([`check_text`], [`PolicySession`]) holds all the logic
//! and is tested on the host; the `#[wasm_bindgen]` functions only move values across.

use js_sys::{JSON, Object, Reflect};
use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::api::CheckOptions;
use crate::compile::{Origin, Section};
use crate::diagnostic::{Diagnostic, Severity};
use crate::inventory::Inventory;
use crate::model::Policy as PolicyModel;
use crate::query::{Answer, Simulator};
use crate::span::{LineColumn, LineIndex, PositionEncoding, Span};

/// The codes of the inputs' diagnostics (kept here for callers; defined in `codes`).
pub use crate::codes::{INVENTORY, OPTIONS};

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

/** One problem, at the primary span: 1-based, end exclusive (the CLI's JSON fields). */
export interface Diagnostic {
  /** Stable code: `E0xx` syntax ... `TPxxx` lints; `INVENTORY` and `OPTIONS` for the inputs. */
  code: string;
  severity: "error" | "warning" | "info";
  message: string;
  help: string | null;
  line: number;
  column: number;
  end_line: number;
  end_column: number;
}

/** What `check` returns: `valid` is true when no diagnostic is an error. */
export interface CheckResult {
  valid: boolean;
  diagnostics: Diagnostic[];
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

/** A rule of the policy, and where it starts and ends. */
export interface RuleRef {
  section: "acls" | "grants";
  index: number;
  line: number;
  column: number;
  end_line: number;
  end_column: number;
}

/** The answer to a query. */
export interface QueryAnswer {
  allowed: boolean;
  src: string;
  dst: string;
  proto: string;
  /** The rules that allow the traffic, in policy order. */
  matches: RuleRef[];
  /** `allowed by acls[0]`, or why it is denied and which rule came closest. */
  explanation: string;
  /** The node that receives the packet (the destination, or its subnet router). */
  via_node: string | null;
  /** What the tailnet must also have for the answer to hold (without an inventory: a
   * device with the identity, an approved route or exit node, a role ...). */
  conditions: Condition[];
  /** For a source that stands for several identities (a group, an autogroup): each one's
   * answer; `allowed` is true only when all are. */
  members?: MemberAnswer[];
  error?: undefined;
}

/** Something the tailnet must have for an answer to hold. */
export interface Condition {
  kind: 'device' | 'route' | 'exit-node' | 'role' | 'owner' | 'service';
  text: string;
}

/** The answer for one identity a source stands for. */
export interface MemberAnswer {
  member: string;
  allowed: boolean;
  conditions: Condition[];
  explanation: string;
}

/** A query that cannot be answered as written (an unknown name, a bad port ...). */
export interface QueryFailure {
  allowed: false;
  src: string;
  dst: string;
  proto: string;
  matches: [];
  /** The same text as `error`. */
  explanation: string;
  via_node: null;
  conditions: [];
  error: string;
}

export type QueryResult = QueryAnswer | QueryFailure;

/** One line of a reachability listing. */
export interface Reach {
  /** A node name, or an address range for sources that are not nodes. */
  name: string;
  /** For subnet or internet destinations: the range reached. */
  addr: string | null;
  ports: string[];
  protocols: string[];
  rules: RuleRef[];
  /** What the tailnet must also have for this line to hold (empty with a full inventory). */
  conditions: Condition[];
  /** For a source standing for several identities: those this line holds for, if not all. */
  members?: string[];
}

export type ReachResult =
  | { ok: true; reach: Reach[] }
  | { ok: false; error: string };
"#;

/// `check`'s result, as the CLI's JSON has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckOutput {
    pub valid: bool,
    pub diagnostics: Vec<DiagnosticOutput>,
}

/// One diagnostic at its primary span, with the CLI's JSON fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiagnosticOutput {
    pub code: String,
    pub severity: Severity,
    pub message: String,
    pub help: Option<String>,
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
    pub end_column: u32,
}

/// A rule and its place in the text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleRefOutput {
    pub section: Section,
    pub index: usize,
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
    pub end_column: u32,
}

/// A query's answer, or (with `error` set) why it has none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueryOutput {
    pub allowed: bool,
    pub src: String,
    pub dst: String,
    pub proto: String,
    pub matches: Vec<RuleRefOutput>,
    pub explanation: String,
    pub via_node: Option<String>,
    pub conditions: Vec<crate::query::Condition>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<crate::query::MemberAnswer>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One line of a reachability listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReachOutput {
    pub name: String,
    pub addr: Option<String>,
    pub ports: Vec<String>,
    pub protocols: Vec<String>,
    pub rules: Vec<RuleRefOutput>,
    pub conditions: Vec<crate::query::Condition>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<String>,
}

/// A reachability listing, or why there is none: `{ok: true, reach}` or `{ok: false, error}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReachListing {
    Listed(Vec<ReachOutput>),
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
    pub encoding: Encoding,
}

/// [`PositionEncoding`] with the API's default (UTF-16) and names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Encoding {
    #[default]
    Utf16,
    Chars,
    Utf8,
}

impl Encoding {
    /// `"utf16"`, `"chars"` or `"utf8"`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "utf16" => Some(Self::Utf16),
            "chars" => Some(Self::Chars),
            "utf8" => Some(Self::Utf8),
            _ => None,
        }
    }

    fn position_encoding(self) -> PositionEncoding {
        match self {
            Self::Utf16 => PositionEncoding::Utf16,
            Self::Chars => PositionEncoding::Chars,
            Self::Utf8 => PositionEncoding::Utf8,
        }
    }
}

/// Reads inventory JSON; a failure is an `INVENTORY` diagnostic located in `text`.
pub fn parse_inventory(text: &str, encoding: Encoding) -> Result<Inventory, DiagnosticOutput> {
    Inventory::parse(text)
        .map_err(|diagnostic| diagnostic_output(&LineIndex::new(text), encoding, &diagnostic))
}

/// An `OPTIONS` diagnostic at 1:1.
pub fn options_error(message: impl Into<String>) -> DiagnosticOutput {
    let diagnostic = Diagnostic::error(OPTIONS, message, Span::at(0)).with_help(
        "options are `{inventory?: string | object, encoding?: \"utf16\" | \"chars\" | \"utf8\"}`",
    );
    diagnostic_output(&LineIndex::new(""), Encoding::Utf16, &diagnostic)
}

fn diagnostic_output(
    lines: &LineIndex<'_>,
    encoding: Encoding,
    diagnostic: &Diagnostic,
) -> DiagnosticOutput {
    let (start, end) = match diagnostic.labels.first() {
        Some(label) => (
            lines.position(label.span.start, encoding.position_encoding()),
            lines.position(
                label.span.end.max(label.span.start),
                encoding.position_encoding(),
            ),
        ),
        None => {
            let start_of_file = LineColumn { line: 1, column: 1 };
            (start_of_file, start_of_file)
        }
    };
    DiagnosticOutput {
        code: diagnostic.code.to_owned(),
        severity: diagnostic.severity,
        message: diagnostic.message.clone(),
        help: diagnostic.help.clone(),
        line: start.line,
        column: start.column,
        end_line: end.line,
        end_column: end.column,
    }
}

fn diagnostics_output(
    text: &str,
    encoding: Encoding,
    diagnostics: &[Diagnostic],
) -> Vec<DiagnosticOutput> {
    let lines = LineIndex::new(text);
    diagnostics
        .iter()
        .map(|d| diagnostic_output(&lines, encoding, d))
        .collect()
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
pub fn check_text(text: &str, settings: &Settings) -> CheckOutput {
    let options = check_options(settings.inventory.as_ref());
    let report = crate::api::check(text, &options);
    CheckOutput {
        valid: report.is_valid(),
        diagnostics: diagnostics_output(text, settings.encoding, &report.diagnostics),
    }
}

/// The text and typed policy a session borrows from.
struct Source {
    text: String,
    policy: PolicyModel,
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
    encoding: Encoding,
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
    pub fn parse(text: &str, settings: Settings) -> Result<Self, Vec<DiagnosticOutput>> {
        let options = check_options(settings.inventory.as_ref());
        let policy = match crate::api::parse_valid(text, &options) {
            Ok(policy) => policy,
            Err(report) => {
                let errors: Vec<Diagnostic> = report
                    .diagnostics
                    .into_iter()
                    .filter(Diagnostic::is_error)
                    .collect();
                return Err(diagnostics_output(text, settings.encoding, &errors));
            }
        };
        let source = Source {
            text: text.to_owned(),
            policy,
        };
        let inventory = settings.inventory;
        let loaded = Loaded::new(source, |source| Session {
            simulator: Simulator::new(&source.policy, inventory.as_ref()),
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
                Ok(answer) => answer_output(&session.lines, encoding, answer),
                Err(error) => query_failure(src, dst, proto, error.to_string()),
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
                Ok(reach) => ReachListing::Listed(
                    reach
                        .into_iter()
                        .map(|r| ReachOutput {
                            rules: r
                                .rules
                                .iter()
                                .map(|o| rule_ref(&session.lines, encoding, o))
                                .collect(),
                            name: r.name,
                            addr: r.addr,
                            ports: r.ports,
                            protocols: r.protocols,
                            conditions: r.conditions,
                            members: r.members,
                        })
                        .collect(),
                ),
                Err(error) => ReachListing::Failed(error.to_string()),
            }
        })
    }
}

/// A query failure as a value.
pub fn query_failure(src: &str, dst: &str, proto: Option<&str>, error: String) -> QueryOutput {
    QueryOutput {
        allowed: false,
        src: src.to_owned(),
        dst: dst.to_owned(),
        proto: proto.unwrap_or("tcp").to_owned(),
        matches: Vec::new(),
        explanation: error.clone(),
        via_node: None,
        conditions: Vec::new(),
        members: Vec::new(),
        error: Some(error),
    }
}

// Takes the answer by value: its parts move instead of being cloned (module size).
fn answer_output(lines: &LineIndex<'_>, encoding: Encoding, answer: Answer) -> QueryOutput {
    QueryOutput {
        allowed: answer.allowed,
        src: answer.src,
        dst: answer.dst,
        proto: answer.proto,
        matches: answer
            .matches
            .iter()
            .map(|o| rule_ref(lines, encoding, o))
            .collect(),
        explanation: answer.explanation,
        via_node: answer.via_node,
        conditions: answer.conditions,
        members: answer.members,
        error: None,
    }
}

fn rule_ref(lines: &LineIndex<'_>, encoding: Encoding, origin: &Origin) -> RuleRefOutput {
    let start = lines.position(origin.span.start, encoding.position_encoding());
    let end = lines.position(
        origin.span.end.max(origin.span.start),
        encoding.position_encoding(),
    );
    RuleRefOutput {
        section: origin.section,
        index: origin.index,
        line: start.line,
        column: start.column,
        end_line: end.line,
        end_column: end.column,
    }
}

// ---------------------------------------------------------------------------------------
// The JavaScript side: read arguments, call the layer above, hand back plain objects.
// ---------------------------------------------------------------------------------------

/// A plain JavaScript object (through JSON, so `None` becomes `null` as in the CLI's JSON).
fn to_js<T: Serialize>(value: &T) -> JsValue {
    serde_json::to_string(value)
        .ok()
        .and_then(|json| JSON::parse(&json).ok())
        .unwrap_or(JsValue::NULL)
}

/// `object[key]`, or `undefined` when `object` is not an object.
fn get(object: &JsValue, key: &str) -> JsValue {
    if !object.is_object() {
        return JsValue::UNDEFINED;
    }
    Reflect::get(object, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// Reads `{inventory?, encoding?}`; a problem is a diagnostic.
fn read_options(options: &JsValue) -> Result<Settings, DiagnosticOutput> {
    if options.is_undefined() || options.is_null() {
        return Ok(Settings::default());
    }
    if !options.is_object() {
        return Err(options_error(
            "options must be an object `{inventory?, encoding?}`",
        ));
    }
    let encoding = get(options, "encoding");
    let encoding = if encoding.is_undefined() || encoding.is_null() {
        Encoding::default()
    } else {
        match encoding
            .as_string()
            .as_deref()
            .and_then(Encoding::from_name)
        {
            Some(encoding) => encoding,
            None => {
                return Err(options_error(format!(
                    "unknown position encoding `{}`: use `utf16`, `chars` or `utf8`",
                    encoding
                        .as_string()
                        .unwrap_or_else(|| "(not a string)".into())
                )));
            }
        }
    };
    let inventory = get(options, "inventory");
    let inventory = if inventory.is_undefined() || inventory.is_null() {
        None
    } else {
        let text = match inventory.as_string() {
            Some(text) => text,
            None => JSON::stringify(&inventory)
                .ok()
                .and_then(|s| s.as_string())
                .ok_or_else(|| {
                    options_error("the inventory must be JSON text or an object JSON can represent")
                })?,
        };
        Some(parse_inventory(&text, encoding)?)
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
    let output = match read_options(&options) {
        Ok(settings) => check_text(policy_text, &settings),
        Err(diagnostic) => CheckOutput {
            valid: false,
            diagnostics: vec![diagnostic],
        },
    };
    to_js(&output)
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
            (src, dst) => query_failure(
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
}

fn set(object: &Object, key: &str, value: &JsValue) {
    // Setting a plain data property on a fresh object cannot fail.
    let _ = Reflect::set(object, &JsValue::from_str(key), value);
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEPOT: &str = include_str!("../../../fixtures/depot/policy.hujson");
    const DEPOT_INVENTORY: &str = include_str!("../../../fixtures/depot/inventory.json");

    fn depot(encoding: Encoding) -> PolicySession {
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
                encoding: Encoding::Chars,
                ..Default::default()
            },
        );
        let (a, b) = (&utf16.diagnostics[0], &chars.diagnostics[0]);
        assert_eq!(a.code, b.code);
        assert_eq!((a.line, a.column, b.column), (1, 11, 10), "{a:?} vs {b:?}");
    }

    #[test]
    fn depot_runner_reaches_the_database_through_acls_0() {
        let session = depot(Encoding::Utf16);
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
        let session = depot(Encoding::Utf16);
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
    fn broken_policies_and_inventories_come_back_as_diagnostics() {
        let errors = PolicySession::parse("{\"acls\": [", Settings::default()).unwrap_err();
        assert!(!errors.is_empty());
        let bad = parse_inventory("{\n  \"nodes\": 1\n}", Encoding::Utf16).unwrap_err();
        assert_eq!(bad.code, INVENTORY);
        assert_eq!(bad.line, 2);
        let json = serde_json::to_value(check_text("{}", &Settings::default())).unwrap();
        assert_eq!(json, serde_json::json!({"valid": true, "diagnostics": []}));
    }
}
