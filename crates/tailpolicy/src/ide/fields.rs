//! The shape of a policy file, field by field, with a description of each: what completion
//! offers, what hover on a key shows, and what `schema/tailpolicy.schema.json` is generated
//! from (`tests/schema.rs` keeps the two equal, and the field lists equal the model's).

/// The type of a field's value. Every field also accepts `null` (Tailscale reads it as
/// absent).
#[derive(Debug, Clone, Copy)]
pub enum Ty {
    String,
    /// One of these strings.
    Enum(&'static [&'static str]),
    Bool,
    /// An array of strings; `what` says what kind of strings (for completion).
    Strings(Values),
    /// An object with exactly these fields (names matched case-insensitively).
    Object(&'static [Field]),
    /// An array of objects with these fields.
    ObjectList(&'static [Field]),
    /// An object with names chosen by the author (`key`: what they are) and values of `value`.
    Map {
        key: Keys,
        value: &'static Ty,
    },
    /// Free-form JSON (capabilities, `derpMap`).
    Any,
}

/// What the names of a [`Ty::Map`] are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keys {
    Group,
    Tag,
    Host,
    Ipset,
    Posture,
    /// Routes (CIDRs) of `autoApprovers.routes`.
    Route,
    /// `svc:` names or tags of `autoApprovers.services`.
    Service,
    /// Capability names (`example.com/cap/name`).
    Capability,
    /// Custom attribute names of `attrConfig`.
    Attribute,
}

/// What the strings of a [`Ty::Strings`] are, for completion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Values {
    /// Sources: users, groups, tags, hosts, IPs, autogroups, `*`.
    Sources,
    /// ACL destinations: the same with `:port`.
    AclDestinations,
    /// Grant destinations: selectors without ports, `svc:` names.
    GrantDestinations,
    /// SSH destinations: tags, hosts, `autogroup:self`, users.
    SshDestinations,
    /// Owners: users, groups, tags, role autogroups.
    Owners,
    /// Tags only (`via`, `recorder`).
    Tags,
    /// Posture names (`srcPosture`, `defaultSrcPosture`).
    Postures,
    /// `host:port` of a test (`accept`, `deny`).
    TestDestinations,
    /// Local user names of SSH.
    SshUsers,
    /// Anything else (addresses, ports, attributes, expressions).
    Other,
}

/// One field of an object.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    pub ty: Ty,
    pub doc: &'static str,
}

const fn f(name: &'static str, ty: Ty, doc: &'static str) -> Field {
    Field { name, ty, doc }
}

const STRINGS: Ty = Ty::Strings(Values::Other);
const OWNERS: Ty = Ty::Strings(Values::Owners);
const POSTURE_RULES: Ty = Ty::Strings(Values::Other);
const HOST_ADDRESS: Ty = Ty::String;

pub static ACL: &[Field] = &[
    f(
        "action",
        Ty::Enum(&["accept"]),
        "what the rule does; ACLs only allow, so `accept` is the only action",
    ),
    f(
        "src",
        Ty::Strings(Values::Sources),
        "who the rule applies to: users, groups, tags, hosts, IP addresses or ranges, autogroups, or `*`",
    ),
    f(
        "dst",
        Ty::Strings(Values::AclDestinations),
        "where they may connect, each as `target:ports` (`tag:web:443`, `database:5432`, `*:*`)",
    ),
    f(
        "proto",
        Ty::String,
        "the IP protocol (`tcp`, `udp`, `icmp`, a number, ...); all of TCP, UDP and ICMP when absent",
    ),
    f(
        "srcPosture",
        Ty::Strings(Values::Postures),
        "device posture conditions (`posture:name`) the source devices must also meet",
    ),
    f(
        "users",
        Ty::Strings(Values::Sources),
        "legacy name of `src`",
    ),
    f(
        "ports",
        Ty::Strings(Values::AclDestinations),
        "legacy name of `dst`",
    ),
];

pub static GRANT: &[Field] = &[
    f(
        "src",
        Ty::Strings(Values::Sources),
        "who the grant applies to: users, groups, tags, hosts, IP addresses, autogroups, or `*`",
    ),
    f(
        "dst",
        Ty::Strings(Values::GrantDestinations),
        "what they get access to: selectors without ports, or `svc:` services",
    ),
    f(
        "ip",
        STRINGS,
        "network access: ports and protocols such as `tcp:443`, `53`, `icmp:*` or `*`",
    ),
    f(
        "app",
        Ty::Map {
            key: Keys::Capability,
            value: &Ty::Any,
        },
        "application capabilities: capability name to a list of JSON objects the application reads",
    ),
    f(
        "via",
        Ty::Strings(Values::Tags),
        "route the access only through subnet routers or exit nodes with these tags",
    ),
    f(
        "srcPosture",
        Ty::Strings(Values::Postures),
        "device posture conditions (`posture:name`) the source devices must also meet",
    ),
];

