//! IP protocols (ACL `proto`, the protocol half of grant `ip` entries) and grant `ip` entries.

use std::fmt;

use crate::goquote::quote;
use crate::ports::{PortRange, PortSpecError, parse_port_spec};

/// An IP protocol, by IANA number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Protocol(u8);

/// Names the control server accepts, lower case, with their numbers. The first name listed
/// for a number is its canonical name.
const NAMES: [(&str, u8); 14] = [
    ("icmp", 1),
    ("igmp", 2),
    ("ipv4", 4),
    ("ip-in-ip", 4),
    ("tcp", 6),
    ("egp", 8),
    ("igp", 9),
    ("udp", 17),
    ("gre", 47),
    ("esp", 50),
    ("ah", 51),
    ("ipv6-icmp", 58),
    ("sctp", 132),
    ("fc", 133),
];

impl Protocol {
    pub const ICMP: Protocol = Protocol(1);
    pub const IGMP: Protocol = Protocol(2);
    pub const IPV4: Protocol = Protocol(4);
    pub const TCP: Protocol = Protocol(6);
    pub const EGP: Protocol = Protocol(8);
    pub const IGP: Protocol = Protocol(9);
    pub const UDP: Protocol = Protocol(17);
    pub const GRE: Protocol = Protocol(47);
    pub const ESP: Protocol = Protocol(50);
    pub const AH: Protocol = Protocol(51);
    pub const ICMPV6: Protocol = Protocol(58);
    pub const SCTP: Protocol = Protocol(132);
    pub const FC: Protocol = Protocol(133);

    pub const fn from_number(n: u8) -> Self {
        Self(n)
    }

    pub const fn number(self) -> u8 {
        self.0
    }

    /// The canonical name, when the protocol has one (`tcp`, `ipv4`, `ipv6-icmp`, ...).
    pub fn name(self) -> Option<&'static str> {
        NAMES
            .iter()
            .find(|&&(_, n)| n == self.0)
            .map(|&(name, _)| name)
    }

    /// True for the protocols that have ports: TCP, UDP and SCTP.
    pub const fn supports_ports(self) -> bool {
        matches!(self.0, 6 | 17 | 132)
    }
}

/// The canonical name, or the number.
impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "{}", self.0),
        }
    }
}

/// What a rule with no protocol allows on the client: TCP, UDP, ICMP and ICMPv6.
pub const DEFAULT_PROTOCOLS: [u8; 4] = [6, 17, 1, 58];

/// The `IPProto` list a rule with this protocol allows: the protocol itself, or
/// [`DEFAULT_PROTOCOLS`] when there is none.
pub fn effective_protocols(proto: Option<Protocol>) -> Vec<u8> {
    match proto {
        Some(p) => vec![p.number()],
        None => DEFAULT_PROTOCOLS.to_vec(),
    }
}

/// True when specific ports may be given with `proto`: TCP, UDP, SCTP, or no protocol.
pub fn supports_ports(proto: Option<Protocol>) -> bool {
    proto.is_none_or(Protocol::supports_ports)
}

/// A protocol string that is not a known name or a valid number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtoError {
    /// Not a number and not a known name (including `*`).
    #[error(
        "proto name {} not known; use protocol number 0-255 or protocol name (icmp, tcp, udp, etc.)",
        quote(.0)
    )]
    UnknownName(String),
    /// A number written with a leading zero, including `0` itself.
    #[error("leading 0 not permitted in protocol number: {}", quote(.0))]
    LeadingZero(String),
    /// A number above 255 (or negative).
    #[error("protocol number out of range (0-255): {0}")]
    OutOfRange(String),
    /// Specific ports with a protocol that has none.
    #[error("protocol does not support specific ports: {}, only \"*\" is allowed", quote(.0))]
    PortsNotSupported(String),
}

