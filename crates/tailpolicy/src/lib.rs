//! tailpolicy: parse, validate, simulate and lint Tailscale tailnet policy files offline.
//!
//! The crate does no I/O and never panics on any input. Layers, in order:
//! [`syntax`] (HuJSON with byte spans) → [`model`] (typed policy) → [`validate`] →
//! [`resolve`] and [`mod@compile`] (addresses, per-node packet filters) → [`query`].
//! Beside them, [`mod@format`] lays a policy out canonically, keeping every comment.
//!
//! # Checking a policy
//!
//! ```
//! let report = tailpolicy::check(r#"{"acls": [{"action": "accept", "src": ["tag:ci"], "dst": ["*:*"]}]}"#,
//!     &Default::default());
//! assert!(!report.is_valid());
//! assert_eq!(report.diagnostics[0].message, r#"src=tag not found: "tag:ci""#);
//! ```
//!
//! # Asking what a CI runner can reach
//!
//! A source given as an identity (here a tag) that no node has stands for a new node with
//! that identity, so no inventory is needed to reason about ephemeral runners.
//!
//! ```
//! use tailpolicy::query::Simulator;
//!
//! let text = r#"{
//!   "tagOwners": {"tag:depot-runner": []},
//!   "hosts": {"database": "100.101.102.103"},
//!   "acls": [{"action": "accept", "src": ["tag:depot-runner"], "proto": "tcp", "dst": ["database:5432"]}],
//! }"#;
//! let policy = tailpolicy::parse_valid(text, &Default::default()).expect("valid policy");
//! let simulator = Simulator::new(&policy, None);
//!
//! let answer = simulator.query("tag:depot-runner", "database:5432", Some("tcp")).unwrap();
//! assert!(answer.allowed);
//! assert_eq!(answer.matches[0].index, 0); // acls[0]
//!
//! let denied = simulator.query("tag:depot-runner", "database:22", Some("tcp")).unwrap();
//! assert!(!denied.allowed);
//! assert!(denied.explanation.contains("port(s) 5432 but not 22"));
//! ```

pub mod addr;
pub mod api;
pub mod codes;
pub mod compile;
pub mod diagnostic;
pub mod diff;
pub mod duration;
mod fasthash;
#[cfg(feature = "wasm")]
pub mod ffi;
#[cfg(any(feature = "wasm", feature = "review"))]
mod ffi_js;
#[cfg(feature = "review")]
pub mod ffi_review;
pub mod format;
mod fuzzy;
pub mod goquote;
pub mod ide;
pub mod inventory;
pub mod lint;
pub mod model;
pub mod names;
pub mod output;
pub mod policy_tests;
pub mod ports;
pub mod proto;
pub mod query;
pub mod resolve;
pub mod selector;
pub mod span;
pub mod syntax;
mod text;
pub mod validate;

/// The example of `docs/embedding.md`, compiled as a doctest so that it stays true.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/embedding.md")]
pub struct EmbeddingDoc;

pub use api::{
    CheckOptions, CheckReport, NodeOutput, check, compile, compile_each, compile_nodes, load,
    parse_valid,
};
pub use diagnostic::{Diagnostic, Label, Severity};
pub use format::{FormatError, format};
pub use inventory::Inventory;
pub use lint::{LintConfig, LintContext, lint};
pub use query::{Answer, Simulator};
pub use span::{LineColumn, LineIndex, PositionEncoding, Span, Spanned};