pub static SSH: &[Field] = &[
    f(
        "action",
        Ty::Enum(&["accept", "check"]),
        "`accept` lets the connection in; `check` asks the user to re-authenticate first",
    ),
    f(
        "src",
        Ty::Strings(Values::Sources),
        "who may connect: users, groups, tags, `autogroup:member` and other autogroups",
    ),
    f(
        "dst",
        Ty::Strings(Values::SshDestinations),
        "which devices: tags, hosts, `autogroup:self`, or users (their own devices)",
    ),
    f(
        "users",
        Ty::Strings(Values::SshUsers),
        "the local users they may log in as (`root`, `autogroup:nonroot`, `localpart:*@example.com`)",
    ),
    f(
        "checkPeriod",
        Ty::String,
        "for `check`: how long a re-authentication lasts (`12h`, `always`); 12 hours by default",
    ),
    f(
        "acceptEnv",
        STRINGS,
        "environment variable names (with `*` and `?` wildcards) the client may send",
    ),
    f(
        "srcPosture",
        Ty::Strings(Values::Postures),
        "device posture conditions (`posture:name`) the source devices must also meet",
    ),
    f(
        "recorder",
        Ty::Strings(Values::Tags),
        "tags of the session recorder nodes that record these sessions",
    ),
    f(
        "enforceRecorder",
        Ty::Bool,
        "refuse the session when no recorder can be reached",
    ),
];

pub static AUTO_APPROVERS: &[Field] = &[
    f(
        "routes",
        Ty::Map {
            key: Keys::Route,
            value: &OWNERS,
        },
        "subnet routes (CIDRs) and who may advertise them without approval",
    ),
    f(
        "exitNode",
        OWNERS,
        "who may advertise an exit node without approval",
    ),
    f(
        "services",
        Ty::Map {
            key: Keys::Service,
            value: &OWNERS,
        },
        "services (`svc:name`, or tags) and who may host them without approval",
    ),
];

pub static NODE_ATTR: &[Field] = &[
    f(
        "target",
        Ty::Strings(Values::Sources),
        "the devices the attributes apply to: users, groups, tags, IPs, autogroups or `*`",
    ),
    f(
        "attr",
        STRINGS,
        "node attributes (`funnel`, `mullvad`, `drive:share`, ...)",
    ),
    f(
        "app",
        Ty::Map {
            key: Keys::Capability,
            value: &Ty::Any,
        },
        "application capabilities given to the devices (`tailscale.com/app-connectors`, ...)",
    ),
    f(
        "ipPool",
        STRINGS,
        "CIDRs the devices take their Tailscale addresses from",
    ),
];

pub static TEST: &[Field] = &[
    f(
        "src",
        Ty::String,
        "the source of the test: a user, tag, group, host or IP address",
    ),
    f("user", Ty::String, "legacy name of `src`"),
    f(
        "proto",
        Ty::String,
        "the protocol the destinations are tested with (`tcp` when absent)",
    ),
    f(
        "accept",
        Ty::Strings(Values::TestDestinations),
        "`host:port` destinations the source must be able to reach",
    ),
    f(
        "allow",
        Ty::Strings(Values::TestDestinations),
        "legacy name of `accept`",
    ),
    f(
        "deny",
        Ty::Strings(Values::TestDestinations),
        "`host:port` destinations the source must not be able to reach",
    ),
    f(
        "srcPostureAttrs",
        Ty::Any,
        "posture attributes the source device is assumed to have",
    ),
];

pub static SSH_TEST: &[Field] = &[
    f("src", Ty::String, "the user or tag connecting"),
    f(
        "dst",
        Ty::Strings(Values::SshDestinations),
        "the devices (hosts, tags) tested",
    ),
    f(
        "accept",
        Ty::Strings(Values::SshUsers),
        "local users the source must be able to log in as without a check",
    ),
    f(
        "check",
        Ty::Strings(Values::SshUsers),
        "local users the source must be able to log in as after a check",
    ),
    f(
        "deny",
        Ty::Strings(Values::SshUsers),
        "local users the source must not be able to log in as",
    ),
    f(
        "srcPostureAttrs",
        Ty::Any,
        "posture attributes the source device is assumed to have",
    ),
];

