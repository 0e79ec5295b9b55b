//! `tailpolicy inventory convert FILE... [--format json]`: any supported shape (the project's
//! own, `tailscale status --json`, `tailscale debug netmap`, Tailscale API devices, users and
//! VIP services, headscale `nodes list` / `users list -o json`) read, merged, and written as
//! the project's own inventory.

use std::io::{self, Write};

use serde_json::Value;
use tailpolicy::Inventory;

use crate::exit::ExitStatus;
use crate::input::inventory::load_inventories;
use crate::input::use_color;
use crate::render::{HumanRenderer, write_human_diagnostics};
use crate::{ConvertArgs, InventoryAction, InventoryCommand};

pub fn run(
    command: &InventoryCommand,
    out: &mut impl Write,
    err: &mut impl Write,
) -> io::Result<ExitStatus> {
    match &command.action {
        InventoryAction::Convert(args) => convert(args, out, err),
    }
}

fn convert(
    args: &ConvertArgs,
    out: &mut impl Write,
    err: &mut impl Write,
) -> io::Result<ExitStatus> {
    let inventory = match load_inventories(&args.files, &args.assume_node, false, err) {
        Ok(inventory) => inventory.unwrap_or_default(),
        Err(failure) => {
            write_human_diagnostics(
                &HumanRenderer::new(use_color(&io::stderr())),
                std::slice::from_ref(&failure),
                err,
            )?;
            return Ok(ExitStatus::Failure);
        }
    };
    serde_json::to_writer_pretty(&mut *out, &to_json(&inventory))?;
    writeln!(out)?;
    Ok(ExitStatus::Success)
}

/// The inventory in the project's own JSON shape (the core's writer, which the review WASM
/// module's `convertInventory` uses too).
pub(crate) fn to_json(inventory: &Inventory) -> Value {
    inventory.to_json()
}
