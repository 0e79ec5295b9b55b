//! Lexical classification of selectors (targets) such as `tag:web`, `group:eng`,
//! `alice@example.com`, `10.0.0.0/8` or `autogroup:member`.
//!
//! Classification follows policy-semantics §3.1: the text is trimmed of ASCII whitespace
//! (Tailscale trims), then matched in a fixed order. Whether a selector is *allowed* in a
//! given place is decided by the validator, not here.

use crate::text::Trimmed;
use std::net::IpAddr;

use ipnet::IpNet;

/// The closed set of autogroups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Autogroup {
    Member,
    Tagged,
    SelfDevices,
    Internet,
    Shared,
    DangerAll,
    NonRoot,
    Owner,
    Admin,
    ItAdmin,
    NetworkAdmin,
    BillingAdmin,
    Auditor,
}

impl Autogroup {
    pub const ALL: &'static [Autogroup] = &[
        Autogroup::Member,
        Autogroup::Tagged,
        Autogroup::SelfDevices,
        Autogroup::Internet,
        Autogroup::Shared,
        Autogroup::DangerAll,
        Autogroup::NonRoot,
        Autogroup::Owner,
        Autogroup::Admin,
        Autogroup::ItAdmin,
        Autogroup::NetworkAdmin,
        Autogroup::BillingAdmin,
        Autogroup::Auditor,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Autogroup::Member => "autogroup:member",
            Autogroup::Tagged => "autogroup:tagged",
            Autogroup::SelfDevices => "autogroup:self",
            Autogroup::Internet => "autogroup:internet",
            Autogroup::Shared => "autogroup:shared",
            Autogroup::DangerAll => "autogroup:danger-all",
            Autogroup::NonRoot => "autogroup:nonroot",
            Autogroup::Owner => "autogroup:owner",
            Autogroup::Admin => "autogroup:admin",
            Autogroup::ItAdmin => "autogroup:it-admin",
            Autogroup::NetworkAdmin => "autogroup:network-admin",
            Autogroup::BillingAdmin => "autogroup:billing-admin",
            Autogroup::Auditor => "autogroup:auditor",
        }
    }

    /// The role name for role autogroups (`admin`, `owner`, ...).
    pub fn role(self) -> Option<&'static str> {
        match self {
            Autogroup::Owner => Some("owner"),
            Autogroup::Admin => Some("admin"),
            Autogroup::ItAdmin => Some("it-admin"),
            Autogroup::NetworkAdmin => Some("network-admin"),
            Autogroup::BillingAdmin => Some("billing-admin"),
            Autogroup::Auditor => Some("auditor"),
            _ => None,
        }
    }

    pub fn is_role(self) -> bool {
        self.role().is_some()
    }

    fn from_suffix(suffix: &str) -> Option<Autogroup> {
        Some(match suffix {
            "member" | "members" => Autogroup::Member,
            "tagged" => Autogroup::Tagged,
            "self" => Autogroup::SelfDevices,
            "internet" => Autogroup::Internet,
            "shared" => Autogroup::Shared,
            "danger-all" => Autogroup::DangerAll,
            "nonroot" => Autogroup::NonRoot,
            "owner" => Autogroup::Owner,
            "admin" => Autogroup::Admin,
            "it-admin" => Autogroup::ItAdmin,
            "network-admin" => Autogroup::NetworkAdmin,
            "billing-admin" => Autogroup::BillingAdmin,
            "auditor" => Autogroup::Auditor,
            _ => return None,
        })
    }
}

