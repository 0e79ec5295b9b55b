//! Semantic validation: what Tailscale's control server accepts and rejects.
//!
//! Every problem is reported (Tailscale returns only the first), each at the offending value,
//! with Tailscale's own wording inside the message where a capture shows it (see
//! `docs/semantics.md`). Wording marked "headscale" is from headscale, used where no
//! Tailscale capture exists.

mod names;
mod rules;
mod ssh;
mod tests;

use crate::fasthash::{FastMap as HashMap, FastSet as HashSet};
use crate::text::Trimmed;

use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::inventory::Inventory;
use crate::model::{HostEntry, NamedList, Policy, Str};
use crate::selector::{Autogroup, Selector};
use crate::span::Span;

/// Validates a lowered policy. With an inventory, checks that need tailnet state (associated
/// domains) run too.
pub fn validate(policy: &Policy, inventory: Option<&Inventory>) -> Vec<Diagnostic> {
    let mut validator = Validator::new(policy, inventory);
    validator.run();
    validator.diagnostics
}

/// Where a selector stands; decides which kinds are allowed and how errors are worded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    AclSrc,
    AclDst,
    GrantSrc,
    GrantDst,
    SshSrc,
    SshDst,
    NodeAttrTarget,
    TagOwner,
    AutoApprover,
}

pub(crate) struct Validator<'p> {
    pub(crate) policy: &'p Policy,
    pub(crate) diagnostics: Vec<Diagnostic>,
    groups: HashMap<&'p str, &'p NamedList>,
    /// Lowercased tag names from `tagOwners`.
    tags: HashSet<String>,
    hosts: HashMap<&'p str, &'p HostEntry>,
    ipsets: HashMap<&'p str, &'p NamedList>,
    postures: HashSet<&'p str>,
    /// Associated domains (lowercase) when an inventory is given.
    domains: Option<Vec<String>>,
    member_spellings: Vec<(bool, Span)>,
    /// Logins of the inventory's users, when an inventory is given.
    known_users: Option<Vec<String>>,
}

impl<'p> Validator<'p> {
    fn new(policy: &'p Policy, inventory: Option<&Inventory>) -> Self {
        // Plain loops: one `collect` per table type was adapter code in the WASM module.
        let mut groups = HashMap::default();
        for g in &policy.groups {
            groups.insert(g.name.value.as_str(), g);
        }
        let mut tags = HashSet::default();
        for t in &policy.tag_owners {
            tags.insert(t.name.value.trimmed().to_ascii_lowercase());
        }
        let mut hosts = HashMap::default();
        for h in &policy.hosts {
            hosts.insert(h.name.value.as_str(), h);
        }
        let mut ipsets = HashMap::default();
        for set in &policy.ipsets {
            ipsets.insert(set.name.value.as_str(), set);
        }
        let mut postures = HashSet::default();
        for p in &policy.postures {
            postures.insert(p.name.value.as_str());
        }
        // A partial user list (`tailscale status`, API devices) decides neither who
        // exists nor, without explicit domains, which domains the tailnet has.
        let domains = inventory
            .filter(|inv| !inv.unknown.users || inv.tailnet.domains.is_some())
            .map(Inventory::associated_domains);
        let known_users = inventory.filter(|inv| !inv.unknown.users).map(|inv| {
            let mut logins = Vec::with_capacity(inv.users.len());
            for user in &inv.users {
                logins.push(user.login().to_owned());
            }
            logins
        });
        Self {
            policy,
            diagnostics: Vec::new(),
            groups,
            tags,
            hosts,
            ipsets,
            postures,
            domains,
            member_spellings: Vec::new(),
            known_users,
        }
    }

    fn run(&mut self) {
        self.groups();
        self.hosts();
        self.tag_owners();
        self.ipsets();
        self.postures();
        self.auto_approvers();
        self.acls();
        self.grants();
        self.ssh_rules();
        self.node_attrs();
        self.tests();
        self.ssh_tests();
        self.attr_config();
        self.member_spellings();
    }

