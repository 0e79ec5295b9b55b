use crate::addr::IpSet;
use crate::compile::{Compiled, Origin, PieceKind, Section};
use crate::lint::RuleContext;
use crate::lint::registry::declare_rule;
use crate::proto::DEFAULT_PROTOCOLS;
use crate::query::with_identities;
use crate::resolve::Addr;
use crate::span::Span;
use crate::text::Trimmed;

declare_rule! {
    /// ### What it does
    /// Flags an ACL or grant that adds no access: every source, destination, port and
    /// protocol it allows is already allowed by the other rules together. The finding
    /// names the rules that cover it.
    ///
    /// The comparison is on address, port and protocol sets. Identities are compared
    /// through one stand-in device per tag and per named user (plus one unnamed member), so
    /// `tag:ci` is covered by `autogroup:tagged` and a user by a group that holds them.
    /// Rules with `autogroup:self`, `via` or `app` are neither flagged nor counted as cover.
    /// Policies with more than 400 ACLs and grants are not analysed (the comparison grows
    /// with the square of the number of rules).
    ///
    /// ### Why is this bad
    /// Access policies are read by people deciding who can reach production. A rule that
    /// changes nothing suggests access that is not really there to remove: deleting it
    /// "to lock down the database" does nothing while the broader rule stays. Redundant
    /// rules also hide the real source of access from reviewers.
    ///
    /// ### Example
    /// ```jsonc
    /// "acls": [
    ///   {"action": "accept", "src": ["autogroup:tagged"], "dst": ["tag:db:5432"]},
    ///   {"action": "accept", "src": ["tag:ci"], "dst": ["tag:db:5432"]},
    /// ],
    /// ```
    ///
    /// ### Use instead
    /// ```jsonc
    /// "acls": [
    ///   {"action": "accept", "src": ["autogroup:tagged"], "dst": ["tag:db:5432"]},
    /// ],
    /// ```
    code: "TP022",
    name: "redundant-rule",
    category: Suspicious,
    severity: Warning,
    summary: "an ACL or grant that adds no access beyond the union of the other rules, naming the rules that cover it",
}

/// Past this many pieces of uncovered remainder, the rule is assumed to add access.
const RESIDUAL_LIMIT: usize = 4096;

/// Above this many ACLs and grants the comparison (quadratic in the worst case) is skipped.
pub(crate) const MAX_RULES: usize = 400;

/// A block of access: sources × destinations × ports × protocols.
#[derive(Debug, Clone)]
struct Access {
    src: IpSet,
    dst: IpSet,
    ports: (u16, u16),
    protocols: Protocols,
}

/// A set of IP protocol numbers, one bit each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Protocols([u64; 4]);

impl Protocols {
    fn of(numbers: &[u8]) -> Self {
        let mut bits = [0; 4];
        for &n in numbers {
            bits[usize::from(n / 64)] |= 1 << (n % 64);
        }
        Self(bits)
    }

    fn is_empty(self) -> bool {
        self.0 == [0; 4]
    }

    fn intersects(self, other: Self) -> bool {
        self.0.iter().zip(other.0).any(|(a, b)| a & b != 0)
    }

    fn minus(self, other: Self) -> Self {
        let mut bits = self.0;
        for (bit, remove) in bits.iter_mut().zip(other.0) {
            *bit &= !remove;
        }
        Self(bits)
    }
}

impl Access {
    fn intersects(&self, other: &Access) -> bool {
        self.ports.0 <= other.ports.1
            && other.ports.0 <= self.ports.1
            && self.protocols.intersects(other.protocols)
            && self.src.overlaps(&other.src)
            && self.dst.overlaps(&other.dst)
    }

