//! `tailpolicy compile POLICY --inventory FILE [--node NAME]`: the packet filter and peers
//! Tailscale would send each node, in the shape of the conformance corpus `expect`.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;
use tailpolicy::compile::{Compiled, FilterRule};

use super::policy::load;
use crate::CompileArgs;
use crate::exit::ExitStatus;

#[derive(Serialize)]
struct Output {
    nodes: BTreeMap<String, NodeOutput>,
}

#[derive(Serialize)]
struct NodeOutput {
    filter: Vec<FilterRule>,
    /// Visible peers and the extra AllowedIPs (routes) the node gets for each.
    peers: BTreeMap<String, Vec<String>>,
}

pub fn run(
    args: &CompileArgs,
    out: &mut impl Write,
    err: &mut impl Write,
) -> io::Result<ExitStatus> {
    let loaded = match load(&args.policy, Some(&args.inventory), err)? {
        Ok(loaded) => loaded,
        Err(status) => return Ok(status),
    };
    let inventory = loaded.inventory.clone().unwrap_or_default();
    if let Some(name) = &args.node
        && inventory.node(name).is_none()
    {
        writeln!(err, "error: the inventory has no node `{name}`")?;
        return Ok(ExitStatus::Failure);
    }
    let compiled = Compiled::new(&loaded.policy, &inventory);
    let peer_map = compiled.peer_map();
    let mut nodes = BTreeMap::new();
    for (index, node) in compiled.resolver.nodes.iter().enumerate() {
        if args.node.as_ref().is_some_and(|n| *n != node.name) {
            continue;
        }
        let filter = compiled
            .node_rules(index)
            .iter()
            .map(|r| r.to_wire())
            .collect();
        let peers = peer_map
            .get(index)
            .map(|peers| {
                peers
                    .iter()
                    .map(|p| {
                        (
                            p.name.clone(),
                            p.routes.iter().map(ToString::to_string).collect(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        nodes.insert(node.name.clone(), NodeOutput { filter, peers });
    }
    serde_json::to_writer_pretty(&mut *out, &Output { nodes })?;
    writeln!(out)?;
    Ok(ExitStatus::Success)
}
