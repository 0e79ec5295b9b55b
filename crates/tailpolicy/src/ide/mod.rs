//! Editor features on one policy text, for the language server (`tailpolicy lsp`): document
//! symbols, hover, go to definition, references, rename, completion and code actions.
//!
//! Everything works on the HuJSON syntax tree with byte spans, so that a document with
//! validation errors still gets answers; a document that does not even parse is read by a
//! forgiving reader ([`recover`]) into the same tree. Offsets are bytes; the server converts
//! them to UTF-16 positions with [`crate::LineIndex`]. No input makes any of this panic (a
//! property test drives random text through every function).

pub mod actions;
pub mod complete;
pub mod fields;
pub mod hover;
pub mod index;
pub mod locate;
pub mod recover;
pub mod schema;
pub mod symbols;

use std::borrow::Cow;

use crate::span::Span;
use crate::syntax::{self, Value};

pub use actions::{CodeAction, CodeActionKind};
pub use complete::{Completion, CompletionKind};
pub use hover::Hover;
pub use index::{Index, NameKind};
pub use symbols::{Symbol, SymbolKind};

/// A replacement of the text at `span` (bytes) with `new_text`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextEdit {
    pub span: Span,
    pub new_text: String,
}

/// One policy text and its syntax tree, ready for editor queries.
#[derive(Debug)]
pub struct Analysis<'a> {
    text: &'a str,
    root: Option<Cow<'a, Value>>,
    /// True when the strict parser failed and the tree comes from the forgiving reader.
    pub recovered: bool,
}

/// The tree the editor features work on: the strict parser's, or else the forgiving
/// reader's (`true`). A server keeps it for as long as the text does not change.
pub fn tree(text: &str) -> (Option<Value>, bool) {
    match syntax::parse(text).value {
        Some(root) => (Some(root), false),
        None => (recover::parse(text), true),
    }
}

impl<'a> Analysis<'a> {
    pub fn new(text: &'a str) -> Self {
        let (root, recovered) = tree(text);
        Self {
            text,
            root: root.map(Cow::Owned),
            recovered,
        }
    }

    /// An analysis of `text` on its tree from [`tree`], kept from an earlier call.
    pub fn with_tree(text: &'a str, tree: &'a (Option<Value>, bool)) -> Self {
        Self {
            text,
            root: tree.0.as_ref().map(Cow::Borrowed),
            recovered: tree.1,
        }
    }

    pub fn text(&self) -> &'a str {
        self.text
    }

    pub fn root(&self) -> Option<&Value> {
        self.root.as_deref()
    }

    pub fn index(&self) -> Index<'_> {
        match self.root() {
            Some(root) => Index::new(self.text, root),
            None => Index::default(),
        }
    }

    /// The outline: sections, and in them rules and definitions.
    pub fn symbols(&self) -> Vec<Symbol> {
        self.root()
            .map(|root| symbols::symbols(self.text, root))
            .unwrap_or_default()
    }

    pub fn hover(&self, offset: u32) -> Option<Hover> {
        hover::hover(self, offset)
    }

    /// Where the name at `offset` is defined.
    pub fn definition(&self, offset: u32) -> Vec<Span> {
        let index = self.index();
        let Some((kind, name, _)) = index.name_at(offset) else {
            return Vec::new();
        };
        index
            .definitions_of(kind, name)
            .map(|d| d.key_span)
            .collect()
    }

    /// Every use of the name at `offset`, and its definitions when `declarations`.
    pub fn references(&self, offset: u32, declarations: bool) -> Vec<Span> {
        let index = self.index();
        let Some((kind, name, _)) = index.name_at(offset) else {
            return Vec::new();
        };
        let mut spans: Vec<Span> = Vec::new();
        if declarations {
            spans.extend(index.definitions_of(kind, name).map(|d| d.key_span));
        }
        spans.extend(index.references_to(kind, name).map(|r| r.span));
        spans.sort();
        spans
    }

    /// The name that a rename at `offset` would change and its span, or why not.
    pub fn prepare_rename(&self, offset: u32) -> Result<(Span, String), String> {
        let index = self.index();
        let Some((kind, name, span)) = index.name_at(offset) else {
            return Err("no group, tag, host, ipset or posture here".to_owned());
        };
        if matches!(kind, NameKind::Autogroup | NameKind::Service) {
            return Err(format!("`{name}` is not defined in the policy"));
        }
        Ok((span, name.to_owned()))
    }

    /// The edits that rename the group, tag, host, ipset or posture at `offset` to
    /// `new_name` everywhere in the document (the prefix, `group:` etc., may be left out).
    pub fn rename(&self, offset: u32, new_name: &str) -> Result<Vec<TextEdit>, String> {
        let index = self.index();
        let Some((kind, name, _)) = index.name_at(offset) else {
            return Err("no group, tag, host, ipset or posture here".to_owned());
        };
        if matches!(kind, NameKind::Autogroup | NameKind::Service) {
            return Err(format!("`{name}` is not defined in the policy"));
        }
        let prefix = kind.prefix();
        let new_name = new_name.trim();
        let new_name = if new_name.starts_with(prefix) {
            new_name.to_owned()
        } else {
            format!("{prefix}{new_name}")
        };
        let bare = new_name.get(prefix.len()..).unwrap_or("");
        let bad = bare.is_empty()
            || bare
                .chars()
                .any(|c| c == ':' || c == '"' || c == '\\' || c.is_control() || c.is_whitespace());
        if bad {
            return Err(format!(
                "`{new_name}` is not a valid {} name",
                kind.describe()
            ));
        }
        let mut edits = Vec::new();
        for definition in index.definitions_of(kind, name) {
            let Some(span) = definition.name_span else {
                return Err(format!(
                    "`{name}` is written with escapes in its definition: rename it by hand"
                ));
            };
            edits.push(TextEdit {
                span,
                new_text: new_name.clone(),
            });
        }
        for reference in index.references_to(kind, name) {
            if !reference.exact {
                return Err(format!(
                    "`{name}` is written with escapes in {}: rename it by hand",
                    reference.place
                ));
            }
            edits.push(TextEdit {
                span: reference.span,
                new_text: new_name.clone(),
            });
        }
        edits.sort_by_key(|e| e.span);
        edits.dedup_by_key(|e| e.span);
        Ok(edits)
    }

    pub fn completions(&self, offset: u32) -> Vec<Completion> {
        complete::completions(self, offset)
    }

    /// Quick fixes for `diagnostics` (those of the same text) that touch `range`, and the
    /// refactorings available there.
    pub fn code_actions(&self, range: Span, diagnostics: &[crate::Diagnostic]) -> Vec<CodeAction> {
        actions::code_actions(self, range, diagnostics)
    }
}

/// Applies non-overlapping edits to `text` (for tests and clients without edit support).
pub fn apply_edits(text: &str, edits: &[TextEdit]) -> String {
    let mut edits: Vec<&TextEdit> = edits.iter().collect();
    edits.sort_by_key(|e| std::cmp::Reverse(e.span.start));
    let mut out = text.to_owned();
    for edit in edits {
        let range = edit.span.range();
        if out.get(range.clone()).is_some() {
            out.replace_range(range, &edit.new_text);
        }
    }
    out
}