    pub(crate) fn error(
        &mut self,
        code: &'static str,
        message: impl Into<String>,
        span: Span,
    ) -> &mut Diagnostic {
        self.diagnostics
            .push(Diagnostic::error(code, message, span));
        let last = self.diagnostics.len() - 1;
        #[expect(clippy::indexing_slicing, reason = "an element was just pushed")]
        &mut self.diagnostics[last]
    }

    /// A finding where Tailscale's answer is not pinned down: a warning, never an error,
    /// since a false rejection blocks a working policy.
    pub(crate) fn warn(&mut self, code: &'static str, message: impl Into<String>, span: Span) {
        self.diagnostics
            .push(Diagnostic::warning(code, message, span));
    }

    /// Checks a tag named by a newer field (`recorder`, `connectors`, `broadcastToPeers`,
    /// ...): an undefined tag there is a warning, since no capture shows Tailscale's answer.
    pub(crate) fn soft_tag(&mut self, text: &Str, field: &str) {
        match Selector::parse(&text.value) {
            Selector::Tag(tag) => {
                if !self.tag_defined(tag) {
                    self.warn(
                        codes::UNDEFINED_TAG,
                        format!("{field}: tag not found: \"{tag}\""),
                        text.span,
                    );
                    self.suggest_tag(tag);
                }
            }
            _ => {
                self.warn(
                    codes::SELECTOR_NOT_ALLOWED,
                    format!("{field}: \"{}\" is not a tag", text.value.trimmed()),
                    text.span,
                );
                self.help(format!("`{field}` lists tags, e.g. `tag:recorder`"));
            }
        }
    }

    pub(crate) fn help(&mut self, help: impl Into<String>) {
        if let Some(last) = self.diagnostics.last_mut() {
            last.help = Some(help.into());
        }
    }

    pub(crate) fn tag_defined(&self, tag: &str) -> bool {
        // Tags compare case-insensitively; most are written in lower case already.
        self.tags
            .contains(crate::text::ascii_lowercase(tag).as_ref())
    }

    pub(crate) fn group_defined(&self, group: &str) -> bool {
        self.groups.contains_key(group)
    }