/// A classified selector. String payloads borrow from the (trimmed) input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selector<'a> {
    /// `*`
    Wildcard,
    Autogroup(Autogroup),
    /// `autogroup:<unknown>`: the whole text.
    UnknownAutogroup(&'a str),
    /// `group:<name>`: the whole text.
    Group(&'a str),
    /// `tag:<name>`: the whole text, as written (compare tags case-insensitively).
    Tag(&'a str),
    /// `ipset:<name>`: the whole text.
    IpSet(&'a str),
    /// `svc:<name>`: the whole text.
    Service(&'a str),
    /// `user:*@<domain>`: the domain.
    UserDomain(&'a str),
    /// `localpart:*@<domain>`: the domain.
    LocalpartDomain(&'a str),
    /// A login such as `alice@example.com`, `alice@github` or `alice@passkey`.
    User(&'a str),
    /// An IP address (as a host prefix) or a CIDR.
    Prefix(IpNet),
    /// `a-b`: an inclusive IP range (valid only inside `ipsets`).
    Range(IpAddr, IpAddr),
    /// `host:<name>`: the name.
    HostRef(&'a str),
    /// Any other text: a `hosts` alias.
    Host(&'a str),
}

impl<'a> Selector<'a> {
    /// Classifies `text` (after trimming ASCII whitespace).
    pub fn parse(text: &'a str) -> Selector<'a> {
        let text = text.trim_ascii();
        if text == "*" {
            return Selector::Wildcard;
        }
        if let Some(suffix) = text.strip_prefix("autogroup:") {
            return Autogroup::from_suffix(suffix)
                .map_or(Selector::UnknownAutogroup(text), Selector::Autogroup);
        }
        if text.starts_with("group:") {
            return Selector::Group(text);
        }
        if text.starts_with("tag:") {
            return Selector::Tag(text);
        }
        if text.starts_with("ipset:") {
            return Selector::IpSet(text);
        }
        if text.starts_with("svc:") {
            return Selector::Service(text);
        }
        // With an empty domain these are not the wildcard forms: Tailscale reads
        // `localpart:*@` as a literal name [capture ssh-malformed-user-localpart-no-domain].
        if let Some(domain) = text.strip_prefix("user:*@").filter(|d| !d.is_empty()) {
            return Selector::UserDomain(domain);
        }
        if let Some(domain) = text.strip_prefix("localpart:*@").filter(|d| !d.is_empty()) {
            return Selector::LocalpartDomain(domain);
        }
        if let Some(name) = text.strip_prefix("host:") {
            return Selector::HostRef(name);
        }
        if text.contains('@') {
            return Selector::User(text);
        }
        if !could_be_address(text) {
            return Selector::Host(text);
        }
        if let Some(prefix) = parse_prefix(text) {
            return Selector::Prefix(prefix);
        }
        if let Some((first, last)) = parse_range(text) {
            return Selector::Range(first, last);
        }
        Selector::Host(text)
    }

    /// True for selectors that name user identities (users, groups, role autogroups,
    /// `autogroup:member`, `user:*@domain`).
    pub fn is_user_identity(&self) -> bool {
        match self {
            Selector::User(_) | Selector::Group(_) | Selector::UserDomain(_) => true,
            Selector::Autogroup(a) => *a == Autogroup::Member || a.is_role(),
            _ => false,
        }
    }
}

/// Whether `text` has only the characters of IP addresses, CIDRs and ranges, and the
/// whitespace a range may have around its `-`. Most host aliases do not, and need no parse
/// attempts (which were a fifth of `check` in the WASM build).
fn could_be_address(text: &str) -> bool {
    text.bytes().all(|b| {
        b.is_ascii_hexdigit()
            || matches!(b, b'.' | b':' | b'/' | b'-')
            || b.is_ascii_whitespace()
            || !b.is_ascii()
    })
}

/// Parses an IP address (as a /32 or /128) or a CIDR. Host bits are kept as written.
pub fn parse_prefix(text: &str) -> Option<IpNet> {
    if !could_be_address(text) {
        return None;
    }
    if let Ok(addr) = text.parse::<IpAddr>() {
        return Some(IpNet::from(addr));
    }
    let (addr, len) = text.split_once('/')?;
    if len.is_empty()
        || !len.bytes().all(|b| b.is_ascii_digit())
        || (len.len() > 1 && len.starts_with('0'))
    {
        return None;
    }
    let addr: IpAddr = addr.parse().ok()?;
    let len: u8 = len.parse().ok()?;
    IpNet::new(addr, len).ok()
}

/// Parses `first-last` with both ends of the same family and `first <= last`.
pub fn parse_range(text: &str) -> Option<(IpAddr, IpAddr)> {
    let (first, last) = text.split_once('-')?;
    let first: IpAddr = first.trimmed().parse().ok()?;
    let last: IpAddr = last.trimmed().parse().ok()?;
    match (first, last) {
        (IpAddr::V4(a), IpAddr::V4(b)) if a <= b => Some((first, last)),
        (IpAddr::V6(a), IpAddr::V6(b)) if a <= b => Some((first, last)),
        _ => None,
    }
}

/// Tags compare case-insensitively: Tailscale reads every tag in lowercase.
pub fn tag_eq(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_in_tailscale_order() {
        assert_eq!(Selector::parse(" tag:server "), Selector::Tag("tag:server"));
        assert_eq!(Selector::parse("*"), Selector::Wildcard);
        assert_eq!(
            Selector::parse("autogroup:members"),
            Selector::Autogroup(Autogroup::Member)
        );
        assert_eq!(
            Selector::parse("autogroup:bogus"),
            Selector::UnknownAutogroup("autogroup:bogus")
        );
        assert_eq!(
            Selector::parse("user:*@example.com"),
            Selector::UserDomain("example.com")
        );
        assert_eq!(
            Selector::parse("alice@github"),
            Selector::User("alice@github")
        );
        assert_eq!(Selector::parse("host:db"), Selector::HostRef("db"));
        assert_eq!(Selector::parse("database"), Selector::Host("database"));
        assert!(
            matches!(Selector::parse("100.64.0.1"), Selector::Prefix(p) if p.prefix_len() == 32)
        );
        assert!(
            matches!(Selector::parse("fd7a::/48"), Selector::Prefix(p) if p.prefix_len() == 48)
        );
        assert!(matches!(
            Selector::parse("10.0.0.1-10.0.0.9"),
            Selector::Range(..)
        ));
        assert_eq!(Selector::parse("10.0/42"), Selector::Host("10.0/42"));
        assert_eq!(Selector::parse("office-db"), Selector::Host("office-db"));
        assert!(matches!(
            Selector::parse("10.0.0.1 - 10.0.0.9"),
            Selector::Range(..)
        ));
        assert!(matches!(
            Selector::parse("::ffff:10.0.0.1"),
            Selector::Prefix(p) if p.prefix_len() == 128
        ));
    }
}
