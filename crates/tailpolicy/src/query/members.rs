//! Answers for a source that stands for several identities: each member's answer, their
//! aggregate, and the conditions a hypothetical device adds.

use super::*;

/// Most sets of assumptions one query tries.
pub(super) const MAX_ASSUMPTIONS: usize = 96;

/// Most identities one source is answered for.
pub(super) const MAX_MEMBERS: usize = 64;

/// How a member is shown: the placeholder logins as words.
pub(super) fn member_label(member: &str) -> String {
    if member == MEMBER {
        return "a member the policy does not name".to_owned();
    }
    if let Some(domain) = member
        .strip_prefix(MEMBER)
        .and_then(|d| d.strip_prefix('@'))
    {
        return format!("a member at `{domain}` the policy does not name");
    }
    if let Some(role) = member.strip_prefix("autogroup:") {
        return format!("a user with the `{role}` role");
    }
    member.to_owned()
}

/// "allowed for every…", "allowed for … but denied for …" or "denied for every…".
// A slice, not a generic iterator: one body for queries and SSH queries (module size).
pub(super) fn members_explanation(src: &str, answers: &[(&str, bool, &str)]) -> String {
    let count = answers.len();
    let mut yes = Vec::new();
    let mut no = Vec::new();
    for &(member, allowed, _) in answers {
        if allowed { &mut yes } else { &mut no }.push(member_label(member));
    }
    let first = |allowed: bool| {
        answers
            .iter()
            .find(|a| a.1 == allowed)
            .map(|a| a.2)
            .unwrap_or_default()
    };
    if no.is_empty() {
        format!(
            "allowed for all {count} identities `{src}` stands for; {}",
            first(true)
        )
    } else if yes.is_empty() {
        format!(
            "denied for all {count} identities `{src}` stands for; {}",
            first(false)
        )
    } else {
        format!(
            "allowed for only some identities `{src}` stands for: allowed for {}; denied for {} ({})",
            yes.join(", "),
            no.join(", "),
            first(false)
        )
    }
}

/// `(member, allowed, explanation)` of each answer, for [`members_explanation`].
pub(super) fn explained<A: Explained>(answers: &[(String, A)]) -> Vec<(&str, bool, &str)> {
    let mut out = Vec::new();
    for (m, a) in answers {
        out.push((m.as_str(), a.allowed(), a.explanation()));
    }
    out
}

/// What [`explained`] reads of a query or SSH answer.
pub(super) trait Explained {
    fn allowed(&self) -> bool;
    fn explanation(&self) -> &str;
}

impl Explained for Answer {
    fn allowed(&self) -> bool {
        self.allowed
    }
    fn explanation(&self) -> &str {
        &self.explanation
    }
}

impl Explained for super::SshAnswer {
    fn allowed(&self) -> bool {
        self.allowed
    }
    fn explanation(&self) -> &str {
        &self.explanation
    }
}

/// The answers for each identity a source stands for, as one answer.
pub(super) fn aggregate(src: &str, mut answers: Vec<(String, Answer)>) -> Answer {
    if answers.len() == 1
        && let Some((_, answer)) = answers.pop()
    {
        return answer;
    }
    let explanation = members_explanation(src, &explained(&answers));
    let allowed = answers.iter().all(|(_, a)| a.allowed);
    let mut combined = match answers.iter().find(|(_, a)| a.allowed == allowed) {
        Some((_, a)) => a.clone(),
        None => answers
            .first()
            .map(|(_, a)| a.clone())
            .unwrap_or_else(|| Answer {
                allowed: false,
                src: src.to_owned(),
                dst: String::new(),
                proto: String::new(),
                matches: Vec::new(),
                explanation: String::new(),
                via_node: None,
                src_addr: String::new(),
                src_hypothetical: false,
                dst_addr: String::new(),
                conditions: Vec::new(),
                members: Vec::new(),
            }),
    };
    combined.allowed = allowed;
    combined.explanation = explanation;
    combined.matches.clear();
    for (_, answer) in &answers {
        for origin in &answer.matches {
            if !combined.matches.contains(origin) {
                combined.matches.push(*origin);
            }
        }
        for condition in &answer.conditions {
            if !combined.conditions.contains(condition) {
                combined.conditions.push(condition.clone());
            }
        }
    }
    sort_origins(&mut combined.matches);
    for (member, a) in answers {
        combined.members.push(MemberAnswer {
            member: member_label(&member),
            allowed: a.allowed,
            conditions: a.conditions,
            explanation: a.explanation,
        });
    }
    combined
}

/// The devices an answer assumes: a hypothetical source or destination.
pub(super) fn device_conditions(resolved: &Resolved<'_, '_>, out: &mut Vec<Condition>) {
    let mut devices = Vec::new();
    for end in [&resolved.src, &resolved.dst] {
        if !end.hypothetical || end.node.is_none() {
            continue;
        }
        let text = if end.label == "*" {
            "a device is in the tailnet".to_owned()
        } else if end.address {
            format!("a device with address `{}` is in the tailnet", end.ip)
        } else {
            format!(
                "a device with the identity `{}` is in the tailnet",
                end.label
            )
        };
        devices.push(Condition {
            kind: "device",
            text,
        });
    }
    // In front of `out` (an append and a swap: `splice` costs the WASM module 0.5 KB).
    devices.append(out);
    *out = devices;
}
