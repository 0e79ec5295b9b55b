//! Port grammar and the `alias:ports` split of ACL destinations.
//!
//! ```text
//! ports = "*" | item ("," item)*
//! item  = port | port "-" port
//! port  = decimal 0..65535
//! ```
//!
//! `*` is 0–65535; `1-65535` stays 1–65535. A lone port must be at least 1, while a range
//! may start at 0. Error wording follows the control server (`port range "ssh": invalid
//! first integer`) and headscale for the cases SaaS was never seen rejecting.

use std::borrow::Cow;
use std::fmt;
use std::net::Ipv6Addr;

use serde::{Deserialize, Serialize};

use crate::goquote::quote;

/// An inclusive port range, serialised as `tailcfg.PortRange` (`{"First":n,"Last":m}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PortRange {
    pub first: u16,
    pub last: u16,
}

impl PortRange {
    /// Every port, 0–65535 (the `*` spec).
    pub const ALL: PortRange = PortRange {
        first: 0,
        last: u16::MAX,
    };

    /// A range `first..=last`; `None` when `first > last`.
    pub const fn new(first: u16, last: u16) -> Option<Self> {
        if first <= last {
            Some(Self { first, last })
        } else {
            None
        }
    }

    /// The range holding only `port`.
    pub const fn single(port: u16) -> Self {
        Self {
            first: port,
            last: port,
        }
    }

    pub const fn contains(&self, port: u16) -> bool {
        self.first <= port && port <= self.last
    }

    /// True for exactly 0–65535. `1-65535` is not "all".
    pub const fn is_all(&self) -> bool {
        self.first == 0 && self.last == u16::MAX
    }
}

/// `*`, `N` or `N-M`.
impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_all() {
            f.write_str("*")
        } else if self.first == self.last {
            write!(f, "{}", self.first)
        } else {
            write!(f, "{}-{}", self.first, self.last)
        }
    }
}

/// What is wrong with a port spec. The message is the bare reason (`invalid first integer`);
/// [`PortSpecError`] adds the spec as the control server does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PortError {
    /// Not a decimal number (also an empty item).
    #[error("invalid first integer")]
    InvalidInteger,
    /// A number outside 0..=65535.
    #[error("port number out of range")]
    OutOfRange,
    /// An item with a dash that is not `N-M`.
    #[error("invalid port range format")]
    InvalidFormat,
    /// `N-M` with `N > M`.
    #[error("invalid port range: first port is greater than last port")]
    Inverted,
    /// A lone port 0.
    #[error("first port must be >0, or use '*' for wildcard")]
    ZeroPort,
}

impl PortError {
    /// This error as the control server reports it for `spec`.
    pub fn in_spec(self, spec: &str) -> PortSpecError {
        PortSpecError {
            spec: spec.to_owned(),
            error: self,
        }
    }
}

/// A port spec that does not parse, worded as the control server does:
/// `port range "<spec>": <reason>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("port range {}: {error}", quote(spec))]
pub struct PortSpecError {
    spec: String,
    error: PortError,
}

impl PortSpecError {
    /// The whole spec as written.
    pub fn spec(&self) -> &str {
        &self.spec
    }

    pub fn error(&self) -> PortError {
        self.error
    }
}

/// Parses one decimal port number, 0..=65535. A sign is read so that `-1` reports "out of
/// range" rather than "invalid".
pub fn parse_port(s: &str) -> Result<u16, PortError> {
    let (negative, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, s.get(1..).unwrap_or("")),
        Some(b'+') => (false, s.get(1..).unwrap_or("")),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(PortError::InvalidInteger);
    }
    let zero = digits.bytes().all(|b| b == b'0');
    if negative && !zero {
        return Err(PortError::OutOfRange);
    }
    // Leading zeros cannot overflow; anything longer than 5 significant digits is > 65535.
    let significant = digits.trim_start_matches('0');
    if significant.len() > 5 {
        return Err(PortError::OutOfRange);
    }
    let value: u32 = significant
        .bytes()
        .fold(0, |acc, b| acc * 10 + u32::from(b - b'0'));
    u16::try_from(value).map_err(|_| PortError::OutOfRange)
}

/// Parses a port spec: `*`, or a comma list of `N` and `N-M`, in the order written.
///
/// The error is the bare reason; use [`PortError::in_spec`] for the control server's
/// `port range "<spec>": <reason>`.
pub fn parse_port_spec(spec: &str) -> Result<Vec<PortRange>, PortError> {
    if spec == "*" {
        return Ok(vec![PortRange::ALL]);
    }
    let mut out = Vec::new();
    for item in spec.split(',') {
        if item.contains('-') {
            let mut parts = item.split('-');
            let (Some(first), Some(last), None) = (parts.next(), parts.next(), parts.next()) else {
                return Err(PortError::InvalidFormat);
            };
            if first.is_empty() || last.is_empty() {
                return Err(PortError::InvalidFormat);
            }
            let first = parse_port(first)?;
            let last = parse_port(last)?;
            out.push(PortRange::new(first, last).ok_or(PortError::Inverted)?);
        } else {
            let port = parse_port(item)?;
            if port == 0 {
                return Err(PortError::ZeroPort);
            }
            out.push(PortRange::single(port));
        }
    }
    Ok(out)
}

