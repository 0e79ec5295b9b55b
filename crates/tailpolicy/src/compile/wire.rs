//! `tailcfg.FilterRule` wire JSON.

use serde::{Deserialize, Serialize};

use super::NodeRule;
use crate::resolve::Addr;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FilterRule {
    #[serde(rename = "SrcIPs", default)]
    pub src_ips: Vec<String>,
    #[serde(rename = "DstPorts", default, skip_serializing_if = "Vec::is_empty")]
    pub dst_ports: Vec<NetPortRange>,
    #[serde(rename = "IPProto", default, skip_serializing_if = "Option::is_none")]
    pub ip_proto: Option<Vec<u8>>,
    #[serde(rename = "CapGrant", default, skip_serializing_if = "Option::is_none")]
    pub cap_grant: Option<Vec<CapGrant>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetPortRange {
    #[serde(rename = "IP")]
    pub ip: String,
    #[serde(rename = "Ports")]
    pub ports: WirePorts,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WirePorts {
    #[serde(rename = "First")]
    pub first: u16,
    #[serde(rename = "Last")]
    pub last: u16,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapGrant {
    #[serde(rename = "Dsts")]
    pub dsts: Vec<String>,
    #[serde(rename = "CapMap")]
    pub cap_map: serde_json::Map<String, serde_json::Value>,
}

pub(super) fn to_wire(rule: &NodeRule) -> FilterRule {
    let mut src_ips = Vec::with_capacity(rule.src.len());
    for addr in rule.src.iter() {
        src_ips.push(addr.wire());
    }
    let mut dst_ports = Vec::with_capacity(rule.dsts.len());
    for (addr, ports) in &rule.dsts {
        dst_ports.push(NetPortRange {
            ip: addr.wire(),
            ports: WirePorts {
                first: ports.first,
                last: ports.last,
            },
        });
    }
    let cap_grant = rule.cap.as_ref().map(|(dsts, cap_map)| {
        // Capability destinations are always written as prefixes, `/32` included.
        let mut prefixes = Vec::with_capacity(dsts.len());
        for addr in dsts.iter() {
            prefixes.push(prefix_form(addr));
        }
        // Later entries of a repeated name win, at the first one's place.
        let mut map = serde_json::Map::new();
        for (name, value) in cap_map.iter() {
            map.insert(name.clone(), value.to_json());
        }
        vec![CapGrant {
            dsts: prefixes,
            cap_map: map,
        }]
    });
    FilterRule {
        src_ips,
        dst_ports,
        ip_proto: rule.protocols.clone(),
        cap_grant,
    }
}

fn prefix_form(addr: &Addr) -> String {
    match addr {
        Addr::Net(net) => net.to_string(),
        other => other.wire(),
    }
}
