//! `svc:` destinations. A Tailscale Service's address is assigned by the control server and
//! its hosts by approval, neither of which a policy file holds, so a query to a service is
//! answered from the rules that name it: allowed when one of them covers the source, port
//! and protocol, on condition that a host of the service is approved.

use std::net::IpAddr;

use crate::compile::{Compiled, Origin, Section};
use crate::ports::{PortRange, parse_acl_destination};
use crate::proto::{DEFAULT_PROTOCOLS, Protocol, parse_grant_ip, parse_protocol};
use crate::text::Trimmed;

use super::Condition;

/// The rules that let `src` reach service `name` on `port` over `protocol`, in policy order.
pub(crate) fn service_matches(
    compiled: &Compiled<'_>,
    src: IpAddr,
    name: &str,
    port: u16,
    protocol: Protocol,
) -> Vec<Origin> {
    let policy = compiled.resolver.policy;
    let is_service = |text: &str| text.trimmed().eq_ignore_ascii_case(name);
    // The rule's sources, as compiled (the same addresses every other answer uses).
    let src_ok = |section: Section, index: usize| {
        compiled.pieces.iter().any(|p| {
            p.origin.section == section
                && p.origin.index == index
                && p.src.iter().any(|a| a.contains(src))
        })
    };
    let admits = |proto: Option<Protocol>, ports: &[PortRange]| {
        let number = protocol.number();
        let icmp = number == 1 || number == 58;
        let protocols: Vec<u8> = proto.map_or(DEFAULT_PROTOCOLS.to_vec(), |p| vec![p.number()]);
        (icmp || protocols.contains(&number))
            && ports.iter().any(|r| {
                icmp || if protocol.supports_ports() {
                    r.contains(port)
                } else {
                    r.is_all()
                }
            })
    };
    let mut out = Vec::new();
    for (index, rule) in policy.acls.iter().flat_map(|l| l.iter()).enumerate() {
        let proto = match &rule.proto {
            Some(p) if !p.value.trimmed().is_empty() => parse_protocol(p.value.trimmed()).ok(),
            _ => None,
        };
        let covered = rule.dst.iter().any(|d| {
            parse_acl_destination(d.value.trimmed())
                .is_ok_and(|dst| is_service(&dst.alias) && admits(proto, &dst.ports))
        });
        if covered && src_ok(Section::Acls, index) {
            out.push(Origin {
                section: Section::Acls,
                index,
                span: rule.span,
            });
        }
    }
    for (index, grant) in policy.grants.iter().flat_map(|l| l.iter()).enumerate() {
        let names = grant.dst.iter().any(|d| is_service(&d.value));
        let covered = names
            && grant.ip.iter().flat_map(|l| l.iter()).any(|entry| {
                parse_grant_ip(entry.value.trimmed()).is_ok_and(|ip| admits(ip.proto, &ip.ports))
            });
        if covered && src_ok(Section::Grants, index) {
            out.push(Origin {
                section: Section::Grants,
                index,
                span: grant.span,
            });
        }
    }
    super::sort_origins(&mut out);
    out
}

/// What a service answer holds on: an approved host of the service.
pub(crate) fn service_condition(compiled: &Compiled<'_>, name: &str) -> Condition {
    let approvers: Vec<String> = compiled
        .resolver
        .policy
        .auto_approvers
        .services
        .iter()
        .filter(|e| e.name.value.trimmed().eq_ignore_ascii_case(name))
        .flat_map(|e| e.values.iter().map(|v| format!("`{}`", v.value.trimmed())))
        .collect();
    let who = if approvers.is_empty() {
        "no `autoApprovers.services` entry approves one, so an admin must".to_owned()
    } else {
        format!(
            "`autoApprovers` approves hosts of {}",
            approvers.join(" or ")
        )
    };
    Condition {
        kind: "service",
        text: format!("a host of `{name}` is approved; {who}"),
    }
}