    pub(crate) fn host(&self, name: &str) -> Option<&'p HostEntry> {
        self.hosts.get(name).copied()
    }

    /// Checks one selector at `place`: that it is allowed there and that what it names is
    /// defined. Returns the classification for further checks.
    pub(crate) fn selector<'s>(&mut self, text: &'s Str, place: Place) -> Selector<'s> {
        let selector = Selector::parse(&text.value);
        self.check_selector(&selector, &text.value, place, text.span);
        selector
    }

    /// [`selector`](Self::selector) for each item of a list, in order (one loop for every
    /// section's sources).
    pub(crate) fn selectors<'s>(&mut self, items: &'s [Str], place: Place) -> Vec<Selector<'s>> {
        let mut out = Vec::with_capacity(items.len());
        for text in items {
            out.push(self.selector(text, place));
        }
        out
    }

    pub(crate) fn check_selector(
        &mut self,
        selector: &Selector<'_>,
        text: &str,
        place: Place,
        span: Span,
    ) {
        let trimmed = text.trimmed();
        match *selector {
            Selector::Wildcard => {
                let allowed = matches!(
                    place,
                    Place::AclSrc
                        | Place::AclDst
                        | Place::GrantSrc
                        | Place::GrantDst
                        | Place::NodeAttrTarget
                );
                if !allowed {
                    self.not_allowed(trimmed, place, span);
                }
            }
            Selector::Autogroup(autogroup) => self.autogroup(autogroup, trimmed, place, span),
            Selector::UnknownAutogroup(name) => {
                let known: Vec<&str> = Autogroup::ALL.iter().map(|a| a.name()).collect();
                self.error(
                    codes::UNKNOWN_AUTOGROUP,
                    format!(
                        "invalid autogroup: got \"{name}\", must be one of [{}]",
                        known.join(" ")
                    ),
                    span,
                );
                if let Some(suggestion) = crate::fuzzy::closest(name, known.iter().copied()) {
                    self.help(format!("did you mean `{suggestion}`?"));
                }
            }
            Selector::Group(group) => {
                // A synced (SCIM) group such as `group:eng@example.com` is defined outside the
                // policy file.
                if !self.group_defined(group) && !group.contains('@') {
                    self.undefined_group(group, span);
                }
            }
            Selector::Tag(tag) => {
                if !self.tag_defined(tag) {
                    self.undefined_tag(tag, trimmed, place, span);
                }
            }
            Selector::IpSet(name) => match place {
                Place::AclSrc | Place::AclDst | Place::GrantSrc | Place::GrantDst => {
                    if !self.ipsets.contains_key(name) {
                        self.error(
                            codes::UNDEFINED_IPSET,
                            format!("ipset not defined in policy: \"{name}\""),
                            span,
                        );
                    }
                }
                _ => self.not_allowed(trimmed, place, span),
            },
            Selector::Service(_) => {
                if !matches!(place, Place::AclDst | Place::GrantDst) {
                    self.not_allowed(trimmed, place, span);
                }
            }
            Selector::UserDomain(domain) => match place {
                Place::TagOwner | Place::AutoApprover => self.not_allowed(trimmed, place, span),
                _ => self.domain(domain, place == Place::SshSrc, span),
            },
            Selector::LocalpartDomain(_) => self.not_allowed(trimmed, place, span),
            Selector::User(_) => {}
            Selector::Prefix(_) => {
                match place {
                    Place::AclSrc
                    | Place::AclDst
                    | Place::GrantSrc
                    | Place::GrantDst
                    | Place::NodeAttrTarget => {}
                    Place::SshDst => {
                        self.error(
                            codes::SELECTOR_NOT_ALLOWED,
                            format!("invalid dst \"{trimmed}\""),
                            span,
                        );
                        self.help("SSH destinations are tags, `autogroup:self`, `autogroup:tagged` or a user");
                    }
                    Place::SshSrc => self.address_ssh_source(trimmed, span),
                    _ => self.not_allowed(trimmed, place, span),
                }
            }
            Selector::Range(..) => {
                self.not_allowed(trimmed, place, span);
                self.help("IP ranges are allowed only inside `ipsets`");
            }
            Selector::HostRef(name) | Selector::Host(name) => match place {
                Place::AclSrc | Place::AclDst | Place::GrantSrc | Place::GrantDst => {
                    if self.host(name).is_none() {
                        self.undefined_host(name, span);
                    }
                }
                Place::NodeAttrTarget => {
                    if self.host(name).is_none() {
                        self.error(
                            codes::INVALID_ADDRESS,
                            format!("\"{name}\": invalid address"),
                            span,
                        );
                        self.help("define it in `hosts`, or use a tag, user, group or IP address");
                    }
                }
                Place::SshDst => {
                    self.error(
                        codes::SELECTOR_NOT_ALLOWED,
                        format!("invalid dst \"{trimmed}\""),
                        span,
                    );
                    self.help(
                        "SSH destinations are tags, `autogroup:self`, `autogroup:tagged` or a user",
                    );
                }
                Place::SshSrc => {
                    if self.host(name).is_none() {
                        self.undefined_host(name, span);
                    } else {
                        self.address_ssh_source(trimmed, span);
                    }
                }
                _ => self.not_allowed(trimmed, place, span),
            },
        }
    }

    fn autogroup(&mut self, autogroup: Autogroup, text: &str, place: Place, span: Span) {
        if autogroup == Autogroup::Member {
            self.member_spellings
                .push((text.ends_with("members"), span));
        }
        let is_src = matches!(place, Place::AclSrc | Place::GrantSrc | Place::SshSrc);
        match autogroup {
            Autogroup::SelfDevices if is_src => {
                self.error(
                    codes::SELECTOR_NOT_ALLOWED,
                    "\"autogroup:self\" not valid on the src side of a rule",
                    span,
                );
                return;
            }
            Autogroup::SelfDevices if place == Place::NodeAttrTarget => {
                self.error(
                    codes::SELECTOR_NOT_ALLOWED,
                    "autogroup:self is not a valid nodeAttrs target (Tailscale answers: internal server error)",
                    span,
                );
                return;
            }
            Autogroup::Internet if place != Place::AclDst && place != Place::GrantDst => {
                self.error(
                    codes::SELECTOR_NOT_ALLOWED,
                    "autogroup:internet can only be used in ACL destinations",
                    span,
                );
                return;
            }
            Autogroup::DangerAll if matches!(place, Place::AclDst | Place::GrantDst) => {
                self.error(
                    codes::SELECTOR_NOT_ALLOWED,
                    "cannot use autogroup:danger-all as a dst",
                    span,
                );
                return;
            }
            Autogroup::NonRoot => {
                self.not_allowed(text, place, span);
                self.help("`autogroup:nonroot` is only meaningful in SSH `users`");
                return;
            }
            _ => {}
        }
        let allowed = match place {
            Place::AclSrc | Place::GrantSrc => autogroup != Autogroup::SelfDevices,
            Place::AclDst | Place::GrantDst => autogroup != Autogroup::Shared,
            // Role autogroups are accepted as SSH sources (tailscale#14102 shows such a rule
            // saved); only `sshTests` refuses them as a test source.
            Place::SshSrc => {
                matches!(autogroup, Autogroup::Member | Autogroup::Tagged) || autogroup.is_role()
            }
            Place::SshDst => matches!(
                autogroup,
                Autogroup::Member | Autogroup::Tagged | Autogroup::SelfDevices
            ),
            Place::NodeAttrTarget | Place::TagOwner | Place::AutoApprover => {
                autogroup == Autogroup::Member
                    || autogroup == Autogroup::Tagged
                    || autogroup.is_role()
            }
        };
        if !allowed {
            if place == Place::SshSrc {
                self.error(
                    codes::SELECTOR_NOT_ALLOWED,
                    format!("\"{text}\" is not allowed in src"),
                    span,
                );
                self.help("SSH sources may be users, groups, tags, `autogroup:member`, `autogroup:tagged` or role autogroups such as `autogroup:admin`");
            } else {
                self.not_allowed(text, place, span);
            }
        }
    }

    /// A host alias or address as an SSH source: the targets table says no, but no capture
    /// shows Tailscale refusing it, SSH principals can be node addresses, and policies in
    /// use write it; so a warning.
    fn address_ssh_source(&mut self, text: &str, span: Span) {
        self.warn(
            codes::SELECTOR_NOT_ALLOWED,
            format!("\"{text}\" as an SSH src: Tailscale documents users, groups, tags and autogroups as SSH sources"),
            span,
        );
        self.help("it names the devices at that address; a tag or user says the same and survives a new address");
    }

    fn domain(&mut self, domain: &str, in_ssh_src: bool, span: Span) {
        let Some(domains) = self.domains.clone() else {
            return;
        };
        if domains.iter().any(|d| d == domain) {
            return;
        }
        // Tailscale reports a domain written with capitals as `PASSKEY`
        // [capture ssh-e1: `localpart:*@EXAMPLE.COM`].
        let shown = if domain.bytes().any(|b| b.is_ascii_uppercase()) {
            "PASSKEY"
        } else {
            domain
        };
        let prefix = if in_ssh_src { "[ssh] " } else { "" };
        self.error(
            codes::DOMAIN_NOT_ASSOCIATED,
            format!(
                "{prefix}{shown} is not associated with this Tailnet and cannot be used in user:*@<domain> expressions"
            ),
            span,
        );
        let known = domains.join(", ");
        self.help(format!("associated domains (from the inventory): {known}"));
    }

    fn not_allowed(&mut self, text: &str, place: Place, span: Span) {
        let place_name = match place {
            Place::AclSrc => "an ACL src",
            Place::AclDst => "an ACL dst",
            Place::GrantSrc => "a grant src",
            Place::GrantDst => "a grant dst",
            Place::SshSrc => "an SSH src",
            Place::SshDst => "an SSH dst",
            Place::NodeAttrTarget => "a nodeAttrs target",
            Place::TagOwner => "a tag owner",
            Place::AutoApprover => "an auto approver",
        };
        self.error(
            codes::SELECTOR_NOT_ALLOWED,
            format!("\"{text}\" cannot be used as {place_name}"),
            span,
        );
    }

    pub(crate) fn undefined_tag(&mut self, tag: &str, text: &str, place: Place, span: Span) {
        let message = match place {
            Place::AclSrc | Place::GrantSrc => format!("src=tag not found: \"{tag}\""),
            Place::AclDst => format!("dst=\"{text}\": tag not found: \"{tag}\""),
            _ => format!("tag not found: \"{tag}\""),
        };
        self.error(codes::UNDEFINED_TAG, message, span);
        self.suggest_tag(tag);
    }

    pub(crate) fn suggest_tag(&mut self, tag: &str) {
        let names = self.policy.tag_owners.iter().map(|t| t.name.value.as_str());
        match crate::fuzzy::closest(tag, names) {
            Some(s) => self.help(format!(
                "did you mean `{s}`? every tag must be a key of `tagOwners`"
            )),
            None => self.help(format!("add `\"{tag}\": []` to `tagOwners`")),
        }
    }

    fn undefined_group(&mut self, group: &str, span: Span) {
        self.error(
            codes::UNDEFINED_GROUP,
            format!("group not defined in policy: \"{group}\""),
            span,
        );
        if let Some(s) = crate::fuzzy::closest(group, self.groups.keys().copied()) {
            self.help(format!("did you mean `{s}`?"));
        }
    }

    fn undefined_host(&mut self, name: &str, span: Span) {
        self.error(
            codes::UNDEFINED_HOST,
            format!("host not defined in policy: \"{name}\""),
            span,
        );
        match crate::fuzzy::closest(name, self.hosts.keys().copied()) {
            Some(s) => self.help(format!("did you mean `{s}`?")),
            None => self.help("define it in `hosts`, or use a tag, user, group or IP address"),
        }
    }

    fn member_spellings(&mut self) {
        let singular = self
            .member_spellings
            .iter()
            .find(|(plural, _)| !plural)
            .map(|(_, s)| *s);
        let plural = self
            .member_spellings
            .iter()
            .find(|(plural, _)| *plural)
            .map(|(_, s)| *s);
        // The docs say one file cannot use both, but no capture shows a refusal, and
        // Tailscale's own snippets combine them (the Funnel attribute written with
        // `autogroup:members` pasted into the default policy's `autogroup:member` rules):
        // a warning.
        if let (Some(singular), Some(plural)) = (singular, plural) {
            self.warn(
                codes::MIXED_MEMBER_SPELLINGS,
                "autogroup:member and autogroup:members are both used in this policy",
                plural,
            );
            if let Some(last) = self.diagnostics.last_mut() {
                last.labels.push(crate::diagnostic::Label {
                    span: singular,
                    message: Some("also used here".into()),
                });
            }
            self.help(
                "the docs allow only one spelling per file; use `autogroup:member` everywhere",
            );
        }
    }
}