/// Parses a protocol name (case-insensitive) or a decimal number `1`..`255`.
///
/// An empty string is not a protocol; callers treat an empty or missing `proto` as "none".
pub fn parse_protocol(s: &str) -> Result<Protocol, ProtoError> {
    let (sign, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        if digits.starts_with('0') {
            return Err(ProtoError::LeadingZero(s.to_owned()));
        }
        if sign {
            return Err(ProtoError::OutOfRange(s.to_owned()));
        }
        return digits
            .parse::<u8>()
            .map(Protocol)
            .map_err(|_| ProtoError::OutOfRange(s.to_owned()));
    }
    NAMES
        .iter()
        .find(|&&(name, _)| name.eq_ignore_ascii_case(s))
        .map(|&(_, n)| Protocol(n))
        .ok_or_else(|| ProtoError::UnknownName(s.to_owned()))
}

/// Checks that `ports` may be used with `proto`: anything goes for TCP, UDP, SCTP and no
/// protocol; every other protocol needs exactly `*` (0–65535). `written` is the protocol as
/// the policy spells it, for the message.
pub fn check_ports_for_protocol(
    proto: Option<Protocol>,
    written: &str,
    ports: &[PortRange],
) -> Result<(), ProtoError> {
    if supports_ports(proto) || ports.iter().all(PortRange::is_all) {
        Ok(())
    } else {
        Err(ProtoError::PortsNotSupported(written.to_owned()))
    }
}

/// One parsed grant `ip` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantIp {
    /// `None` when the entry names no protocol (the client default applies).
    pub proto: Option<Protocol>,
    pub ports: Vec<PortRange>,
}

