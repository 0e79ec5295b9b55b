//! `tailpolicy compile POLICY --inventory FILE [--node NAME]`: the packet filter and peers
//! Tailscale would send each node, in the shape of the conformance corpus `expect`.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;
use tailpolicy::NodeOutput;

use super::policy::load;
use crate::CompileArgs;
use crate::exit::ExitStatus;

#[derive(Serialize)]
struct Output {
    nodes: BTreeMap<String, NodeOutput>,
}

pub fn run(
    args: &CompileArgs,
    out: &mut impl Write,
    err: &mut impl Write,
) -> io::Result<ExitStatus> {
    let loaded = match load(&args.policy, &args.inventory, &args.assume_node, err)? {
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
    let mut nodes = tailpolicy::compile(&loaded.policy, &inventory);
    if let Some(name) = &args.node {
        nodes.retain(|n, _| n == name);
    }
    serde_json::to_writer_pretty(&mut *out, &Output { nodes })?;
    writeln!(out)?;
    Ok(ExitStatus::Success)
}
