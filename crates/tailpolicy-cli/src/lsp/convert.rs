//! Core results (byte spans) to LSP types (UTF-16 positions) and back. Positions go through
//! the core's `LineIndex`; nothing here knows about policies.

use lsp_types as lsp;
use tailpolicy::ide::{self, CodeActionKind, CompletionKind, NameKind, SymbolKind};
use tailpolicy::{Diagnostic, LineColumn, LineIndex, PositionEncoding, Severity, Span};

/// Where the rule documentation lives: `<repository>/blob/main/docs/rules/<CODE>.md`.
pub fn rule_doc_url(code: &str) -> Option<lsp::Uri> {
    let url = format!(
        "{}/blob/main/docs/rules/{code}.md",
        env!("CARGO_PKG_REPOSITORY")
    );
    url.parse().ok()
}

pub fn position(index: &LineIndex<'_>, offset: u32) -> lsp::Position {
    let at = index.position(offset, PositionEncoding::Utf16);
    lsp::Position::new(at.line.saturating_sub(1), at.column.saturating_sub(1))
}

pub fn range(index: &LineIndex<'_>, span: Span) -> lsp::Range {
    lsp::Range::new(position(index, span.start), position(index, span.end))
}

pub fn offset(index: &LineIndex<'_>, position: lsp::Position) -> u32 {
    index.offset(
        LineColumn {
            line: position.line.saturating_add(1),
            column: position.character.saturating_add(1),
        },
        PositionEncoding::Utf16,
    )
}

pub fn span(index: &LineIndex<'_>, range: lsp::Range) -> Span {
    let start = offset(index, range.start);
    let end = offset(index, range.end);
    Span::new(start.min(end), end.max(start))
}

pub fn diagnostic(index: &LineIndex<'_>, uri: &lsp::Uri, d: &Diagnostic) -> lsp::Diagnostic {
    let severity = match d.severity {
        Severity::Error => lsp::DiagnosticSeverity::ERROR,
        Severity::Warning => lsp::DiagnosticSeverity::WARNING,
        Severity::Info => lsp::DiagnosticSeverity::INFORMATION,
    };
    let mut message = d.message.clone();
    if let Some(help) = &d.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    let related: Vec<lsp::DiagnosticRelatedInformation> = d
        .labels
        .iter()
        .skip(1)
        .map(|label| lsp::DiagnosticRelatedInformation {
            location: lsp::Location::new(uri.clone(), range(index, label.span)),
            message: label.message.clone().unwrap_or_default(),
        })
        .collect();
    let code_description = d
        .code
        .starts_with("TP")
        .then(|| rule_doc_url(d.code))
        .flatten()
        .map(|href| lsp::CodeDescription { href });
    lsp::Diagnostic {
        range: range(index, d.primary_span()),
        severity: Some(severity),
        code: Some(lsp::NumberOrString::String(d.code.to_owned())),
        code_description,
        source: Some("tailpolicy".to_owned()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        tags: None,
        data: None,
    }
}

pub fn edit(index: &LineIndex<'_>, edit: &ide::TextEdit) -> lsp::TextEdit {
    lsp::TextEdit::new(range(index, edit.span), edit.new_text.clone())
}

#[expect(
    deprecated,
    reason = "`DocumentSymbol::deprecated` must be written, as None"
)]
pub fn symbol(index: &LineIndex<'_>, symbol: &ide::Symbol) -> lsp::DocumentSymbol {
    let kind = match symbol.kind {
        SymbolKind::Section => lsp::SymbolKind::NAMESPACE,
        SymbolKind::Rule => lsp::SymbolKind::OBJECT,
        SymbolKind::Definition => lsp::SymbolKind::CONSTANT,
        SymbolKind::Field => lsp::SymbolKind::FIELD,
    };
    let children: Vec<lsp::DocumentSymbol> = symbol
        .children
        .iter()
        .map(|c| self::symbol(index, c))
        .collect();
    lsp::DocumentSymbol {
        name: if symbol.name.is_empty() {
            "\"\"".to_owned()
        } else {
            symbol.name.clone()
        },
        detail: symbol.detail.clone(),
        kind,
        tags: None,
        deprecated: None,
        range: range(index, symbol.span),
        selection_range: range(index, symbol.selection_span),
        children: (!children.is_empty()).then_some(children),
    }
}

pub fn completion(index: &LineIndex<'_>, c: &ide::Completion) -> lsp::CompletionItem {
    let kind = match c.kind {
        CompletionKind::Field => lsp::CompletionItemKind::FIELD,
        CompletionKind::Value => lsp::CompletionItemKind::VALUE,
        CompletionKind::Name(NameKind::Group | NameKind::Ipset) => {
            lsp::CompletionItemKind::REFERENCE
        }
        CompletionKind::Name(NameKind::Tag) => lsp::CompletionItemKind::ENUM_MEMBER,
        CompletionKind::Name(NameKind::Host) => lsp::CompletionItemKind::CONSTANT,
        CompletionKind::Name(NameKind::Autogroup) => lsp::CompletionItemKind::KEYWORD,
        CompletionKind::Name(NameKind::Posture | NameKind::Service) => {
            lsp::CompletionItemKind::REFERENCE
        }
    };
    lsp::CompletionItem {
        label: c.label.clone(),
        kind: Some(kind),
        detail: c.detail.clone(),
        text_edit: Some(lsp::CompletionTextEdit::Edit(lsp::TextEdit::new(
            range(index, c.edit_span),
            c.new_text.clone(),
        ))),
        ..lsp::CompletionItem::default()
    }
}

pub fn action_kind(kind: CodeActionKind) -> lsp::CodeActionKind {
    match kind {
        CodeActionKind::QuickFix => lsp::CodeActionKind::QUICKFIX,
        CodeActionKind::Refactor => lsp::CodeActionKind::REFACTOR_REWRITE,
    }
}

/// Applies an LSP content change (a range, or the whole text) to `text`.
pub fn apply_change(text: &mut String, change: lsp::TextDocumentContentChangeEvent) {
    match change.range {
        None => *text = change.text,
        Some(range) => {
            let index = LineIndex::new(text);
            let span = span(&index, range);
            if text.get(span.range()).is_some() {
                text.replace_range(span.range(), &change.text);
            }
        }
    }
}