/// Why an ACL destination could not be split into alias and ports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SplitError {
    /// No colon at all. The first phrase is the control server's, the second headscale's.
    #[error(
        "hostport must contain a colon (\":\"); input must contain a colon character separating destination and port"
    )]
    MissingColon,
    #[error("input cannot start with a colon character")]
    StartsWithColon,
    #[error("input cannot end with a colon character")]
    EndsWithColon,
    /// Brackets around something that is not a bare IPv6 address, or unbalanced brackets.
    #[error("square brackets are only valid around IPv6 addresses")]
    BracketsNotIpv6,
}

/// Splits an ACL destination `alias:ports`.
///
/// `[v6]:ports` and `[v6]/len:ports` lose their brackets (the second gives `v6/len`, which
/// is why the alias may be owned). Anything else is split at the **last** colon, so
/// `tag:web:80,443` gives `tag:web` and `fd7a::1:22` gives `fd7a::1`.
pub fn split_destination_and_port(input: &str) -> Result<(Cow<'_, str>, &str), SplitError> {
    if let Some(inner) = input.strip_prefix('[') {
        let (addr, rest) = inner.split_once(']').ok_or(SplitError::BracketsNotIpv6)?;
        if addr.parse::<Ipv6Addr>().is_err() {
            return Err(SplitError::BracketsNotIpv6);
        }
        if let Some(port) = rest.strip_prefix(':') {
            if port.is_empty() {
                return Err(SplitError::EndsWithColon);
            }
            return Ok((Cow::Borrowed(addr), port));
        }
        if let Some(after_slash) = rest.strip_prefix('/') {
            let (len, port) = after_slash
                .split_once(':')
                .ok_or(SplitError::BracketsNotIpv6)?;
            if len.is_empty() || !len.bytes().all(|b| b.is_ascii_digit()) {
                return Err(SplitError::BracketsNotIpv6);
            }
            if port.is_empty() {
                return Err(SplitError::EndsWithColon);
            }
            return Ok((Cow::Owned(format!("{addr}/{len}")), port));
        }
        return Err(SplitError::BracketsNotIpv6);
    }
    let (dst, port) = input.rsplit_once(':').ok_or(SplitError::MissingColon)?;
    if dst.is_empty() {
        return Err(SplitError::StartsWithColon);
    }
    if port.is_empty() {
        return Err(SplitError::EndsWithColon);
    }
    Ok((Cow::Borrowed(dst), port))
}

/// An ACL `dst` entry split and with its ports parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AclDestination<'a> {
    /// The selector, brackets removed.
    pub alias: Cow<'a, str>,
    /// The port spec as written.
    pub port_spec: &'a str,
    pub ports: Vec<PortRange>,
}

/// An ACL `dst` entry that does not split or whose ports do not parse:
/// `dst="<entry>": <reason>`, as the control server words it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("dst={}: {reason}", quote(dst))]
pub struct AclDstError {
    dst: String,
    reason: AclDstErrorKind,
}

impl AclDstError {
    pub fn dst(&self) -> &str {
        &self.dst
    }