    /// `self` minus `other`, as disjoint blocks.
    fn minus(&self, other: &Access) -> Vec<Access> {
        if !self.intersects(other) {
            return vec![self.clone()];
        }
        let mut out = Vec::new();
        let src_out = self.src.difference(&other.src);
        let src_in = self.src.intersection(&other.src);
        if !src_out.is_empty() {
            out.push(Access {
                src: src_out,
                ..self.clone()
            });
        }
        let dst_out = self.dst.difference(&other.dst);
        let dst_in = self.dst.intersection(&other.dst);
        if !dst_out.is_empty() {
            out.push(Access {
                src: src_in.clone(),
                dst: dst_out,
                ..self.clone()
            });
        }
        let (first, last) = self.ports;
        let (o_first, o_last) = other.ports;
        if first < o_first {
            out.push(Access {
                src: src_in.clone(),
                dst: dst_in.clone(),
                ports: (first, o_first - 1),
                protocols: self.protocols,
            });
        }
        if last > o_last {
            out.push(Access {
                src: src_in.clone(),
                dst: dst_in.clone(),
                ports: (o_last + 1, last),
                protocols: self.protocols,
            });
        }
        let protocols = self.protocols.minus(other.protocols);
        if !protocols.is_empty() {
            out.push(Access {
                src: src_in,
                dst: dst_in,
                ports: (first.max(o_first), last.min(o_last)),
                protocols,
            });
        }
        out
    }
}

fn check(cx: &mut RuleContext<'_>) {
    let policy = cx.policy;
    let rules = policy.acls.as_ref().map_or(0, |l| l.items.len())
        + policy.grants.as_ref().map_or(0, |l| l.items.len());
    if rules > MAX_RULES {
        return;
    }
    // One stand-in device for every tag and every named user, and one unnamed member.
    let mut identities: Vec<String> = policy
        .tag_owners
        .iter()
        .map(|t| t.name.value.trimmed().to_owned())
        .collect();
    for group in &policy.groups {
        identities.extend(group.values.iter().map(|m| m.value.trimmed().to_owned()));
    }
    for rule in policy.acls.iter().flat_map(|l| l.iter()) {
        identities.extend(
            rule.src
                .iter()
                .filter(|s| s.value.contains('@'))
                .map(|s| s.value.trimmed().to_owned()),
        );
    }
    for grant in policy.grants.iter().flat_map(|l| l.iter()) {
        identities.extend(
            grant
                .src
                .iter()
                .filter(|s| s.value.contains('@'))
                .map(|s| s.value.trimmed().to_owned()),
        );
    }
    identities.push("someone-else@tailpolicy.invalid".to_owned());
    let base = cx.inventory().cloned().unwrap_or_default();
    let inventory = with_identities(policy, &base, identities.iter().map(String::as_str));
    let compiled = Compiled::new(policy, &inventory);

    // Per origin: its blocks of access, or `None` when it cannot be judged.
    let mut origins: Vec<(Origin, Option<Vec<Access>>)> = Vec::new();
    for piece in &compiled.pieces {
        let position = match origins.iter().position(|(o, _)| *o == piece.origin) {
            Some(position) => position,
            None => {
                origins.push((piece.origin, Some(Vec::new())));
                origins.len() - 1
            }
        };
        let Some((_, slot)) = origins.get_mut(position) else {
            continue;
        };
        match (&piece.kind, piece.via.is_empty()) {
            (PieceKind::Network { dsts }, true) => {
                let src = piece.src_set();
                let protocols =
                    Protocols::of(piece.protocols.as_deref().unwrap_or(&DEFAULT_PROTOCOLS));
                if let Some(blocks) = slot {
                    for (addr, ports) in dsts {
                        blocks.push(Access {
                            src: src.clone(),
                            dst: match addr {
                                Addr::Any => IpSet::all(),
                                other => other.to_set(),
                            },
                            ports: (ports.first, ports.last),
                            protocols,
                        });
                    }
                }
            }
            _ => *slot = None,
        }
    }
    if compiled.allow_all {
        return;
    }

    // Every block, indexed by destination so each rule meets only the blocks that overlap it.
    let blocks: Vec<(usize, &Access)> = origins
        .iter()
        .enumerate()
        .filter_map(|(i, (_, b))| b.as_ref().map(|b| (i, b)))
        .flat_map(|(i, b)| b.iter().map(move |a| (i, a)))
        .collect();
    let index = DstIndex::new(blocks.iter().map(|(_, a)| *a));

    // Later duplicates are flagged, the first of equal rules is kept.
    let mut redundant: Vec<(Origin, Vec<Origin>)> = Vec::new();
    let mut removed = vec![false; origins.len()];
    for (position, (origin, own)) in origins.iter().enumerate().rev() {
        let Some(own) = own else { continue };
        if own.is_empty() {
            continue;
        }
        let mut candidates: Vec<usize> =
            own.iter().flat_map(|a| index.overlapping(&a.dst)).collect();
        candidates.sort_unstable();
        candidates.dedup();
        let cover: Vec<(Origin, &Access)> = candidates
            .into_iter()
            .filter_map(|i| blocks.get(i))
            .filter(|(owner, _)| {
                *owner != position && !removed.get(*owner).copied().unwrap_or(false)
            })
            .filter_map(|(owner, access)| origins.get(*owner).map(|(o, _)| (*o, *access)))
            .collect();
        if let Some(covering) = covered_by(own, &cover) {
            if let Some(flag) = removed.get_mut(position) {
                *flag = true;
            }
            redundant.push((*origin, covering));
        }
    }
    redundant.reverse();
    for (origin, covering) in redundant {
        let names: Vec<String> = covering.iter().map(name).collect();
        let mut diagnostic = cx
            .diagnostic(
                format!(
                    "{} adds no access: {} already {} everything it allows",
                    name(&origin),
                    names.join(", "),
                    if names.len() == 1 {
                        "allows"
                    } else {
                        "together allow"
                    }
                ),
                head_line(origin.span),
            )
            .with_help(
                "remove it, or narrow the broader rule if this one states the intended access",
            );
        for other in &covering {
            diagnostic = diagnostic
                .with_secondary(head_line(other.span), format!("{} covers it", name(other)));
        }
        cx.push(diagnostic);
    }
}

