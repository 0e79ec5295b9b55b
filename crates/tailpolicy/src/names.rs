//! Small name validators: tag names, grant `app` capability names, nodeAttrs `ipPool`.

use ipnet::IpNet;

use crate::addr::{CGNAT_V4, CHROMEOS_V4, IpSet, QUAD100_V4};

/// A tag that `tailcfg.CheckTag` rejects.
///
/// Messages are `tailcfg.CheckTag`'s. Where headscale words the same failure differently,
/// its wording follows in parentheses, so either can be searched for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TagError {
    #[error("tags must start with 'tag:' (tag must start with 'tag:')")]
    MissingPrefix,
    #[error("tag names must not be empty (tag names must start with a letter, after 'tag:')")]
    Empty,
    #[error("tag names must start with a letter, after 'tag:'")]
    FirstNotLetter,
    #[error("tag names can only contain numbers, letters, or dashes")]
    InvalidCharacter,
}

/// Checks a tag as `tailcfg.CheckTag` does: `tag:` then an ASCII letter, then ASCII letters,
/// digits or `-`.
pub fn check_tag(tag: &str) -> Result<(), TagError> {
    let name = tag.strip_prefix("tag:").ok_or(TagError::MissingPrefix)?;
    let mut bytes = name.bytes();
    let first = bytes.next().ok_or(TagError::Empty)?;
    if !first.is_ascii_alphabetic() {
        return Err(TagError::FirstNotLetter);
    }
    if bytes.all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        Ok(())
    } else {
        Err(TagError::InvalidCharacter)
    }
}

/// `tailscale.com/...` capability names a grant `app` may use: the ones captured as
/// accepted (webui, relay, drive, kubernetes), `tailcfg`'s `tsidp`, and those Tailscale's
/// own tools read (setec `secrets`, `tailsql`, `golink`, `pam`, `aperture`).
pub const ALLOWED_TAILSCALE_CAPABILITIES: &[&str] = &[
    "tailscale.com/cap/webui",
    "tailscale.com/cap/relay",
    "tailscale.com/cap/drive",
    "tailscale.com/cap/kubernetes",
    "tailscale.com/cap/tsidp",
    "tailscale.com/cap/secrets",
    "tailscale.com/cap/tailsql",
    "tailscale.com/cap/golink",
    "tailscale.com/cap/pam",
    "tailscale.com/cap/aperture",
];

/// `tailscale.com/...` capabilities the control server generates itself and refuses in a
/// grant: companions (`drive-sharer`, `relay-target`) and internal ones (`ingress`,
/// `funnel`) [captures grant-a5, grant-k9, grant-k10]. Any other unknown `tailscale.com`
/// name may be one Tailscale publishes that this list lacks, so it is only a warning.
pub const SERVER_TAILSCALE_CAPABILITIES: &[&str] = &[
    "tailscale.com/cap/relay-target",
    "tailscale.com/cap/drive-sharer",
    "tailscale.com/cap/ingress",
    "tailscale.com/cap/funnel",
];

/// Whether a grant `app` name that [`check_capability_name`] refuses as reserved is one the
/// control server is known to refuse (an error) rather than one it may publish (a warning).
pub fn is_refused_tailscale_capability(name: &str) -> bool {
    SERVER_TAILSCALE_CAPABILITIES
        .iter()
        .any(|c| c.eq_ignore_ascii_case(name))
}

/// A grant `app` key that is not a usable capability name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CapabilityNameError {
    #[error("capability name must have the form {{domain}}/{{path}}")]
    Form,
    #[error("capability name must not be in the tailscale.com domain")]
    ReservedDomain,
}

/// Checks a grant `app` capability name against [`ALLOWED_TAILSCALE_CAPABILITIES`].
pub fn check_capability_name(name: &str) -> Result<(), CapabilityNameError> {
    check_capability_name_with(name, ALLOWED_TAILSCALE_CAPABILITIES)
}

/// Checks a grant `app` capability name: `{domain}/{path}` with a non-empty domain free of
/// `:` and whitespace and a non-empty path; a `tailscale.com` domain only for names in
/// `allowed`.
pub fn check_capability_name_with(name: &str, allowed: &[&str]) -> Result<(), CapabilityNameError> {
    let (domain, path) = name.split_once('/').ok_or(CapabilityNameError::Form)?;
    if domain.is_empty()
        || path.is_empty()
        || domain.contains(':')
        || domain.chars().any(char::is_whitespace)
    {
        return Err(CapabilityNameError::Form);
    }
    if domain.eq_ignore_ascii_case("tailscale.com") && !allowed.contains(&name) {
        return Err(CapabilityNameError::ReservedDomain);
    }
    Ok(())
}