    pub fn kind(&self) -> &AclDstErrorKind {
        &self.reason
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AclDstErrorKind {
    #[error(transparent)]
    Split(#[from] SplitError),
    #[error(transparent)]
    Ports(#[from] PortSpecError),
}

/// Splits an ACL `dst` entry and parses its port spec.
pub fn parse_acl_destination(entry: &str) -> Result<AclDestination<'_>, AclDstError> {
    let fail = |reason: AclDstErrorKind| AclDstError {
        dst: entry.to_owned(),
        reason,
    };
    let (alias, port_spec) =
        split_destination_and_port(entry).map_err(|e| fail(AclDstErrorKind::Split(e)))?;
    let ports = parse_port_spec(port_spec)
        .map_err(|e| fail(AclDstErrorKind::Ports(e.in_spec(port_spec))))?;
    Ok(AclDestination {
        alias,
        port_spec,
        ports,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(s: &str) -> Vec<(u16, u16)> {
        parse_port_spec(s)
            .unwrap()
            .iter()
            .map(|r| (r.first, r.last))
            .collect()
    }

    #[test]
    fn specs() {
        assert_eq!(spec("*"), [(0, 65535)]);
        assert_eq!(spec("22"), [(22, 22)]);
        assert_eq!(spec("1-65535"), [(1, 65535)]);
        assert_eq!(spec("0-100"), [(0, 100)]);
        assert_eq!(spec("443,80,22-23"), [(443, 443), (80, 80), (22, 23)]);
        assert_eq!(spec("007"), [(7, 7)]);
    }

    #[test]
    fn spec_errors() {
        let msg = |s: &str| parse_port_spec(s).unwrap_err().in_spec(s).to_string();
        assert_eq!(msg("ssh"), r#"port range "ssh": invalid first integer"#);
        assert_eq!(
            msg("0"),
            r#"port range "0": first port must be >0, or use '*' for wildcard"#
        );
        assert_eq!(
            msg("80--90"),
            r#"port range "80--90": invalid port range format"#
        );
        assert_eq!(
            msg("1-2-3"),
            r#"port range "1-2-3": invalid port range format"#
        );
        assert_eq!(msg("*,80"), r#"port range "*,80": invalid first integer"#);
        assert_eq!(msg(" 80"), r#"port range " 80": invalid first integer"#);
        assert_eq!(
            msg("99999999999999999999999"),
            r#"port range "99999999999999999999999": port number out of range"#
        );
        assert_eq!(msg(""), r#"port range "": invalid first integer"#);
        assert_eq!(parse_port_spec("ssh"), Err(PortError::InvalidInteger));
        assert_eq!(PortError::InvalidInteger.in_spec("ssh").spec(), "ssh");
        assert_eq!(
            parse_port_spec("0").unwrap_err().to_string(),
            "first port must be >0, or use '*' for wildcard"
        );
    }

    #[test]
    fn single_ports() {
        assert_eq!(parse_port("-0"), Ok(0));
        assert_eq!(parse_port("+1"), Ok(1));
        assert_eq!(parse_port("-"), Err(PortError::InvalidInteger));
        assert_eq!(parse_port("١"), Err(PortError::InvalidInteger));
        assert_eq!(parse_port("65536"), Err(PortError::OutOfRange));
        assert_eq!(parse_port("000065535"), Ok(65535));
    }

    #[test]
    fn display() {
        assert_eq!(PortRange::ALL.to_string(), "*");
        assert_eq!(PortRange::single(22).to_string(), "22");
        assert_eq!(
            PortRange {
                first: 1,
                last: 65535
            }
            .to_string(),
            "1-65535"
        );
        assert!(
            !PortRange {
                first: 1,
                last: 65535
            }
            .is_all()
        );
        assert_eq!(
            serde_json::to_string(&PortRange::single(22)).unwrap(),
            r#"{"First":22,"Last":22}"#
        );
    }

    #[test]
    fn splitting() {
        let split = |s: &str| {
            let (d, p) = split_destination_and_port(s).unwrap();
            (d.into_owned(), p.to_owned())
        };
        assert_eq!(split("*:*"), ("*".into(), "*".into()));
        assert_eq!(split("autogroup:self"), ("autogroup".into(), "self".into()));
        assert_eq!(split("fd00::/64:443"), ("fd00::/64".into(), "443".into()));
        assert_eq!(split("[::1]/128:22"), ("::1/128".into(), "22".into()));
        assert_eq!(
            split_destination_and_port("[::1]/:22"),
            Err(SplitError::BracketsNotIpv6)
        );
        assert_eq!(
            split_destination_and_port("[::1]/x:22"),
            Err(SplitError::BracketsNotIpv6)
        );
        assert_eq!(
            split_destination_and_port("[::1]/12"),
            Err(SplitError::BracketsNotIpv6)
        );
        assert_eq!(
            split_destination_and_port("["),
            Err(SplitError::BracketsNotIpv6)
        );
        assert_eq!(
            split_destination_and_port(""),
            Err(SplitError::MissingColon)
        );
        assert_eq!(
            split_destination_and_port(":"),
            Err(SplitError::StartsWithColon)
        );
    }

    #[test]
    fn acl_destinations() {
        let msg = |s: &str| parse_acl_destination(s).unwrap_err().to_string();
        assert_eq!(
            msg("tag:server:ssh"),
            r#"dst="tag:server:ssh": port range "ssh": invalid first integer"#
        );
        assert_eq!(
            msg("autogroup:self"),
            r#"dst="autogroup:self": port range "self": invalid first integer"#
        );
        assert!(
            msg("100.64.0.1")
                .starts_with(r#"dst="100.64.0.1": hostport must contain a colon (":")"#)
        );
        let d = parse_acl_destination("tag:web:80,443").unwrap();
        assert_eq!(d.alias, "tag:web");
        assert_eq!(d.port_spec, "80,443");
        assert_eq!(d.ports, [PortRange::single(80), PortRange::single(443)]);
    }
}
