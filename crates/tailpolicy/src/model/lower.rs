//! Lowering of the HuJSON tree into the typed [`Policy`]: known keys (matched
//! case-insensitively, as Tailscale does), JSON types, and nothing more.

use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::span::Spanned;
use crate::syntax::{Member, Value, ValueKind};

use super::{
    APP_CONNECTORS, AclRule, AclTest, AppConnector, AttrConfig, AutoApprovers, CapMap, Grant,
    HostEntry, List, NamedList, NodeAttr, Policy, Settings, SshRule, SshTest, Str,
};

/// Lowers a parsed document into a policy, reporting structural problems.
pub fn lower(root: &Value) -> (Policy, Vec<Diagnostic>) {
    let mut cx = Lowerer {
        diagnostics: Vec::new(),
    };
    let policy = cx.policy(root);
    (policy, cx.diagnostics)
}

struct Lowerer {
    diagnostics: Vec<Diagnostic>,
}

/// The members of one object, each matched to a known field.
struct Fields<'v> {
    /// The object's members; unknown ones were reported and are never asked for.
    members: &'v [Member],
}

impl<'v> Fields<'v> {
    /// The value of `name`, treating `null` as absent.
    fn get(&self, name: &str) -> Option<&'v Value> {
        self.member(name).map(|m| &m.value).filter(|v| !v.is_null())
    }

    /// The last member whose key is `name`, ignoring ASCII case (no allocation: objects are
    /// small, and large policies have many of them).
    fn member(&self, name: &str) -> Option<&'v Member> {
        self.members
            .iter()
            .rev()
            .find(|m| m.key.eq_ignore_ascii_case(name))
    }
}

pub(crate) const POLICY_FIELDS: &[&str] = &[
    "acls",
    "grants",
    "ssh",
    "groups",
    "hosts",
    "tagOwners",
    "ipsets",
    "postures",
    "defaultSrcPosture",
    "autoApprovers",
    "nodeAttrs",
    "tests",
    "sshTests",
    "derpMap",
    "disableIPv4",
    "randomizeClientPort",
    "OneCGNATRoute",
    "nodeVisibility",
    "attrConfig",
];
pub(crate) const ACL_FIELDS: &[&str] = &[
    "action",
    "src",
    "dst",
    "proto",
    "srcPosture",
    "users",
    "ports",
];
pub(crate) const GRANT_FIELDS: &[&str] = &["src", "dst", "ip", "app", "via", "srcPosture"];
pub(crate) const SSH_FIELDS: &[&str] = &[
    "action",
    "src",
    "dst",
    "users",
    "checkPeriod",
    "acceptEnv",
    "srcPosture",
    "recorder",
    "enforceRecorder",
];
pub(crate) const AUTO_APPROVER_FIELDS: &[&str] = &["routes", "exitNode", "services"];
pub(crate) const NODE_ATTR_FIELDS: &[&str] = &["target", "attr", "app", "ipPool"];
pub(crate) const ATTR_CONFIG_FIELDS: &[&str] = &["type", "allowSetByNode", "broadcastToPeers"];
pub(crate) const TEST_FIELDS: &[&str] = &[
    "src",
    "user",
    "proto",
    "accept",
    "allow",
    "deny",
    "srcPostureAttrs",
];
pub(crate) const SSH_TEST_FIELDS: &[&str] =
    &["src", "dst", "accept", "check", "deny", "srcPostureAttrs"];

