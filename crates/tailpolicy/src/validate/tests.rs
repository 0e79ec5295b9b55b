//! The shape of `tests` and `sshTests` entries. Tailscale reports a malformed entry as
//! `test(s) failed` (except a few `sshTests` dst errors with their own wording); our
//! messages start with that text and then say what is wrong.

use crate::codes;
use crate::model::{AclTest, SshTest, Str};
use crate::selector::{Autogroup, Selector};
use crate::text::Trimmed;

use super::Validator;

const FAILED: &str = "test(s) failed";

impl Validator<'_> {
    pub(super) fn tests(&mut self) {
        let policy = self.policy;
        for (index, test) in policy.tests.iter().enumerate() {
            self.acl_test(index, test);
        }
    }

    fn test_error(
        &mut self,
        index: usize,
        message: impl std::fmt::Display,
        span: crate::span::Span,
    ) {
        self.error(
            codes::INVALID_TEST,
            format!("{FAILED}: tests[{index}]: {message}"),
            span,
        );
    }

    fn acl_test(&mut self, index: usize, test: &AclTest) {
        let source = match &test.src {
            Some(src) if !src.value.trimmed().is_empty() => {
                let selector = Selector::parse(&src.value);
                self.test_source(index, src, &selector);
                Some(selector)
            }
            _ => {
                let span = test.src.as_ref().map_or(test.span, |s| s.span);
                self.test_error(index, "test entry must have a non-empty src", span);
                None
            }
        };
        if test.accept.is_empty() && test.deny.is_empty() {
            self.test_error(
                index,
                "test entry must have at least one of \"accept\" or \"deny\"",
                test.span,
            );
        }
        // Any protocol an ACL takes: the policy-file docs test ICMP with `"proto": "icmp"`
        // and port 0; only tcp, udp and sctp was headscale's restriction.
        if let Some(proto) = &test.proto
            && let Err(error) = crate::proto::parse_protocol(&proto.value)
        {
            self.test_error(index, format!("proto: {error}"), proto.span);
        }
        let tagged_source = matches!(source, Some(Selector::Tag(_)));
        for list in [&test.accept, &test.deny] {
            for destination in list {
                self.test_destination(index, destination, tagged_source);
            }
        }
    }

    fn test_source(&mut self, index: usize, src: &Str, selector: &Selector<'_>) {
        let text = src.value.trimmed();
        match *selector {
            Selector::Tag(tag) if !self.tag_defined(tag) => {
                self.test_error(index, format!("src: tag not found: \"{tag}\""), src.span);
            }
            Selector::Group(group) if !self.group_defined(group) => {
                self.test_error(
                    index,
                    format!("src: group not defined in policy: \"{group}\""),
                    src.span,
                );
            }
            Selector::Host(host) | Selector::HostRef(host) if self.host(host).is_none() => {
                self.test_error(
                    index,
                    format!("src: unknown user or host: \"{host}\""),
                    src.span,
                );
            }
            Selector::Autogroup(_) | Selector::UnknownAutogroup(_) | Selector::Wildcard => {
                self.test_error(
                    index,
                    format!("user or host is invalid: unknown user or host: \"{text}\""),
                    src.span,
                );
                self.help("a test src is one user, group, tag, host alias or IP address");
            }
            Selector::User(user) => {
                if let Some(users) = self.known_users.as_ref()
                    && !users.iter().any(|u| u.eq_ignore_ascii_case(user))
                {
                    self.test_error(
                        index,
                        format!("user or host is invalid: unknown user or host: \"{user}\""),
                        src.span,
                    );
                    self.help("the inventory has no such user; Tailscale fails tests whose src user is not in the tailnet");
                }
            }
            Selector::IpSet(_)
            | Selector::Service(_)
            | Selector::UserDomain(_)
            | Selector::LocalpartDomain(_)
            | Selector::Range(..) => {
                self.test_error(
                    index,
                    format!("user or host is invalid: \"{text}\""),
                    src.span,
                );
            }
            _ => {}
        }
    }

    fn test_destination(&mut self, index: usize, destination: &Str, tagged_source: bool) {
        let raw = destination.value.as_str();
        let Ok((host, port)) = crate::ports::split_destination_and_port(raw) else {
            self.test_error(
                index,
                format!("destination \"{raw}\" must be host:port"),
                destination.span,
            );
            return;
        };
        if port.is_empty()
            || !port.bytes().all(|b| b.is_ascii_digit())
            || port.parse::<u16>().is_err()
        {
            self.test_error(
                index,
                format!("test destination port must be a single port, got \"{port}\""),
                destination.span,
            );
        }
        match Selector::parse(&host) {
            Selector::Prefix(prefix) if host.contains('/') => {
                let _ = prefix;
                self.test_error(
                    index,
                    "test destination must be a single host, not a CIDR range",
                    destination.span,
                );
            }
            Selector::Autogroup(Autogroup::Internet) => {
                self.test_error(
                    index,
                    "autogroup:internet not valid as a test destination",
                    destination.span,
                );
                self.help("assert a public address instead, e.g. `198.51.100.8:443`");
            }
            Selector::Autogroup(Autogroup::SelfDevices) if tagged_source => {
                self.test_error(
                    index,
                    "autogroup:self is not valid as a test destination for a tagged src",
                    destination.span,
                );
            }
            Selector::Tag(tag) if !self.tag_defined(tag) => {
                self.test_error(index, format!("tag not found: \"{tag}\""), destination.span);
            }
            Selector::Group(group) if !self.group_defined(group) => {
                self.test_error(
                    index,
                    format!("group not defined in policy: \"{group}\""),
                    destination.span,
                );
            }
            Selector::Host(name) | Selector::HostRef(name) => match self.host(name) {
                None => {
                    self.test_error(index, format!("unknown host \"{name}\""), destination.span)
                }
                Some(entry) => {
                    let single = crate::selector::parse_prefix(entry.value.value.trimmed())
                        .is_some_and(|p| p.prefix_len() == p.max_prefix_len());
                    if !single {
                        self.test_error(
                            index,
                            "test destination must be a single host, not a CIDR range",
                            destination.span,
                        );
                    }
                }
            },
            Selector::User(user) => {
                if let Some(users) = self.known_users.as_ref()
                    && !users.iter().any(|u| u.eq_ignore_ascii_case(user))
                {
                    self.test_error(index, format!("unknown user \"{user}\""), destination.span);
                }
            }
            Selector::UnknownAutogroup(name) => {
                self.test_error(
                    index,
                    format!("unknown autogroup \"{name}\""),
                    destination.span,
                );
            }
            Selector::Wildcard
            | Selector::Range(..)
            | Selector::IpSet(_)
            | Selector::UserDomain(_)
            | Selector::LocalpartDomain(_) => {
                self.test_error(
                    index,
                    format!("\"{host}\" is not a single host"),
                    destination.span,
                );
            }
            _ => {}
        }
    }

    pub(super) fn ssh_tests(&mut self) {
        let policy = self.policy;
        for (index, test) in policy.ssh_tests.iter().enumerate() {
            self.ssh_test(index, test);
        }
    }

    fn ssh_test(&mut self, index: usize, test: &SshTest) {
        let error = |v: &mut Self, message: String, span| {
            v.error(codes::INVALID_SSH_TEST, message, span);
        };
        match &test.src {
            Some(src) if !src.value.trimmed().is_empty() => {
                let text = src.value.trimmed();
                match Selector::parse(text) {
                    Selector::Autogroup(_) | Selector::UnknownAutogroup(_) | Selector::Wildcard => {
                        error(
                            self,
                            format!("SSH tests src contains disallowed element \"{text}\""),
                            src.span,
                        );
                    }
                    Selector::Tag(tag) if !self.tag_defined(tag) => {
                        error(
                            self,
                            format!("{FAILED}: sshTests[{index}]: src: tag not found: \"{tag}\""),
                            src.span,
                        );
                    }
                    Selector::Host(host) | Selector::HostRef(host) if self.host(host).is_none() => {
                        error(
                            self,
                            format!(
                                "{FAILED}: sshTests[{index}]: src: unknown user or host: \"{host}\""
                            ),
                            src.span,
                        );
                    }
                    _ => {}
                }
            }
            _ => {
                let span = test.src.as_ref().map_or(test.span, |s| s.span);
                error(
                    self,
                    format!(
                        "{FAILED}: sshTests[{index}]: SSH tests entry must have a non-empty src"
                    ),
                    span,
                );
            }
        }
        if test.dst.is_empty() {
            error(
                self,
                format!("{FAILED}: sshTests[{index}]: SSH tests entry must have at least one dst"),
                test.span,
            );
        }
        for dst in &test.dst {
            let text = dst.value.trimmed();
            match Selector::parse(text) {
                Selector::Prefix(prefix) if text.contains('/') => {
                    let _ = prefix;
                    error(
                        self,
                        format!("SSH tests dst contains disallowed element \"{text}\""),
                        dst.span,
                    );
                }
                Selector::Prefix(prefix) if prefix.addr().is_ipv6() => {
                    // Tailscale parses a bare IPv6 destination, then fails the block.
                    error(
                        self,
                        format!(
                            "{FAILED}: sshTests[{index}]: bare IPv6 destination \"{text}\" is not supported"
                        ),
                        dst.span,
                    );
                }
                Selector::Autogroup(Autogroup::Internet)
                | Selector::Wildcard
                | Selector::Range(..)
                | Selector::IpSet(_) => {
                    error(
                        self,
                        format!("SSH tests dst contains disallowed element \"{text}\""),
                        dst.span,
                    );
                }
                Selector::Tag(tag) if !self.tag_defined(tag) => {
                    error(
                        self,
                        format!("SSH tests dst contains unknown tag \"{tag}\""),
                        dst.span,
                    );
                }
                Selector::Host(host) | Selector::HostRef(host) if self.host(host).is_none() => {
                    error(
                        self,
                        format!("{FAILED}: sshTests[{index}]: unknown host \"{host}\""),
                        dst.span,
                    );
                }
                _ => {}
            }
        }
        if test.accept.is_empty() && test.check.is_empty() && test.deny.is_empty() {
            error(
                self,
                format!(
                    "{FAILED}: sshTests[{index}]: at least one of \"accept\", \"check\" or \"deny\" must list a user"
                ),
                test.span,
            );
        }
        for list in [&test.accept, &test.check, &test.deny] {
            for user in list {
                match user.value.trimmed() {
                    "" => error(
                        self,
                        format!("{FAILED}: sshTests[{index}]: user \"\" is not valid"),
                        user.span,
                    ),
                    "*" => error(self, "user \"*\" is not valid".to_owned(), user.span),
                    _ => {}
                }
            }
        }
    }
}
