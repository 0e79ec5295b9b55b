//! `svc:` destinations. A Tailscale Service's address is assigned by the control server and
//! its hosts by approval, neither of which a policy file holds, so a query to a service is
//! answered from the rules that name it: allowed when one of them covers the source, port
//! and protocol, on condition that a host of the service is approved. When the inventory
//! has the service (the API's `vip-services`), the answer gives its address, and a port it
//! does not serve is denied.

use std::net::IpAddr;

use crate::compile::{Compiled, Origin, Section};
use crate::inventory::{Inventory, Service};
use crate::ports::{PortRange, parse_acl_destination};
use crate::proto::{Protocol, parse_grant_ip, parse_protocol};
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
    let admits =
        |proto: Option<Protocol>, ports: &[PortRange]| admits(proto, ports, port, protocol);
    let mut out = Vec::new();
    for (index, rule) in crate::text::items(&policy.acls).iter().enumerate() {
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
    for (index, grant) in crate::text::items(&policy.grants).iter().enumerate() {
        let names = grant.dst.iter().any(|d| is_service(&d.value));
        let covered = names
            && crate::text::items(&grant.ip).iter().any(|entry| {
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

/// The inventory's entry for service `name` (from the API's `vip-services`), if any.
pub(crate) fn known<'i>(inventory: &'i Inventory, name: &str) -> Option<&'i Service> {
    inventory
        .services
        .iter()
        .find(|s| s.name.trimmed().eq_ignore_ascii_case(name))
}

/// Does the service listen on `port` over `protocol`? Its ports are written as the API
/// writes them (`tcp:443`, `udp:53`, `tcp:8000-8010`), the grant `ip` syntax. No ports,
/// or one we cannot read, count as serving: a denial must not rest on a guess.
pub(crate) fn serves(service: &Service, port: u16, protocol: Protocol) -> bool {
    service.ports.is_empty()
        || service
            .ports
            .iter()
            .any(|text| match parse_grant_ip(text.trimmed()) {
                Ok(ip) => admits(ip.proto, &ip.ports, port, protocol),
                Err(_) => true,
            })
}

/// Does an entry with protocol `proto` (`None`: TCP, UDP and ICMP) and `ports` admit the
/// packet? ICMP needs no port.
fn admits(proto: Option<Protocol>, ports: &[PortRange], port: u16, protocol: Protocol) -> bool {
    let one = proto.map(|p| [p.number()]);
    let protocols = one.as_ref().map(<[u8; 1]>::as_slice);
    for range in ports {
        if super::port_admits(protocols, range, port, protocol) {
            return true;
        }
    }
    false
}

/// What a service answer holds on: an approved host of the service (and, when the
/// inventory does not list the service, its address and ports, which only the API has).
pub(crate) fn service_condition(compiled: &Compiled<'_>, name: &str, known: bool) -> Condition {
    let mut approvers: Vec<String> = Vec::new();
    for entry in compiled.resolver.policy.auto_approvers.services.iter() {
        if entry.name.value.trimmed().eq_ignore_ascii_case(name) {
            for v in entry.values.iter() {
                approvers.push(format!("`{}`", v.value.trimmed()));
            }
        }
    }
    let who = if approvers.is_empty() {
        "no `autoApprovers.services` entry approves one, so an admin must".to_owned()
    } else {
        format!(
            "`autoApprovers` approves hosts of {}",
            approvers.join(" or ")
        )
    };
    let unknown = if known {
        ""
    } else {
        "; its address and ports come from the Tailscale API (`vip-services`), which the inventory does not include"
    };
    Condition {
        kind: "service",
        text: format!("a host of `{name}` is approved; {who}{unknown}"),
    }
}

#[cfg(test)]
mod tests {
    use crate::inventory::{Inventory, Node, Service, User};
    use crate::query::Simulator;

    const POLICY: &str = r#"{
        "grants": [{"src": ["alice@example.com"], "dst": ["svc:grafana"], "ip": ["tcp:80", "tcp:443"]}],
        "acls": [{"action": "accept", "src": ["alice@example.com"], "dst": ["tag:db:5432"]}],
        "tagOwners": {"tag:db": ["alice@example.com"]},
    }"#;

    fn inventory() -> Inventory {
        let mut laptop = Node::named("alice-laptop".to_owned());
        laptop.ipv4 = Some("100.64.0.1".parse().unwrap());
        // The owner written as the user's numeric ID, as the API and `tailscale status` do.
        laptop.user = Some("4242".to_owned());
        let mut db = Node::named("db".to_owned());
        db.ipv4 = Some("100.64.0.2".parse().unwrap());
        db.tags = vec!["tag:db".to_owned()];
        Inventory {
            users: vec![User {
                id: 4242,
                name: "alice".to_owned(),
                email: Some("alice@example.com".to_owned()),
                roles: Vec::new(),
                shared: false,
            }],
            nodes: vec![laptop, db],
            ..Inventory::default()
        }
    }

    fn policy() -> crate::model::Policy {
        crate::api::parse_valid(POLICY, &crate::api::CheckOptions::default())
            .unwrap_or_else(|_| panic!("valid policy"))
    }

    #[test]
    fn a_service_in_the_inventory_gives_its_address_and_its_ports_decide() {
        let policy = policy();
        let mut inventory = inventory();
        inventory.services.push(Service {
            name: "svc:grafana".to_owned(),
            addrs: vec![
                "fd7a:115c:a1e0::1:1".parse().unwrap(),
                "100.100.0.1".parse().unwrap(),
            ],
            ports: vec!["tcp:443".to_owned()],
            tags: Vec::new(),
        });
        let simulator = Simulator::new(&policy, Some(&inventory));
        let served = simulator
            .query("alice@example.com", "svc:grafana:443", None)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(served.allowed, "{}", served.explanation);
        assert_eq!(served.dst_addr, "100.100.0.1");
        assert_eq!(
            served.src_addr, "100.64.0.1",
            "alice's own laptop, found by ID"
        );
        assert!(!served.src_hypothetical);
        assert!(!served.explanation.contains("vip-services"));
        // The grant allows port 80, but the service does not listen there.
        let unserved = simulator
            .query("alice@example.com", "svc:grafana:80", None)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(!unserved.allowed);
        assert_eq!(
            unserved.explanation,
            "denied: `svc:grafana` does not serve tcp port 80 (its ports in the inventory: tcp:443)"
        );
    }

    #[test]
    fn without_the_service_in_the_inventory_the_answer_says_what_it_depends_on() {
        let policy = policy();
        let inventory = inventory();
        let simulator = Simulator::new(&policy, Some(&inventory));
        let answer = simulator
            .query("alice@example.com", "svc:grafana:80", None)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(answer.allowed);
        assert_eq!(answer.dst_addr, "svc:grafana");
        assert!(
            answer
                .conditions
                .iter()
                .any(|c| c.kind == "service" && c.text.contains("`vip-services`")),
            "{:?}",
            answer.conditions
        );
    }

    #[test]
    fn a_node_owned_by_user_id_is_that_users_device() {
        let policy = policy();
        let inventory = inventory();
        let simulator = Simulator::new(&policy, Some(&inventory));
        let answer = simulator
            .query("alice@example.com", "db:5432", None)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(answer.allowed, "{}", answer.explanation);
        assert_eq!(answer.src_addr, "100.64.0.1");
        assert!(!answer.src_hypothetical);
        // The compiled rules see the node as alice's too.
        let compiled = crate::compile::Compiled::new(&policy, &inventory);
        let laptop = compiled
            .resolver
            .nodes
            .first()
            .and_then(|n| n.login.clone());
        assert_eq!(laptop.as_deref(), Some("alice@example.com"));
    }
}
