//! The registry of stable diagnostic codes. A code is never reused or renumbered.
//!
//! * `E0xx` HuJSON syntax
//! * `E1xx` policy structure (keys, types)
//! * `E2xx` selectors, names and references
//! * `E3xx` rule semantics (ports, protocols, grants, ssh, nodeAttrs, ...)
//! * `E4xx` `tests` and `sshTests`
//! * `E5xx` configuration (`tailpolicy.toml`)
//! * `TPxxx` lints (see `lint::registry`)
//! * named codes for inputs other than the policy: `INVENTORY`, `OPTIONS`, `IO`

/// A HuJSON syntax error.
pub const SYNTAX: &str = "E001";
/// The same key appears twice in one object.
pub const DUPLICATE_KEY: &str = "E002";
/// The document is empty or holds only comments.
pub const EMPTY_DOCUMENT: &str = "E003";
/// Nesting deeper than the parser allows.
pub const NESTING_TOO_DEEP: &str = "E004";

/// A key this version does not know, at any level.
pub const UNKNOWN_FIELD: &str = "E101";
/// A value of the wrong JSON type.
pub const WRONG_TYPE: &str = "E102";
/// The same field given twice under different spellings (keys match case-insensitively).
pub const DUPLICATE_FIELD: &str = "E103";
/// A setting with a value outside its allowed set.
pub const INVALID_SETTING: &str = "E104";

/// A tag that is not a key of `tagOwners`.
pub const UNDEFINED_TAG: &str = "E201";
/// A `group:` that is not defined in `groups`.
pub const UNDEFINED_GROUP: &str = "E202";
/// A host alias that is not defined in `hosts`.
pub const UNDEFINED_HOST: &str = "E203";
/// An `ipset:` that is not defined in `ipsets`.
pub const UNDEFINED_IPSET: &str = "E204";
/// A `posture:` that is not defined in `postures`.
pub const UNDEFINED_POSTURE: &str = "E205";
/// An `autogroup:` that does not exist.
pub const UNKNOWN_AUTOGROUP: &str = "E206";
/// A selector used where Tailscale does not allow it.
pub const SELECTOR_NOT_ALLOWED: &str = "E207";
/// A group that contains a group.
pub const RECURSIVE_GROUP: &str = "E208";
/// A group member that is not a user.
pub const INVALID_GROUP_MEMBER: &str = "E209";
/// A tag name that breaks Tailscale's tag grammar.
pub const INVALID_TAG_NAME: &str = "E210";
/// A `hosts` entry with a bad name or address.
pub const INVALID_HOST: &str = "E211";
/// A `user:*@domain` or `localpart:*@domain` whose domain is not associated with the tailnet.
pub const DOMAIN_NOT_ASSOCIATED: &str = "E212";
/// A `groups`, `ipsets` or `postures` key without its prefix.
pub const INVALID_NAME: &str = "E213";
/// Both `autogroup:member` and `autogroup:members` in one file.
pub const MIXED_MEMBER_SPELLINGS: &str = "E214";
/// A bad `ipsets` entry, or an ipset that includes itself.
pub const INVALID_IPSET: &str = "E215";
/// A `tagOwners` owner that cannot own tags.
pub const INVALID_TAG_OWNER: &str = "E216";
/// A selector that is not a valid address.
pub const INVALID_ADDRESS: &str = "E217";

/// A bad port, port range or `selector:ports` destination.
pub const INVALID_PORTS: &str = "E301";
/// A bad protocol.
pub const INVALID_PROTOCOL: &str = "E302";
/// An ACL action other than `accept`.
pub const INVALID_ACL_ACTION: &str = "E303";
/// `autogroup:self` with a source it cannot be combined with.
pub const SELF_WITH_BAD_SOURCE: &str = "E304";
/// A grant with neither `ip` nor `app`.
pub const GRANT_WITHOUT_ACCESS: &str = "E305";
/// A bad `app` capability name.
pub const INVALID_CAPABILITY: &str = "E306";
/// A grant whose destination Tailscale refuses (`0.0.0.0/0`, app grants to the internet).
pub const INVALID_GRANT_DESTINATION: &str = "E307";
/// A `via` entry that is not a tag.
pub const INVALID_VIA: &str = "E308";
/// A bad SSH `action`.
pub const INVALID_SSH_ACTION: &str = "E309";
/// Bad SSH `users`.
pub const INVALID_SSH_USERS: &str = "E310";
/// A bad SSH `checkPeriod`.
pub const INVALID_CHECK_PERIOD: &str = "E311";
/// A bad SSH `acceptEnv` entry.
pub const INVALID_ACCEPT_ENV: &str = "E312";
/// An SSH source/destination combination Tailscale forbids.
pub const INVALID_SSH_COMBINATION: &str = "E313";
/// A bad `nodeAttrs` entry (`ipPool`, target).
pub const INVALID_NODE_ATTR: &str = "E314";
/// A bad `postures` assertion.
pub const INVALID_POSTURE: &str = "E315";
/// A bad `autoApprovers` entry.
pub const INVALID_AUTO_APPROVER: &str = "E316";

/// A malformed `tests` entry (Tailscale reports it as `test(s) failed`).
pub const INVALID_TEST: &str = "E401";
/// A malformed `sshTests` entry.
pub const INVALID_SSH_TEST: &str = "E402";
/// A `tests` assertion that does not hold.
pub const TEST_FAILED: &str = "E403";
/// An `sshTests` assertion that does not hold.
pub const SSH_TEST_FAILED: &str = "E404";
/// A `tests` or `sshTests` assertion whose outcome depends on tailnet state the tool does
/// not have (a role, the identity of the device at an address): a warning naming it.
pub const TEST_UNDETERMINED: &str = "E405";

/// A bad `tailpolicy.toml`: TOML syntax, an unknown key, an unknown rule or severity.
pub const INVALID_CONFIG: &str = "E501";

/// Inventory JSON that does not load, or a node or user in it that cannot be used.
pub const INVENTORY: &str = "INVENTORY";
/// An option the JavaScript API does not understand.
pub const OPTIONS: &str = "OPTIONS";
/// A file the CLI cannot read or that is not UTF-8 (the core does no I/O; the CLI reports it).
pub const IO: &str = "IO";