/// A grant `ip` entry that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GrantIpError {
    #[error(transparent)]
    Ports(#[from] PortSpecError),
    #[error(transparent)]
    Protocol(#[from] ProtoError),
    /// More than one colon, e.g. `tcp:80:90`.
    #[error("expected only one colon in Internet protocol and port type, got: {}", quote(.0))]
    TooManyColons(String),
}

/// Parses a grant `ip` entry: `*`, a port spec (`443`, `80-443`, `22,80`), or
/// `proto:ports` (`tcp:443`, `icmp:*`, `6:22`).
///
/// A bare word is read as a port spec, so `icmp` fails with
/// `port range "icmp": invalid first integer`, as on the control server.
pub fn parse_grant_ip(entry: &str) -> Result<GrantIp, GrantIpError> {
    if entry == "*" {
        return Ok(GrantIp {
            proto: None,
            ports: vec![PortRange::ALL],
        });
    }
    let Some((proto_str, port_spec)) = entry.split_once(':') else {
        return Ok(GrantIp {
            proto: None,
            ports: parse_port_spec(entry).map_err(|e| e.in_spec(entry))?,
        });
    };
    if port_spec.contains(':') {
        return Err(GrantIpError::TooManyColons(entry.to_owned()));
    }
    // `*:8096` (any protocol) is written in policies Tailscale accepts; read it as the
    // bare port spec, with the default protocols.
    if proto_str == "*" {
        return Ok(GrantIp {
            proto: None,
            ports: parse_port_spec(port_spec).map_err(|e| e.in_spec(port_spec))?,
        });
    }
    let proto = parse_protocol(proto_str)?;
    let ports = parse_port_spec(port_spec).map_err(|e| e.in_spec(port_spec))?;
    check_ports_for_protocol(Some(proto), proto_str, &ports)?;
    Ok(GrantIp {
        proto: Some(proto),
        ports,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers() {
        assert_eq!(parse_protocol("tcp"), Ok(Protocol::TCP));
        assert_eq!(parse_protocol("TCP"), Ok(Protocol::TCP));
        assert_eq!(parse_protocol("Ip-In-Ip"), Ok(Protocol::IPV4));
        assert_eq!(parse_protocol("ipv6-icmp"), Ok(Protocol::ICMPV6));
        assert_eq!(parse_protocol("fc"), Ok(Protocol::FC));
        assert_eq!(parse_protocol("6"), Ok(Protocol::TCP));
        assert_eq!(parse_protocol("255"), Ok(Protocol::from_number(255)));
        assert_eq!(Protocol::IPV4.to_string(), "ipv4");
        assert_eq!(Protocol::from_number(200).to_string(), "200");
        assert_eq!(Protocol::SCTP.name(), Some("sctp"));
    }

    #[test]
    fn protocol_errors() {
        let msg = |s: &str| parse_protocol(s).unwrap_err().to_string();
        assert_eq!(
            msg("*"),
            r#"proto name "*" not known; use protocol number 0-255 or protocol name (icmp, tcp, udp, etc.)"#
        );
        assert_eq!(
            msg("06"),
            r#"leading 0 not permitted in protocol number: "06""#
        );
        assert_eq!(
            msg("0"),
            r#"leading 0 not permitted in protocol number: "0""#
        );
        assert_eq!(msg("256"), "protocol number out of range (0-255): 256");
        assert_eq!(msg("-1"), "protocol number out of range (0-255): -1");
        assert!(matches!(
            parse_protocol(""),
            Err(ProtoError::UnknownName(_))
        ));
        assert!(matches!(
            parse_protocol("icmpv6"),
            Err(ProtoError::UnknownName(_))
        ));
        assert!(matches!(
            parse_protocol("99999999999999999999"),
            Err(ProtoError::OutOfRange(_))
        ));
    }

    #[test]
    fn port_support() {
        assert!(supports_ports(None));
        assert!(supports_ports(Some(Protocol::TCP)));
        assert!(supports_ports(Some(Protocol::UDP)));
        assert!(supports_ports(Some(Protocol::SCTP)));
        assert!(!supports_ports(Some(Protocol::ICMP)));
        assert!(!supports_ports(Some(Protocol::GRE)));
        assert_eq!(effective_protocols(None), [6, 17, 1, 58]);
        assert_eq!(effective_protocols(Some(Protocol::ICMP)), [1]);
        assert_eq!(
            check_ports_for_protocol(Some(Protocol::ICMP), "icmp", &[PortRange::single(22)])
                .unwrap_err()
                .to_string(),
            r#"protocol does not support specific ports: "icmp", only "*" is allowed"#
        );
        assert!(check_ports_for_protocol(Some(Protocol::ICMP), "icmp", &[PortRange::ALL]).is_ok());
    }

    #[test]
    fn grant_ip_entries() {
        let ok = |s: &str| parse_grant_ip(s).unwrap();
        assert_eq!(
            ok("*"),
            GrantIp {
                proto: None,
                ports: vec![PortRange::ALL]
            }
        );
        assert_eq!(
            ok("443"),
            GrantIp {
                proto: None,
                ports: vec![PortRange::single(443)]
            }
        );
        assert_eq!(
            ok("47"),
            GrantIp {
                proto: None,
                ports: vec![PortRange::single(47)]
            }
        );
        assert_eq!(ok("*:8096"), ok("8096"));
        assert_eq!(ok("*:*"), ok("*"));
        assert_eq!(
            ok("80-443"),
            GrantIp {
                proto: None,
                ports: vec![PortRange {
                    first: 80,
                    last: 443
                }]
            }
        );
        assert_eq!(
            ok("tcp:443"),
            GrantIp {
                proto: Some(Protocol::TCP),
                ports: vec![PortRange::single(443)]
            }
        );
        assert_eq!(
            ok("icmp:*"),
            GrantIp {
                proto: Some(Protocol::ICMP),
                ports: vec![PortRange::ALL]
            }
        );
        assert_eq!(ok("gre:*").proto, Some(Protocol::GRE));
        assert_eq!(
            ok("6:22"),
            GrantIp {
                proto: Some(Protocol::TCP),
                ports: vec![PortRange::single(22)]
            }
        );
    }

    #[test]
    fn grant_ip_errors() {
        let msg = |s: &str| parse_grant_ip(s).unwrap_err().to_string();
        assert_eq!(msg("icmp"), r#"port range "icmp": invalid first integer"#);
        assert_eq!(
            msg("tcp:0"),
            r#"port range "0": first port must be >0, or use '*' for wildcard"#
        );
        assert_eq!(
            msg("a:b:c"),
            r#"expected only one colon in Internet protocol and port type, got: "a:b:c""#
        );
        assert_eq!(
            msg("icmp:22"),
            r#"protocol does not support specific ports: "icmp", only "*" is allowed"#
        );
        assert!(matches!(
            parse_grant_ip("any:443"),
            Err(GrantIpError::Protocol(_))
        ));
        assert!(matches!(parse_grant_ip(""), Err(GrantIpError::Ports(_))));
        assert!(matches!(
            parse_grant_ip("tcp:"),
            Err(GrantIpError::Ports(_))
        ));
    }
}