/// Blocks by the address ranges of their destinations.
struct DstIndex {
    /// `(family, first, last, block)`, sorted by family and first address.
    narrow: Vec<(u8, u128, u128, usize)>,
    /// The widest narrow range per family, bounding the backward scan.
    widest: [u128; 2],
    /// Blocks whose destinations are too wide to index (`*`, the internet): always candidates.
    wide: Vec<usize>,
}

/// Ranges wider than this many addresses go to the always-checked list.
const WIDE: u128 = 1 << 16;

fn key(ip: std::net::IpAddr) -> (u8, u128) {
    match ip {
        std::net::IpAddr::V4(v4) => (4, u128::from(u32::from(v4))),
        std::net::IpAddr::V6(v6) => (6, u128::from(v6)),
    }
}

impl DstIndex {
    fn new<'a>(blocks: impl Iterator<Item = &'a Access>) -> Self {
        let mut narrow = Vec::new();
        let mut wide = Vec::new();
        let mut widest = [0u128; 2];
        for (index, access) in blocks.enumerate() {
            let ranges: Vec<_> = access.dst.ranges().collect();
            let too_wide = ranges.len() > 64
                || ranges
                    .iter()
                    .any(|r| key(r.last()).1 - key(r.first()).1 >= WIDE);
            if too_wide {
                wide.push(index);
                continue;
            }
            for range in ranges {
                let (family, first) = key(range.first());
                let (_, last) = key(range.last());
                let slot = usize::from(family == 6);
                if let Some(w) = widest.get_mut(slot) {
                    *w = (*w).max(last - first);
                }
                narrow.push((family, first, last, index));
            }
        }
        narrow.sort_unstable();
        Self {
            narrow,
            widest,
            wide,
        }
    }

    /// Blocks whose destinations may overlap `dst`.
    fn overlapping(&self, dst: &IpSet) -> Vec<usize> {
        let mut out = self.wide.clone();
        for range in dst.ranges() {
            let (family, first) = key(range.first());
            let (_, last) = key(range.last());
            let widest = self
                .widest
                .get(usize::from(family == 6))
                .copied()
                .unwrap_or(0);
            let start = self
                .narrow
                .partition_point(|&(f, a, _, _)| (f, a) < (family, first.saturating_sub(widest)));
            for &(f, a, b, index) in self.narrow.get(start..).unwrap_or_default() {
                if f != family || a > last {
                    break;
                }
                if b >= first {
                    out.push(index);
                }
            }
        }
        out
    }
}

