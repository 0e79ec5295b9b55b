//! The JSON of a [`Diff`] (docs/diff.md): what `tailpolicy diff --format json` writes and the
//! review WASM module's `diff` returns, one type for both. Positions are 1-based, columns in
//! the encoding asked (the CLI counts chars, the browser UTF-16 units).

use serde::Serialize;

use super::{Diff, Row};
use crate::compile::{Origin, SshOrigin, SshVerdict};
use crate::span::{LineIndex, PositionEncoding, Span};

/// Both sides' names and line indexes, for rule references.
pub struct Sides<'a> {
    pub old_name: &'a str,
    pub new_name: &'a str,
    pub old: LineIndex<'a>,
    pub new: LineIndex<'a>,
    pub encoding: PositionEncoding,
}

impl Sides<'_> {
    fn position(&self, old: bool, span: Span) -> (u32, u32) {
        let index = if old { &self.old } else { &self.new };
        let p = index.position(span.start, self.encoding);
        (p.line, p.column)
    }

    /// The reference to a network rule on one side.
    pub fn rule(&self, old: bool, origin: &Origin) -> DiffRule {
        let (line, column) = self.position(old, origin.span);
        DiffRule {
            section: origin.section.name(),
            index: origin.index,
            label: origin.label(),
            line,
            column,
        }
    }

    /// The reference to an SSH rule on one side.
    pub fn ssh_rule(&self, old: bool, origin: Option<SshOrigin>) -> Option<DiffRule> {
        origin.map(|o| {
            let (line, column) = self.position(old, o.span);
            DiffRule {
                section: "ssh",
                index: o.index,
                label: format!("ssh[{}]", o.index),
                line,
                column,
            }
        })
    }

    /// A position on one side.
    pub fn at(&self, old: bool, span: Option<Span>) -> Option<At> {
        span.map(|span| {
            let (line, column) = self.position(old, span);
            At { line, column }
        })
    }
}

/// A rule of one side: `acls[2]` at its line and column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct DiffRule {
    #[cfg_attr(test, ts(type = "\"acls\" | \"grants\" | \"ssh\""))]
    pub section: &'static str,
    pub index: usize,
    pub label: String,
    pub line: u32,
    pub column: u32,
}

/// A position on one side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename = "DiffAt"))]
pub struct At {
    pub line: u32,
    pub column: u32,
}

/// `tailpolicy diff --format json`: the rows the change adds and removes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename = "DiffResult"))]
pub struct DiffOutput<'a> {
    pub old: &'a str,
    pub new: &'a str,
    pub unchanged: bool,
    /// Compared over hypothetical devices (no inventory).
    pub symbolic: bool,
    pub added: Vec<DiffRow>,
    pub removed: Vec<DiffRow>,
}

impl<'a> DiffOutput<'a> {
    pub fn new(sides: &Sides<'a>, diff: &Diff) -> Self {
        Self {
            old: sides.old_name,
            new: sides.new_name,
            unchanged: diff.unchanged(),
            symbolic: diff.symbolic,
            added: diff.added.iter().map(|r| DiffRow::new(sides, r)).collect(),
            removed: diff
                .removed
                .iter()
                .map(|r| DiffRow::new(sides, r))
                .collect(),
        }
    }
}

/// One row: `kind` says which.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum DiffRow {
    Network {
        src: Vec<String>,
        dst: Vec<String>,
        src_ips: Vec<String>,
        dst_ips: Vec<String>,
        protos: Vec<u8>,
        ports: Vec<String>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        #[cfg_attr(test, ts(optional, as = "Option<Vec<String>>"))]
        via: Vec<String>,
        old_rules: Vec<DiffRule>,
        new_rules: Vec<DiffRule>,
        example: Example,
    },
    Ssh {
        src: String,
        dst: String,
        src_nodes: Vec<String>,
        dst_nodes: Vec<String>,
        login: String,
        #[cfg_attr(test, ts(type = "\"accept\" | \"check\" | \"deny\""))]
        old: SshVerdict,
        #[cfg_attr(test, ts(type = "\"accept\" | \"check\" | \"deny\""))]
        new: SshVerdict,
        old_user: Option<String>,
        new_user: Option<String>,
        old_rule: Option<DiffRule>,
        new_rule: Option<DiffRule>,
    },
    Capability {
        src: Vec<String>,
        dst: Vec<String>,
        src_ips: Vec<String>,
        dst_ips: Vec<String>,
        dst_nodes: Vec<String>,
        capability: String,
        /// The JSON values gained or lost.
        #[cfg_attr(test, ts(type = "Array<unknown>"))]
        values: Vec<serde_json::Value>,
        /// The capability itself is gained or lost, not only some values.
        whole: bool,
        old_rules: Vec<DiffRule>,
        new_rules: Vec<DiffRule>,
    },
    Owner {
        #[cfg_attr(test, ts(type = "string"))]
        section: &'static str,
        target: String,
        who: Vec<String>,
        old_at: Option<At>,
        new_at: Option<At>,
    },
}

