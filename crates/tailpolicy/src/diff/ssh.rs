//! SSH rows: who may open a session to which node as which login, and whether it is
//! accepted or checked, per (source node, destination node, login) on both policies' compiled
//! SSH rules (first match, check rules first, as `Compiled::ssh_decision`).

use super::SshRow;
use crate::compile::{Compiled, SshOrigin, SshRuleOut, SshVerdict};
use crate::fasthash::FastMap as HashMap;

/// How much a verdict allows.
fn rank(verdict: SshVerdict) -> u8 {
    match verdict {
        SshVerdict::Deny => 0,
        SshVerdict::Check => 1,
        SshVerdict::Accept => 2,
    }
}

type Decision = (SshVerdict, Option<String>, Option<SshOrigin>);

fn decide(rules: &[SshRuleOut], src: usize, login: &str) -> Decision {
    for rule in rules {
        if !rule.sources.contains(&src) {
            continue;
        }
        if let Some(local) = rule.wire.local_user(login) {
            let verdict = if rule.is_check() {
                SshVerdict::Check
            } else {
                SshVerdict::Accept
            };
            return (verdict, Some(local), Some(rule.origin));
        }
    }
    (SshVerdict::Deny, None, None)
}

fn identity(node: &crate::resolve::NodeInfo) -> String {
    if node.is_tagged() {
        node.tags.join(",")
    } else {
        node.login.clone().unwrap_or_else(|| node.name.clone())
    }
}

/// (added, removed) SSH rows: wider verdicts (deny → check → accept) or a new local user are
/// added, narrower ones removed.
pub fn ssh_changes(old: &Compiled<'_>, new: &Compiled<'_>) -> (Vec<SshRow>, Vec<SshRow>) {
    let nodes = &new.resolver.nodes;
    let mut added: Vec<SshRow> = Vec::new();
    let mut removed: Vec<SshRow> = Vec::new();
    for (dst, dst_node) in nodes.iter().enumerate() {
        let (old_rules, new_rules) = (old.ssh_rules(dst), new.ssh_rules(dst));
        if old_rules.is_empty() && new_rules.is_empty() {
            continue;
        }
        let same = old_rules.len() == new_rules.len()
            && old_rules
                .iter()
                .zip(&new_rules)
                .all(|(a, b)| a.sources == b.sources && a.wire == b.wire);
        if same {
            continue;
        }
        let mut logins: Vec<String> = old_rules
            .iter()
            .chain(&new_rules)
            .flat_map(|r| r.wire.ssh_users.iter().map(|(login, _)| login.clone()))
            .collect();
        logins.sort();
        logins.dedup();
        let mut sources: Vec<usize> = old_rules
            .iter()
            .chain(&new_rules)
            .flat_map(|r| r.sources.iter().copied())
            .collect();
        sources.sort_unstable();
        sources.dedup();
        for &src in &sources {
            let Some(src_node) = nodes.get(src) else {
                continue;
            };
            for login in &logins {
                let was = decide(&old_rules, src, login);
                let is = decide(&new_rules, src, login);
                if (was.0, &was.1) == (is.0, &is.1) {
                    continue;
                }
                let row = SshRow {
                    src: identity(src_node),
                    dst: identity(dst_node),
                    src_nodes: vec![src_node.name.clone()],
                    dst_nodes: vec![dst_node.name.clone()],
                    login: login.clone(),
                    old: was.0,
                    new: is.0,
                    old_user: was.1,
                    new_user: is.1,
                    old_rule: was.2,
                    new_rule: is.2,
                };
                let list = if rank(is.0) >= rank(was.0) {
                    &mut added
                } else {
                    &mut removed
                };
                list.push(row);
            }
        }
    }
    // Rows alike but for the nodes are one row, joined one dimension at a time so that every
    // source node with every destination node changed.
    let join = |rows: Vec<SshRow>| merge(merge(rows, false), true);
    (join(added), join(removed))
}

/// Joins rows that agree on everything but their source nodes (`by_src`) or their
/// destination nodes.
fn merge(rows: Vec<SshRow>, by_src: bool) -> Vec<SshRow> {
    let mut out: Vec<SshRow> = Vec::with_capacity(rows.len());
    let mut at: HashMap<SshRow, usize> = HashMap::default();
    for row in rows {
        let mut key = row.clone();
        if by_src {
            key.src_nodes.clear();
        } else {
            key.dst_nodes.clear();
        }
        match at.get(&key).and_then(|&i| out.get_mut(i)) {
            Some(existing) => {
                let (into, from) = if by_src {
                    (&mut existing.src_nodes, row.src_nodes)
                } else {
                    (&mut existing.dst_nodes, row.dst_nodes)
                };
                for name in from {
                    if !into.contains(&name) {
                        into.push(name);
                    }
                }
            }
            None => {
                at.insert(key, out.len());
                out.push(row);
            }
        }
    }
    out
}