impl Lowerer {
    fn policy(&mut self, root: &Value) -> Policy {
        let mut policy = Policy {
            span: root.span,
            ..Policy::default()
        };
        let Some(fields) = self.fields(root, "policy", POLICY_FIELDS) else {
            return policy;
        };
        policy.acls = fields
            .get("acls")
            .and_then(|v| self.list(v, "acls", |cx, item| Some(cx.acl(item))));
        policy.grants = fields
            .get("grants")
            .and_then(|v| self.list(v, "grants", |cx, item| Some(cx.grant(item))));
        policy.ssh = self.vec(fields.get("ssh"), "ssh", Self::ssh);
        policy.groups = self.named_lists(fields.get("groups"), "groups");
        policy.hosts = self.hosts(fields.get("hosts"));
        policy.tag_owners = self.named_lists(fields.get("tagOwners"), "tagOwners");
        policy.ipsets = self.named_lists(fields.get("ipsets"), "ipsets");
        policy.postures = self.named_lists(fields.get("postures"), "postures");
        policy.default_src_posture =
            self.strings(fields.get("defaultSrcPosture"), "defaultSrcPosture");
        if let Some(value) = fields.get("autoApprovers") {
            policy.auto_approvers = self.auto_approvers(value);
        }
        policy.node_attrs = self.vec(fields.get("nodeAttrs"), "nodeAttrs", Self::node_attr);
        policy.tests = self.vec(fields.get("tests"), "tests", Self::acl_test);
        policy.ssh_tests = self.vec(fields.get("sshTests"), "sshTests", Self::ssh_test);
        policy.attr_config = self.attr_config(fields.get("attrConfig"));
        policy.settings = Settings {
            randomize_client_port: self
                .boolean(fields.get("randomizeClientPort"), "randomizeClientPort"),
            disable_ipv4: self.boolean(fields.get("disableIPv4"), "disableIPv4"),
            one_cgnat_route: self.one_cgnat_route(fields.get("OneCGNATRoute")),
            derp_map: self.object_value(fields.get("derpMap"), "derpMap"),
            node_visibility: fields.get("nodeVisibility").cloned(),
        };
        policy
    }

    fn acl(&mut self, value: &Value) -> AclRule {
        let mut rule = AclRule {
            span: value.span,
            ..AclRule::default()
        };
        let Some(fields) = self.fields(value, "acls entry", ACL_FIELDS) else {
            return rule;
        };
        rule.action = self.string(fields.get("action"), "action");
        rule.src = self.string_list_or_default(fields.get("src").or(fields.get("users")), "src");
        rule.dst = self.string_list_or_default(fields.get("dst").or(fields.get("ports")), "dst");
        rule.proto = self.string(fields.get("proto"), "proto");
        rule.src_posture = self.strings(fields.get("srcPosture"), "srcPosture");
        for key in ["users", "ports"] {
            if let Some(member) = fields.member(key) {
                rule.legacy_keys.push(member.key_span);
            }
        }
        rule
    }

    fn grant(&mut self, value: &Value) -> Grant {
        let mut grant = Grant {
            span: value.span,
            ..Grant::default()
        };
        let Some(fields) = self.fields(value, "grants entry", GRANT_FIELDS) else {
            return grant;
        };
        grant.src = self.string_list_or_default(fields.get("src"), "src");
        grant.dst = self.string_list_or_default(fields.get("dst"), "dst");
        grant.ip = fields.get("ip").and_then(|v| self.string_list(v, "ip"));
        grant.app = fields.get("app").and_then(|v| self.cap_map(v, "app"));
        grant.via = self.strings(fields.get("via"), "via");
        grant.src_posture = self.strings(fields.get("srcPosture"), "srcPosture");
        grant
    }

    fn ssh(&mut self, value: &Value) -> Option<SshRule> {
        let mut rule = SshRule {
            span: value.span,
            ..SshRule::default()
        };
        let fields = self.fields(value, "ssh entry", SSH_FIELDS)?;
        rule.action = self.string(fields.get("action"), "action");
        rule.src = self.string_list_or_default(fields.get("src"), "src");
        rule.dst = self.string_list_or_default(fields.get("dst"), "dst");
        rule.users = fields
            .get("users")
            .and_then(|v| self.string_list(v, "users"));
        rule.check_period = self.string(fields.get("checkPeriod"), "checkPeriod");
        rule.accept_env = self.strings(fields.get("acceptEnv"), "acceptEnv");
        rule.src_posture = self.strings(fields.get("srcPosture"), "srcPosture");
        rule.recorder = self.strings(fields.get("recorder"), "recorder");
        rule.enforce_recorder = self.boolean(fields.get("enforceRecorder"), "enforceRecorder");
        Some(rule)
    }