/// One flow of a network row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename = "DiffExample"))]
pub struct Example {
    pub src_ip: String,
    pub dst_ip: String,
    pub proto: u8,
    pub port: u16,
}

impl DiffRow {
    pub fn new(sides: &Sides<'_>, row: &Row) -> Self {
        match row {
            Row::Network(r) => Self::Network {
                src: r.src.clone(),
                dst: r.dst.clone(),
                src_ips: r.src_ips.to_wire_strings(),
                dst_ips: r.dst_ips.to_wire_strings(),
                protos: r.protos.clone(),
                ports: r.ports.iter().map(ToString::to_string).collect(),
                via: r.via.clone(),
                old_rules: r.old_rules.iter().map(|o| sides.rule(true, o)).collect(),
                new_rules: r.new_rules.iter().map(|o| sides.rule(false, o)).collect(),
                example: Example {
                    src_ip: r.example.src_ip.to_string(),
                    dst_ip: r.example.dst_ip.to_string(),
                    proto: r.example.proto,
                    port: r.example.port,
                },
            },
            Row::Ssh(r) => Self::Ssh {
                src: r.src.clone(),
                dst: r.dst.clone(),
                src_nodes: r.src_nodes.clone(),
                dst_nodes: r.dst_nodes.clone(),
                login: r.login.clone(),
                old: r.old,
                new: r.new,
                old_user: r.old_user.clone(),
                new_user: r.new_user.clone(),
                old_rule: sides.ssh_rule(true, r.old_rule),
                new_rule: sides.ssh_rule(false, r.new_rule),
            },
            Row::Capability(r) => Self::Capability {
                src: r.src.clone(),
                dst: r.dst.clone(),
                src_ips: r.src_ips.to_wire_strings(),
                dst_ips: r.dst_ips.to_wire_strings(),
                dst_nodes: r.dst_nodes.clone(),
                capability: r.capability.clone(),
                values: r.values.clone(),
                whole: r.whole,
                old_rules: r.old_rules.iter().map(|o| sides.rule(true, o)).collect(),
                new_rules: r.new_rules.iter().map(|o| sides.rule(false, o)).collect(),
            },
            Row::Owner(r) => Self::Owner {
                section: r.section,
                target: r.target.clone(),
                who: r.who.clone(),
                old_at: sides.at(true, r.old_span),
                new_at: sides.at(false, r.new_span),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use ts_rs::{Config, TS};

    use super::*;

    /// The declarations of the diff output, in dependency order (the review module's
    /// `wasm/review/types.d.ts` includes them).
    fn declarations() -> Vec<String> {
        let cfg = Config::new();
        vec![
            DiffRule::decl(&cfg),
            At::decl(&cfg),
            Example::decl(&cfg),
            DiffRow::decl(&cfg),
            DiffOutput::decl(&cfg),
        ]
    }

    /// `wasm/review/types.d.ts` is what the types say; `UPDATE_TYPES=1` rewrites it.
    #[test]
    fn typescript_declarations_are_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../wasm/review/types.d.ts");
        let mut generated = String::from(
            "// Generated from crates/tailpolicy/src/diff/output.rs by the test\n\
             // `diff::output::tests::typescript_declarations_are_current`; do not edit.\n",
        );
        for decl in declarations() {
            generated.push_str("\nexport ");
            generated.push_str(&decl);
            generated.push('\n');
        }
        if std::env::var_os("UPDATE_TYPES").is_some() {
            std::fs::write(path, &generated).unwrap();
        }
        let current = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            current == generated,
            "wasm/review/types.d.ts is stale: run `UPDATE_TYPES=1 cargo test -p tailpolicy --lib \
             diff::output`\n{generated}"
        );
    }
}
