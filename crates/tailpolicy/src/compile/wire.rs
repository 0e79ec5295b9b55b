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
    FilterRule {
        src_ips: rule.src.iter().map(Addr::wire).collect(),
        dst_ports: rule
            .dsts
            .iter()
            .map(|(addr, ports)| NetPortRange {
                ip: addr.wire(),
                ports: WirePorts {
                    first: ports.first,
                    last: ports.last,
                },
            })
            .collect(),
        ip_proto: rule.protocols.clone(),
        cap_grant: rule.cap.as_ref().map(|(dsts, cap_map)| {
            vec![CapGrant {
                // Capability destinations are always written as prefixes, `/32` included.
                dsts: dsts.iter().map(prefix_form).collect(),
                // Later entries of a repeated name win, at the first one's place.
                cap_map: cap_map
                    .iter()
                    .map(|(name, value)| (name.clone(), value.to_json()))
                    .collect(),
            }]
        }),
    }
}

fn prefix_form(addr: &Addr) -> String {
    match addr {
        Addr::Net(net) => net.to_string(),
        other => other.wire(),
    }
}