/// The rules whose blocks together cover all of `blocks`, or `None` when some access is
/// left (or the computation grows too large to finish).
fn covered_by(blocks: &[Access], cover: &[(Origin, &Access)]) -> Option<Vec<Origin>> {
    let mut used: Vec<Origin> = Vec::new();
    for block in blocks {
        let mut residual = vec![block.clone()];
        for (origin, other) in cover {
            if residual.is_empty() {
                break;
            }
            let mut next = Vec::with_capacity(residual.len());
            let mut touched = false;
            for piece in &residual {
                if piece.intersects(other) {
                    touched = true;
                }
                next.extend(piece.minus(other));
            }
            if touched && !used.contains(origin) {
                used.push(*origin);
            }
            residual = next;
            if residual.len() > RESIDUAL_LIMIT {
                return None;
            }
        }
        if !residual.is_empty() {
            return None;
        }
    }
    used.sort_by_key(|o| (o.section != Section::Acls, o.index));
    Some(used)
}

fn name(origin: &Origin) -> String {
    let section = match origin.section {
        Section::Acls => "acls",
        Section::Grants => "grants",
    };
    format!("{section}[{}]", origin.index)
}

/// The first character of a rule: the finding points at its opening brace.
fn head_line(span: Span) -> Span {
    super::head(span)
}

#[cfg(test)]
mod tests {
    use crate::lint::test_support::findings;

    #[test]
    fn flags_a_rule_covered_by_a_broader_one() {
        let text = r#"{
  "tagOwners": {"tag:ci": [], "tag:db": []},
  "acls": [
    {"action": "accept", "src": ["autogroup:tagged"], "dst": ["tag:db:5432"]},
    {"action": "accept", "src": ["tag:ci"], "dst": ["tag:db:5432"]},
  ],
}"#;
        assert_eq!(findings(text, "TP022"), ["{"]);
    }

    #[test]
    fn a_union_of_rules_can_cover_one() {
        let text = r#"{
  "tagOwners": {"tag:ci": [], "tag:db": []},
  "grants": [
    {"src": ["tag:ci"], "dst": ["tag:db"], "ip": ["tcp:1-1000"]},
    {"src": ["tag:ci"], "dst": ["tag:db"], "ip": ["tcp:1001-65535"]},
    {"src": ["tag:ci"], "dst": ["tag:db"], "ip": ["tcp:22", "tcp:5432"]},
  ],
}"#;
        let messages = crate::lint::test_support::messages(text, "TP022");
        assert_eq!(
            messages,
            [
                "grants[2] adds no access: grants[0], grants[1] already together allow everything it allows"
            ]
        );
    }

    #[test]
    fn distinct_access_and_equal_twins_are_handled() {
        let distinct = r#"{
  "tagOwners": {"tag:ci": [], "tag:db": [], "tag:web": []},
  "acls": [
    {"action": "accept", "src": ["tag:ci"], "dst": ["tag:db:5432"]},
    {"action": "accept", "src": ["tag:ci"], "dst": ["tag:web:443"]},
    {"action": "accept", "src": ["tag:web"], "dst": ["tag:db:5432"]},
  ],
}"#;
        assert!(findings(distinct, "TP022").is_empty());
        let twins = r#"{
  "tagOwners": {"tag:ci": [], "tag:db": []},
  "acls": [
    {"action": "accept", "src": ["tag:ci"], "dst": ["tag:db:5432"]},
    {"action": "accept", "src": ["tag:ci"], "dst": ["tag:db:5432"]},
  ],
}"#;
        let messages = crate::lint::test_support::messages(twins, "TP022");
        assert_eq!(
            messages,
            ["acls[1] adds no access: acls[0] already allows everything it allows"]
        );
    }

    #[test]
    fn a_user_covered_by_their_group() {
        let text = r#"{
  "tagOwners": {"tag:db": []},
  "groups": {"group:eng": ["alice@example.com", "bob@example.com"]},
  "acls": [
    {"action": "accept", "src": ["group:eng"], "dst": ["tag:db:*"]},
    {"action": "accept", "src": ["alice@example.com"], "dst": ["tag:db:5432"]},
    {"action": "accept", "src": ["carol@example.com"], "dst": ["tag:db:5432"]},
  ],
}"#;
        let flagged = crate::lint::test_support::messages(text, "TP022");
        assert_eq!(
            flagged,
            ["acls[1] adds no access: acls[0] already allows everything it allows"]
        );
    }
}