    fn attr_config(&mut self, value: Option<&Value>) -> Vec<AttrConfig> {
        let Some(value) = value else {
            return Vec::new();
        };
        let Some(members) = value.as_object() else {
            self.wrong_type(value, "`attrConfig`", "an object");
            return Vec::new();
        };
        let mut out = Vec::with_capacity(members.len());
        for member in members {
            let mut entry = AttrConfig {
                name: Spanned::new(member.key.clone(), member.key_span),
                ..AttrConfig::default()
            };
            if !member.value.is_null() {
                let what = format!("attrConfig[\"{}\"]", member.key);
                if let Some(fields) = self.fields(&member.value, &what, ATTR_CONFIG_FIELDS) {
                    entry.kind = self.string(fields.get("type"), "type");
                    entry.allow_set_by_node =
                        self.boolean(fields.get("allowSetByNode"), "allowSetByNode");
                    entry.broadcast_to_peers =
                        self.strings(fields.get("broadcastToPeers"), "broadcastToPeers");
                }
            }
            out.push(entry);
        }
        out
    }

    /// The entries of the app-connector attribute; other fields of an entry are left to
    /// the capability's consumer.
    fn app_connectors(&mut self, app: &CapMap) -> Vec<AppConnector> {
        let mut out = Vec::new();
        let mut values = Vec::new();
        for (name, value) in &app.entries {
            if name.value.trim_ascii() == APP_CONNECTORS
                && let Some(array) = value.as_array()
            {
                values.extend(array);
            }
        }
        for value in values {
            let Some(members) = value.as_object() else {
                continue;
            };
            let fields = Fields { members };
            out.push(AppConnector {
                span: value.span,
                name: self.string(fields.get("name"), "name"),
                connectors: self.strings(fields.get("connectors"), "connectors"),
                domains: self.strings(fields.get("domains"), "domains"),
                routes: self.strings(fields.get("routes"), "routes"),
                preset_app_id: self.string(fields.get("presetAppID"), "presetAppID"),
            });
        }
        out
    }

    fn auto_approvers(&mut self, value: &Value) -> AutoApprovers {
        let mut approvers = AutoApprovers {
            span: Some(value.span),
            ..AutoApprovers::default()
        };
        if let Some(fields) = self.fields(value, "autoApprovers", AUTO_APPROVER_FIELDS) {
            approvers.routes = self.named_lists(fields.get("routes"), "autoApprovers.routes");
            approvers.exit_node = self.strings(fields.get("exitNode"), "exitNode");
            approvers.services = self.named_lists(fields.get("services"), "autoApprovers.services");
        }
        approvers
    }

    fn node_attr(&mut self, value: &Value) -> Option<NodeAttr> {
        let mut attr = NodeAttr {
            span: value.span,
            ..NodeAttr::default()
        };
        let fields = self.fields(value, "nodeAttrs entry", NODE_ATTR_FIELDS)?;
        attr.target = self.string_list_or_default(fields.get("target"), "target");
        attr.attr = self.strings(fields.get("attr"), "attr");
        attr.app = fields.get("app").and_then(|v| self.cap_map(v, "app"));
        attr.ip_pool = self.strings(fields.get("ipPool"), "ipPool");
        if let Some(app) = &attr.app {
            attr.app_connectors = self.app_connectors(app);
        }
        Some(attr)
    }

    fn acl_test(&mut self, value: &Value) -> Option<AclTest> {
        let mut test = AclTest {
            span: value.span,
            ..AclTest::default()
        };
        let fields = self.fields(value, "tests entry", TEST_FIELDS)?;
        test.src = self.string(fields.get("src").or(fields.get("user")), "src");
        test.proto = self.string(fields.get("proto"), "proto");
        test.accept = self.strings(fields.get("accept").or(fields.get("allow")), "accept");
        test.deny = self.strings(fields.get("deny"), "deny");
        test.src_posture_attrs =
            self.object_value(fields.get("srcPostureAttrs"), "srcPostureAttrs");
        Some(test)
    }

    fn ssh_test(&mut self, value: &Value) -> Option<SshTest> {
        let mut test = SshTest {
            span: value.span,
            ..SshTest::default()
        };
        let fields = self.fields(value, "sshTests entry", SSH_TEST_FIELDS)?;
        test.src = self.string(fields.get("src"), "src");
        test.dst = self.strings(fields.get("dst"), "dst");
        test.accept = self.strings(fields.get("accept"), "accept");
        test.check = self.strings(fields.get("check"), "check");
        test.deny = self.strings(fields.get("deny"), "deny");
        test.src_posture_attrs =
            self.object_value(fields.get("srcPostureAttrs"), "srcPostureAttrs");
        Some(test)
    }

