//! `tailpolicy compile POLICY --inventory FILE [--node NAME]...`: the packet filter and peers
//! Tailscale would send each node, in the shape of the conformance corpus `expect`.
//!
//! The whole tailnet is written one node at a time as it is compiled, so memory holds one
//! node's output, not the tailnet's; `--node` compiles only the nodes asked for.

use std::io::{self, Write};

use tailpolicy::NodeOutput;

use crate::CompileArgs;
use crate::exit::ExitStatus;
use crate::input::policy::{Loaded, load};

pub fn run(
    args: &CompileArgs,
    out: &mut impl Write,
    err: &mut impl Write,
) -> io::Result<ExitStatus> {
    let loaded = match load(&args.policy, &args.inventory, &args.assume_node, err)? {
        Ok(loaded) => loaded,
        Err(status) => return Ok(status),
    };
    // The policy's text is not needed past validation: dropped before compiling, and the
    // inventory moved rather than copied (peak memory is the loaded input).
    let Loaded {
        policy, inventory, ..
    } = loaded;
    let inventory = inventory.unwrap_or_default();
    if let Some(name) = args.node.iter().find(|n| inventory.node(n).is_none()) {
        writeln!(err, "error: the inventory has no node `{name}`")?;
        return Ok(ExitStatus::Failure);
    }
    let mut writer = NodesWriter::new(out);
    if args.node.is_empty() {
        let mut result = Ok(());
        tailpolicy::compile_each(&policy, &inventory, |name, output| {
            if result.is_ok() {
                result = writer.node(name, &output);
            }
        });
        result?;
    } else {
        // In name order, each once, as in the whole-tailnet output.
        let mut names: Vec<&str> = args.node.iter().map(String::as_str).collect();
        names.sort_unstable();
        names.dedup();
        for (name, output) in tailpolicy::compile_nodes(&policy, &inventory, &names) {
            if let Some(output) = output {
                writer.node(&name, &output)?;
            }
        }
    }
    writer.finish()?;
    Ok(ExitStatus::Success)
}

/// Writes `{"nodes": {NAME: OUTPUT, ...}}` as `serde_json::to_writer_pretty` would write the
/// whole map, one node at a time.
struct NodesWriter<'w, W: Write> {
    out: &'w mut W,
    written: usize,
}

impl<'w, W: Write> NodesWriter<'w, W> {
    fn new(out: &'w mut W) -> Self {
        NodesWriter { out, written: 0 }
    }

    fn node(&mut self, name: &str, output: &NodeOutput) -> io::Result<()> {
        let opening = if self.written == 0 {
            "{\n  \"nodes\": {\n"
        } else {
            ",\n"
        };
        self.out.write_all(opening.as_bytes())?;
        self.out.write_all(b"    ")?;
        serde_json::to_writer(&mut *self.out, name)?;
        self.out.write_all(b": ")?;
        // Strings never hold a raw newline (JSON escapes it), so indenting every line after
        // the first by two levels gives the nested pretty form.
        let text = serde_json::to_string_pretty(output)?;
        let mut lines = text.split('\n');
        if let Some(first) = lines.next() {
            self.out.write_all(first.as_bytes())?;
        }
        for line in lines {
            self.out.write_all(b"\n    ")?;
            self.out.write_all(line.as_bytes())?;
        }
        self.written += 1;
        Ok(())
    }

    fn finish(self) -> io::Result<()> {
        let closing = if self.written == 0 {
            "{\n  \"nodes\": {}\n}\n"
        } else {
            "\n  }\n}\n"
        };
        self.out.write_all(closing.as_bytes())?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    /// The streamed output is byte for byte what serializing the whole map gives.
    #[test]
    fn streamed_output_equals_the_pretty_map() {
        #[derive(serde::Serialize)]
        struct Output {
            nodes: BTreeMap<String, NodeOutput>,
        }
        let text = r#"{
          "tagOwners": {"tag:ci": [], "tag:db": []},
          "acls": [{"action": "accept", "src": ["tag:ci"], "dst": ["tag:db:5432"]}],
          "grants": [{"src": ["*"], "dst": ["tag:db"], "app": {"example.com/cap/x": [{"a": "b\nc"}]}}]
        }"#;
        let inventory = tailpolicy::Inventory::parse(
            r#"{"nodes": [
              {"name": "runner", "ipv4": "100.64.0.1", "tags": ["tag:ci"]},
              {"name": "db", "ipv4": "100.64.0.2", "tags": ["tag:db"]}
            ]}"#,
        )
        .unwrap();
        let policy = tailpolicy::parse_valid(text, &Default::default()).unwrap();
        for nodes in [tailpolicy::compile(&policy, &inventory), BTreeMap::new()] {
            let expected = serde_json::to_string_pretty(&Output {
                nodes: nodes.clone(),
            })
            .unwrap()
                + "\n";
            let mut streamed = Vec::new();
            let mut writer = NodesWriter::new(&mut streamed);
            for (name, output) in &nodes {
                writer.node(name, output).unwrap();
            }
            writer.finish().unwrap();
            assert_eq!(String::from_utf8(streamed).unwrap(), expected);
        }
    }
}
