//! The `ssh` section.

use crate::codes;
use crate::model::SshRule;
use crate::selector::{Autogroup, Selector};
use crate::text::Trimmed;

use super::{Place, Validator};

impl Validator<'_> {
    pub(super) fn ssh_rules(&mut self) {
        let policy = self.policy;
        for rule in &policy.ssh {
            self.ssh_rule(rule);
        }
    }

    fn ssh_rule(&mut self, rule: &SshRule) {
        let action = rule.action.as_ref().map(|a| (a.value.trimmed(), a.span));
        match action {
            None | Some(("", _)) => {
                self.error(
                    codes::INVALID_SSH_ACTION,
                    "action must be specified",
                    rule.action.as_ref().map_or(rule.span, |a| a.span),
                );
                self.help("use \"accept\" or \"check\"");
            }
            Some(("accept" | "check", _)) => {}
            Some((other, span)) => {
                self.error(
                    codes::INVALID_SSH_ACTION,
                    format!("\"{other}\" is not a valid action"),
                    span,
                );
                self.help("SSH actions are \"accept\" or \"check\", in lower case");
            }
        }
        let is_check = matches!(action, Some(("check", _)));

        match &rule.users {
            Some(users) if !users.is_empty() => {
                for user in users.iter() {
                    let name = user.value.trimmed();
                    if name.is_empty() || name == "*" {
                        self.error(
                            codes::INVALID_SSH_USERS,
                            format!("user \"{name}\" is not valid"),
                            user.span,
                        );
                        self.help("list local users such as \"root\" or \"ubuntu\", or use \"autogroup:nonroot\"");
                    } else if let Selector::LocalpartDomain(domain) = Selector::parse(name) {
                        self.domain(domain, false, user.span);
                    }
                }
            }
            _ => {
                let span = rule.users.as_ref().map_or(rule.span, |u| u.span);
                self.error(codes::INVALID_SSH_USERS, "users must be specified", span);
                self.help("add e.g. \"users\": [\"autogroup:nonroot\"]");
            }
        }

        if let Some(period) = &rule.check_period {
            self.check_period(&period.value, period.span, is_check);
        }
        for recorder in &rule.recorder {
            self.soft_tag(recorder, "recorder");
        }
        for env in &rule.accept_env {
            if env.value.is_empty() {
                self.error(
                    codes::INVALID_ACCEPT_ENV,
                    "acceptEnv values cannot be empty",
                    env.span,
                );
            }
        }

        let sources = self.selectors(&rule.src.items, Place::SshSrc);
        let tagged_source =
            rule.src.iter().zip(&sources).find(|(_, s)| {
                matches!(s, Selector::Tag(_) | Selector::Autogroup(Autogroup::Tagged))
            });
        for entry in rule.dst.iter() {
            let selector = Selector::parse(&entry.value);
            match selector {
                Selector::Wildcard => {
                    self.error(
                        codes::SELECTOR_NOT_ALLOWED,
                        "wildcard (*) is not supported as SSH destination",
                        entry.span,
                    );
                    self.help(
                        "use `autogroup:member`, `autogroup:tagged`, `autogroup:self` or tags",
                    );
                    continue;
                }
                Selector::Group(_) => {
                    self.error(
                        codes::SELECTOR_NOT_ALLOWED,
                        format!("invalid dst \"{}\"", entry.value.trimmed()),
                        entry.span,
                    );
                    self.help("groups cannot be SSH destinations; use `autogroup:self` for each user's own devices");
                    continue;
                }
                _ => self.check_selector(&selector, &entry.value, Place::SshDst, entry.span),
            }
            match selector {
                Selector::User(user) => {
                    let only_same_user = sources.iter().all(|s| *s == Selector::User(user));
                    if let Some((tag_src, _)) = tagged_source {
                        self.error(
                            codes::INVALID_SSH_COMBINATION,
                            format!("tags in SSH source cannot access user-owned devices ({user})"),
                            entry.span,
                        )
                        .with_secondary_in_place(tag_src.span, "tagged source");
                    } else if !only_same_user {
                        self.error(
                            codes::INVALID_SSH_COMBINATION,
                            format!("user destination requires source to contain only that same user \"{user}\""),
                            entry.span,
                        );
                        self.help("use `autogroup:self` to let each user reach their own devices");
                    }
                }
                Selector::Autogroup(Autogroup::Member) => {
                    if let Some((tag_src, _)) = tagged_source {
                        self.error(
                            codes::INVALID_SSH_COMBINATION,
                            "tags in SSH source cannot access autogroup:member (user-owned devices)",
                            entry.span,
                        )
                        .with_secondary_in_place(tag_src.span, "tagged source");
                    }
                }
                Selector::Autogroup(Autogroup::SelfDevices) => {
                    if let Some((tag_src, _)) = tagged_source {
                        self.error(
                            codes::INVALID_SSH_COMBINATION,
                            "autogroup:self destination requires source to contain only users or groups, not tags or autogroup:tagged",
                            entry.span,
                        )
                        .with_secondary_in_place(tag_src.span, "tagged source");
                    }
                }
                _ => {}
            }
        }
    }

    fn check_period(&mut self, text: &str, span: crate::span::Span, is_check: bool) {
        if !is_check {
            // Headscale rejects it; no capture shows Tailscale doing so, and policies in
            // the wild (tailscale-client-go's own test data) carry it on accept rules.
            self.warn(
                codes::INVALID_CHECK_PERIOD,
                "checkPeriod has no effect on an \"accept\" rule",
                span,
            );
            self.help("`checkPeriod` applies to `\"action\": \"check\"` rules; remove it or make the rule a check rule");
            return;
        }
        if text == "always" {
            return;
        }
        match crate::duration::parse_go_duration(text) {
            Err(error) => {
                self.error(codes::INVALID_CHECK_PERIOD, error.to_string(), span);
                self.help("use a duration such as \"12h\" or \"30m\", or \"always\"");
            }
            Ok(d) if d < crate::duration::GoDuration::ZERO => {
                self.error(
                    codes::INVALID_CHECK_PERIOD,
                    format!(
                        "checkPeriod {} must be a positive duration",
                        crate::duration::format_go_duration(d)
                    ),
                    span,
                );
            }
            Ok(d) if d > crate::duration::MAX_CHECK_PERIOD => {
                self.error(
                    codes::INVALID_CHECK_PERIOD,
                    format!(
                        "checkPeriod {} is above the max (168h)",
                        crate::duration::format_go_duration(d)
                    ),
                    span,
                );
            }
            Ok(_) => {}
        }
    }
}

trait SecondaryInPlace {
    fn with_secondary_in_place(&mut self, span: crate::span::Span, message: &str);
}

impl SecondaryInPlace for crate::diagnostic::Diagnostic {
    fn with_secondary_in_place(&mut self, span: crate::span::Span, message: &str) {
        self.labels.push(crate::diagnostic::Label {
            span,
            message: Some(message.to_owned()),
        });
    }
}