    // ---- generic readers -------------------------------------------------------------

    /// Matches the members of an object against `known` (ASCII case-insensitively).
    fn fields<'v>(
        &mut self,
        value: &'v Value,
        what: &str,
        known: &[&'static str],
    ) -> Option<Fields<'v>> {
        let Some(members) = value.as_object() else {
            self.wrong_type(value, what, "an object");
            return None;
        };
        for (position, member) in members.iter().enumerate() {
            let Some(name) = known.iter().find(|k| k.eq_ignore_ascii_case(&member.key)) else {
                self.diagnostics.push(
                    Diagnostic::error(
                        codes::UNKNOWN_FIELD,
                        format!("json: unknown field \"{}\"", member.key),
                        member.key_span,
                    )
                    .with_help(format!("known fields of {what}: {}", known.join(", "))),
                );
                continue;
            };
            let earlier = members
                .get(..position)
                .unwrap_or_default()
                .iter()
                .find(|m| m.key.eq_ignore_ascii_case(name));
            // Exact duplicates are already reported by the parser.
            if let Some(earlier) = earlier
                && earlier.key != member.key
            {
                self.diagnostics.push(
                    Diagnostic::error(
                        codes::DUPLICATE_FIELD,
                        format!(
                            "field \"{}\" is given twice (as \"{}\" and \"{}\"); keys match case-insensitively",
                            name, earlier.key, member.key
                        ),
                        member.key_span,
                    )
                    .with_secondary(earlier.key_span, "first given here"),
                );
            }
        }
        Some(Fields { members })
    }

    fn wrong_type(&mut self, value: &Value, what: &str, expected: &str) {
        self.diagnostics.push(Diagnostic::error(
            codes::WRONG_TYPE,
            format!(
                "{what} must be {expected}, not {}",
                article(value.type_name())
            ),
            value.span,
        ));
    }

    fn string(&mut self, value: Option<&Value>, what: &str) -> Option<Str> {
        let value = value?;
        match &value.kind {
            ValueKind::String(s) => Some(Spanned::new(s.clone(), value.span)),
            _ => {
                self.wrong_type(value, &format!("`{what}`"), "a string");
                None
            }
        }
    }

    fn boolean(&mut self, value: Option<&Value>, what: &str) -> Option<Spanned<bool>> {
        let value = value?;
        match value.kind {
            ValueKind::Bool(b) => Some(Spanned::new(b, value.span)),
            _ => {
                self.wrong_type(value, &format!("`{what}`"), "a boolean");
                None
            }
        }
    }

    fn object_value(&mut self, value: Option<&Value>, what: &str) -> Option<Value> {
        let value = value?;
        if value.as_object().is_none() {
            self.wrong_type(value, &format!("`{what}`"), "an object");
            return None;
        }
        Some(value.clone())
    }

    fn one_cgnat_route(&mut self, value: Option<&Value>) -> Option<Str> {
        let setting = self.string(value, "OneCGNATRoute")?;
        if !matches!(setting.value.as_str(), "" | "mac-always" | "mac-never") {
            self.diagnostics.push(
                Diagnostic::error(
                    codes::INVALID_SETTING,
                    format!("invalid OneCGNATRoute value \"{}\"", setting.value),
                    setting.span,
                )
                .with_help("use \"\", \"mac-always\" or \"mac-never\""),
            );
        }
        Some(setting)
    }

    /// An array of strings; wrong-typed items are reported and skipped.
    fn string_list(&mut self, value: &Value, what: &str) -> Option<List<Str>> {
        let Some(items) = value.as_array() else {
            self.wrong_type(value, &format!("`{what}`"), "an array of strings");
            return None;
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            match &item.kind {
                ValueKind::String(s) => out.push(Spanned::new(s.clone(), item.span)),
                _ => self.wrong_type(item, &format!("each `{what}` entry"), "a string"),
            }
        }
        Some(List {
            span: value.span,
            items: out,
        })
    }

    fn string_list_or_default(&mut self, value: Option<&Value>, what: &str) -> List<Str> {
        value
            .and_then(|v| self.string_list(v, what))
            .unwrap_or_default()
    }

    fn strings(&mut self, value: Option<&Value>, what: &str) -> Vec<Str> {
        self.string_list_or_default(value, what).items
    }

    /// The items of an array, or `None` (reported) when `value` is not one: the
    /// non-generic half of [`Self::list`].
    fn array<'v>(&mut self, value: &'v Value, what: &str) -> Option<&'v [Value]> {
        let items = value.as_array();
        if items.is_none() {
            self.wrong_type(value, &format!("`{what}`"), "an array");
        }
        items
    }

    /// Each item read by `item` (a plain loop into a `Vec` of the exact size: no adapter
    /// code per item type in the WASM module, no regrowing on large policies).
    fn list<T>(
        &mut self,
        value: &Value,
        what: &str,
        item: fn(&mut Self, &Value) -> Option<T>,
    ) -> Option<List<T>> {
        let values = self.array(value, what)?;
        let mut items = Vec::with_capacity(values.len());
        for v in values {
            if let Some(x) = item(self, v) {
                items.push(x);
            }
        }
        Some(List {
            span: value.span,
            items,
        })
    }

    fn vec<T>(
        &mut self,
        value: Option<&Value>,
        what: &str,
        item: fn(&mut Self, &Value) -> Option<T>,
    ) -> Vec<T> {
        value
            .and_then(|v| self.list(v, what, item))
            .map(|l| l.items)
            .unwrap_or_default()
    }

    /// A map of name → array of strings (`groups`, `tagOwners`, ...).
    fn named_lists(&mut self, value: Option<&Value>, what: &str) -> Vec<NamedList> {
        let Some(value) = value else {
            return Vec::new();
        };
        let Some(members) = value.as_object() else {
            self.wrong_type(value, &format!("`{what}`"), "an object");
            return Vec::new();
        };
        let mut out = Vec::with_capacity(members.len());
        for member in members {
            let name = Spanned::new(member.key.clone(), member.key_span);
            let values = if member.value.is_null() {
                List {
                    span: member.value.span,
                    items: Vec::new(),
                }
            } else {
                match self.string_list(&member.value, &member.key) {
                    Some(list) => list,
                    None => continue,
                }
            };
            out.push(NamedList { name, values });
        }
        out
    }

    fn hosts(&mut self, value: Option<&Value>) -> Vec<HostEntry> {
        let Some(value) = value else {
            return Vec::new();
        };
        let Some(members) = value.as_object() else {
            self.wrong_type(value, "`hosts`", "an object");
            return Vec::new();
        };
        let mut out = Vec::with_capacity(members.len());
        for member in members {
            let name = Spanned::new(member.key.clone(), member.key_span);
            if let Some(text) =
                self.string(Some(&member.value), &format!("hosts[\"{}\"]", member.key))
            {
                out.push(HostEntry { name, value: text });
            }
        }
        out
    }

    fn cap_map(&mut self, value: &Value, what: &str) -> Option<CapMap> {
        let Some(members) = value.as_object() else {
            self.wrong_type(value, &format!("`{what}`"), "an object");
            return None;
        };
        let mut entries = Vec::with_capacity(members.len());
        for member in members {
            let name = Spanned::new(member.key.clone(), member.key_span);
            match &member.value.kind {
                ValueKind::Array(items) => {
                    for item in items.iter().filter(|i| i.as_object().is_none()) {
                        self.wrong_type(item, "each capability value", "an object");
                    }
                    entries.push((name, member.value.clone()));
                }
                ValueKind::Null => entries.push((
                    name,
                    Value {
                        kind: ValueKind::Array(Vec::new()),
                        span: member.value.span,
                    },
                )),
                _ => self.wrong_type(
                    &member.value,
                    &format!("`{what}[\"{}\"]`", member.key),
                    "an array of objects",
                ),
            }
        }
        Some(CapMap {
            span: value.span,
            entries,
        })
    }
}

fn article(type_name: &str) -> String {
    match type_name {
        "null" => "null".to_owned(),
        "array" | "object" => format!("an {type_name}"),
        _ => format!("a {type_name}"),
    }
}