#[cfg(test)]
mod inventory_facts {
    use crate::inventory::Inventory;

    fn errors(policy: &str, inventory: &Inventory) -> Vec<String> {
        let options = crate::CheckOptions {
            inventory: Some(inventory),
            ..Default::default()
        };
        crate::check(policy, &options)
            .diagnostics
            .into_iter()
            .filter(|d| d.severity == crate::Severity::Error)
            .map(|d| d.message)
            .collect()
    }

    /// A user list that may be partial (`tailscale status`) does not make a user it lacks,
    /// or a domain other than its first user's, an error.
    #[test]
    fn a_partial_user_list_decides_no_existence() {
        let policy = r#"{
            "acls": [{"action": "accept", "src": ["carol@other.org"], "dst": ["*:22"]}],
            "tests": [{"src": "carol@other.org", "accept": ["100.64.0.1:22"]}]
        }"#;
        let mut inventory = Inventory::parse(
            r#"{"users": [{"id": 1, "name": "alice", "email": "alice@example.com"}],
                "nodes": [{"name": "a", "ipv4": "100.64.0.1", "user": "alice"}]}"#,
        )
        .unwrap();
        assert!(
            !errors(policy, &inventory).is_empty(),
            "a full list decides"
        );
        inventory.unknown.users = true;
        assert_eq!(errors(policy, &inventory), Vec::<String>::new());
    }
}
