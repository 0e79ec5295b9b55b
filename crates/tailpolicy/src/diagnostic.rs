//! The one diagnostic type every layer reports through.

use serde::Serialize;

use crate::span::Span;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// A span with an optional note shown under it. The first label of a diagnostic is primary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Label {
    pub span: Span,
    pub message: Option<String>,
}

/// A problem found in a policy: a syntax error, a validation error, a failed test or a lint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// Stable code from [`crate::codes`].
    pub code: &'static str,
    pub severity: Severity,
    /// Lowercase, no final period; user input in backticks or quotes as Tailscale writes it.
    pub message: String,
    pub labels: Vec<Label>,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn new(
        code: &'static str,
        severity: Severity,
        message: impl Into<String>,
        span: Span,
    ) -> Self {
        Self::from_parts(code, severity, message.into(), span)
    }

    // The body out of the generic `new`, once in the module (module size).
    #[inline(never)]
    fn from_parts(code: &'static str, severity: Severity, message: String, span: Span) -> Self {
        Self {
            code,
            severity,
            message,
            labels: vec![Label {
                span,
                message: None,
            }],
            help: None,
        }
    }

    pub fn error(code: &'static str, message: impl Into<String>, span: Span) -> Self {
        Self::new(code, Severity::Error, message, span)
    }

    pub fn warning(code: &'static str, message: impl Into<String>, span: Span) -> Self {
        Self::new(code, Severity::Warning, message, span)
    }

    #[must_use]
    pub fn with_help(self, help: impl Into<String>) -> Self {
        self.with_help_string(help.into())
    }

    #[inline(never)]
    fn with_help_string(mut self, help: String) -> Self {
        self.help = Some(help);
        self
    }

    /// Adds a note to the primary label.
    #[must_use]
    pub fn with_label_message(mut self, message: impl Into<String>) -> Self {
        if let Some(label) = self.labels.first_mut() {
            label.message = Some(message.into());
        }
        self
    }

    /// Adds a secondary label.
    #[must_use]
    pub fn with_secondary(self, span: Span, message: impl Into<String>) -> Self {
        self.with_secondary_string(span, message.into())
    }

    #[inline(never)]
    fn with_secondary_string(mut self, span: Span, message: String) -> Self {
        self.labels.push(Label {
            span,
            message: Some(message),
        });
        self
    }

    /// The span of the primary label.
    pub fn primary_span(&self) -> Span {
        self.labels.first().map(|l| l.span).unwrap_or_default()
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// True when any diagnostic is an error.
pub fn has_errors(diagnostics: &[Diagnostic]) -> bool {
    diagnostics.iter().any(Diagnostic::is_error)
}
