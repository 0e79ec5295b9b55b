//! The registry of stable diagnostic codes. A code is never reused or renumbered.
//!
//! * `E0xx` HuJSON syntax
//! * `E1xx` policy structure (keys, types)
//! * `E2xx` selectors, names and references
//! * `E3xx` rule semantics (ports, protocols, grants, ssh, nodeAttrs, ...)
//! * `E4xx` `tests` and `sshTests`
//! * `TPxxx` lints (see `lint::registry`)

/// A HuJSON syntax error.
pub const SYNTAX: &str = "E001";
/// The same key appears twice in one object.
pub const DUPLICATE_KEY: &str = "E002";
/// The document is empty or holds only comments.
pub const EMPTY_DOCUMENT: &str = "E003";
/// Nesting deeper than the parser allows.
pub const NESTING_TOO_DEEP: &str = "E004";

/// A key this version does not know, at any level.
pub const UNKNOWN_FIELD: &str = "E101";
/// A value of the wrong JSON type.
pub const WRONG_TYPE: &str = "E102";
/// The same field given twice under different spellings (keys match case-insensitively).
pub const DUPLICATE_FIELD: &str = "E103";
/// A setting with a value outside its allowed set.
pub const INVALID_SETTING: &str = "E104";