pub static ATTR_CONFIG: &[Field] = &[
    f(
        "type",
        Ty::String,
        "the attribute's value type (`string`, `number`, `bool`)",
    ),
    f(
        "allowSetByNode",
        Ty::Bool,
        "whether a node may set the attribute on itself",
    ),
    f(
        "broadcastToPeers",
        STRINGS,
        "who sees the attribute on peers",
    ),
];

/// The top-level sections.
pub static POLICY: &[Field] = &[
    f(
        "acls",
        Ty::ObjectList(ACL),
        "access rules (the legacy syntax): who may connect to which ports",
    ),
    f(
        "grants",
        Ty::ObjectList(GRANT),
        "access rules: network and application capabilities from sources to destinations",
    ),
    f(
        "ssh",
        Ty::ObjectList(SSH),
        "Tailscale SSH rules: who may log in to which devices as which users",
    ),
    f(
        "groups",
        Ty::Map {
            key: Keys::Group,
            value: &Ty::Strings(Values::Owners),
        },
        "named sets of users (`group:eng`), usable wherever a user is",
    ),
    f(
        "hosts",
        Ty::Map {
            key: Keys::Host,
            value: &HOST_ADDRESS,
        },
        "names for IP addresses or CIDRs, usable in rules and tests",
    ),
    f(
        "tagOwners",
        Ty::Map {
            key: Keys::Tag,
            value: &OWNERS,
        },
        "the tags that exist and who may apply each to a device",
    ),
    f(
        "ipsets",
        Ty::Map {
            key: Keys::Ipset,
            value: &STRINGS,
        },
        "named sets of addresses (`ipset:name`) built from CIDRs, ranges, hosts and other ipsets",
    ),
    f(
        "postures",
        Ty::Map {
            key: Keys::Posture,
            value: &POSTURE_RULES,
        },
        "named device posture conditions (`posture:name`), each a list of attribute expressions",
    ),
    f(
        "defaultSrcPosture",
        Ty::Strings(Values::Postures),
        "posture conditions applied to every rule without its own `srcPosture`",
    ),
    f(
        "autoApprovers",
        Ty::Object(AUTO_APPROVERS),
        "who may advertise routes, exit nodes and services without an admin approving them",
    ),
    f(
        "nodeAttrs",
        Ty::ObjectList(NODE_ATTR),
        "attributes and capabilities given to devices",
    ),
    f(
        "tests",
        Ty::ObjectList(TEST),
        "access tests: the policy is rejected when one fails",
    ),
    f(
        "sshTests",
        Ty::ObjectList(SSH_TEST),
        "Tailscale SSH tests: the policy is rejected when one fails",
    ),
    f("derpMap", Ty::Any, "custom DERP relay regions"),
    f(
        "disableIPv4",
        Ty::Bool,
        "stop assigning Tailscale IPv4 addresses",
    ),
    f(
        "randomizeClientPort",
        Ty::Bool,
        "make clients use a random UDP port instead of 41641",
    ),
    f(
        "OneCGNATRoute",
        Ty::Enum(&["", "mac-always", "mac-never"]),
        "how macOS clients route the CGNAT range: `mac-always`, `mac-never`, or the default",
    ),
    f(
        "nodeVisibility",
        Ty::Any,
        "which devices see each other beyond what the access rules need",
    ),
    f(
        "attrConfig",
        Ty::Map {
            key: Keys::Attribute,
            value: &Ty::Object(ATTR_CONFIG),
        },
        "custom device attributes and who may set them",
    ),
];

/// The field named `name` (ASCII case-insensitively) of `fields`.
pub fn find(fields: &'static [Field], name: &str) -> Option<&'static Field> {
    fields.iter().find(|f| f.name.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::lower;

    #[test]
    fn the_fields_are_the_models_fields() {
        let names = |fields: &[Field]| fields.iter().map(|f| f.name).collect::<Vec<_>>();
        assert_eq!(names(POLICY), lower::POLICY_FIELDS);
        assert_eq!(names(ACL), lower::ACL_FIELDS);
        assert_eq!(names(GRANT), lower::GRANT_FIELDS);
        assert_eq!(names(SSH), lower::SSH_FIELDS);
        assert_eq!(names(AUTO_APPROVERS), lower::AUTO_APPROVER_FIELDS);
        assert_eq!(names(NODE_ATTR), lower::NODE_ATTR_FIELDS);
        assert_eq!(names(ATTR_CONFIG), lower::ATTR_CONFIG_FIELDS);
        assert_eq!(names(TEST), lower::TEST_FIELDS);
        assert_eq!(names(SSH_TEST), lower::SSH_TEST_FIELDS);
    }
}
