//! tailpolicy: parse, validate, simulate and lint Tailscale tailnet policy files offline.
//!
//! The crate does no I/O and never panics on any input. Layers, in order:
//! [`syntax`] (HuJSON with byte spans) → [`model`] (typed policy) → [`validate`] →
//! [`resolve`] and [`compile`] (addresses, per-node packet filters) → queries → lints.

pub mod addr;
pub mod api;
pub mod codes;
pub mod compile;
pub mod diagnostic;
pub mod duration;
mod fuzzy;
pub mod goquote;
pub mod inventory;
pub mod lint;
pub mod model;
pub mod names;
pub mod ports;
pub mod proto;
pub mod resolve;
pub mod selector;
pub mod span;
pub mod syntax;
pub mod validate;

pub use api::{CheckOptions, CheckReport, check};
pub use diagnostic::{Diagnostic, Label, Severity};
pub use inventory::Inventory;
pub use lint::{LintConfig, LintContext, lint};
pub use span::{LineColumn, LineIndex, PositionEncoding, Span, Spanned};