/// A nodeAttrs `ipPool` prefix that may not be used.
///
/// Both messages start with the control server's `IPPool(<prefix>): `. The reserved-range
/// message is the captured one followed by headscale's reason; the other is headscale's
/// (not seen on the control server).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IpPoolError {
    #[error("IPPool({0}): nodeAttrs ipPool must be within 100.64.0.0/10")]
    OutsideCgnat(IpNet),
    #[error(
        "IPPool({0}): network within reserved range (nodeAttrs ipPool must not overlap reserved Tailscale ranges)"
    )]
    Reserved(IpNet),
}

/// Ranges inside `100.64.0.0/10` that an `ipPool` must not overlap: the quad-100 service
/// range and the ChromeOS range.
pub fn reserved_pool_ranges() -> IpSet {
    IpSet::from_net(&IpNet::V4(QUAD100_V4)).union(&IpSet::from_net(&IpNet::V4(CHROMEOS_V4)))
}

/// Checks a nodeAttrs `ipPool` prefix: inside `100.64.0.0/10`, clear of the reserved ranges.
pub fn check_ip_pool(pool: &IpNet) -> Result<(), IpPoolError> {
    if !IpSet::from_net(&IpNet::V4(CGNAT_V4)).contains_net(pool) {
        return Err(IpPoolError::OutsideCgnat(*pool));
    }
    if reserved_pool_ranges().overlaps_net(pool) {
        return Err(IpPoolError::Reserved(*pool));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags() {
        assert_eq!(check_tag("tag:web-1"), Ok(()));
        assert_eq!(check_tag("tag:A"), Ok(()));
        assert_eq!(check_tag("web"), Err(TagError::MissingPrefix));
        assert_eq!(check_tag("Tag:web"), Err(TagError::MissingPrefix));
        assert_eq!(check_tag("tag:"), Err(TagError::Empty));
        assert_eq!(check_tag("tag:1"), Err(TagError::FirstNotLetter));
        assert_eq!(check_tag("tag:é"), Err(TagError::FirstNotLetter));
        assert_eq!(check_tag("tag:a_b"), Err(TagError::InvalidCharacter));
        assert_eq!(check_tag("tag:a:b"), Err(TagError::InvalidCharacter));
        assert_eq!(check_tag("tag:aé"), Err(TagError::InvalidCharacter));
        assert_eq!(
            TagError::FirstNotLetter.to_string(),
            "tag names must start with a letter, after 'tag:'"
        );
    }

    #[test]
    fn capability_names() {
        assert_eq!(check_capability_name("example.com/cap/test"), Ok(()));
        assert_eq!(
            check_capability_name("my-company.internal/cap/access"),
            Ok(())
        );
        assert_eq!(check_capability_name("example.com/a/b/c/d/e/f"), Ok(()));
        assert_eq!(check_capability_name("tailscale.com/cap/webui"), Ok(()));
        assert_eq!(
            check_capability_name("tailscale.com/cap/kubernetes"),
            Ok(())
        );
        for reserved in [
            "tailscale.com/cap/relay-target",
            "tailscale.com/cap/ingress",
            "tailscale.com/cap/funnel",
            "TAILSCALE.COM/cap/drive",
        ] {
            assert_eq!(
                check_capability_name(reserved),
                Err(CapabilityNameError::ReservedDomain),
                "{reserved}"
            );
        }
        for bad in [
            "https://tailscale.com/cap/ingress",
            "nodomain",
            "/path",
            "example.com/",
            "",
        ] {
            assert_eq!(
                check_capability_name(bad),
                Err(CapabilityNameError::Form),
                "{bad}"
            );
        }
        assert_eq!(
            CapabilityNameError::Form.to_string(),
            "capability name must have the form {domain}/{path}"
        );
        assert_eq!(
            check_capability_name_with("tailscale.com/cap/ingress", &["tailscale.com/cap/ingress"]),
            Ok(())
        );
    }

    #[test]
    fn ip_pools() {
        let pool = |s: &str| check_ip_pool(&s.parse().unwrap());
        assert_eq!(pool("100.81.0.0/16"), Ok(()));
        assert_eq!(pool("100.64.0.0/11"), Ok(()));
        assert!(matches!(
            pool("fd7a:115c:a1e0::/64"),
            Err(IpPoolError::OutsideCgnat(_))
        ));
        assert!(matches!(
            pool("100.100.100.100/32"),
            Err(IpPoolError::Reserved(_))
        ));
        assert!(matches!(
            pool("100.115.93.0/24"),
            Err(IpPoolError::Reserved(_))
        ));
        assert!(
            pool("100.100.100.0/24")
                .unwrap_err()
                .to_string()
                .starts_with("IPPool(100.100.100.0/24): network within reserved range")
        );
    }
}
