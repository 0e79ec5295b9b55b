//! `tailpolicy lsp`: a language server over standard input and output, on `lsp-server` (as
//! Ruff and rust-analyzer use it). It only maps the core's results to LSP types: checks come
//! from `tailpolicy::check`, everything else from `tailpolicy::ide`, formatting from
//! `tailpolicy::format`.
//!
//! Diagnostics run on a worker thread. An edit schedules the document's check after a short
//! pause ([`DEBOUNCE`]); a newer edit pushes it back, a check already queued for an older
//! version is skipped, and a result for a version that has since changed is dropped.

mod convert;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lsp_server::{Connection, ErrorCode, Message, Notification, Request, Response};
use lsp_types as lsp;
use lsp_types::notification::Notification as _;
use lsp_types::request::Request as _;
use serde_json::Value;
use tailpolicy::ide::Analysis;
use tailpolicy::{CheckOptions, Diagnostic, Inventory, LineIndex, LintConfig, Span};

use crate::input::config::discover_config;

/// How long after the last edit a document is checked.
pub const DEBOUNCE: Duration = Duration::from_millis(30);

/// Documents at least this long get their diagnostics in two steps after an edit: first
/// without [`SLOW_RULE`] (with its findings of the last full check carried over where the
/// text did not change), then the full check.
const QUICK_FIRST_BYTES: usize = 200_000;

/// The lint that takes most of a large policy's check (`redundant-rule`: about 120 of the
/// 155 ms of a 1 MB policy, docs/performance.md).
const SLOW_RULE: &str = "TP022";

type Error = Box<dyn std::error::Error + Send + Sync>;

/// One open document.
struct Document {
    text: Arc<str>,
    version: i32,
    /// Its syntax tree for the editor features, made on the first request after an edit.
    tree: std::cell::OnceCell<(Option<tailpolicy::syntax::Value>, bool)>,
}

impl Document {
    fn new(text: Arc<str>, version: i32) -> Self {
        Self {
            text,
            version,
            tree: std::cell::OnceCell::new(),
        }
    }

    fn analysis(&self) -> Analysis<'_> {
        let tree = self.tree.get_or_init(|| tailpolicy::ide::tree(&self.text));
        Analysis::with_tree(&self.text, tree)
    }
}

/// A check to run.
struct Job {
    uri: lsp::Uri,
    version: i32,
    text: Arc<str>,
}

/// The latest version of each document, and the diagnostics of the last check (with the
/// version they belong to), shared with the worker.
#[derive(Default)]
struct Shared {
    versions: HashMap<String, i32>,
    diagnostics: HashMap<String, (i32, Vec<Diagnostic>)>,
}

pub fn run() -> Result<(), Error> {
    let (connection, io_threads) = Connection::stdio();
    let served = serve(connection);
    // The reader thread ends with an error when the client closes the pipe without `exit`;
    // the session is over either way. Before `initialize` its error is the real cause: the
    // server's own one is only "disconnected channel".
    let read = io_threads.join();
    match (served, read) {
        (Ok(()), _) => Ok(()),
        (Err(err), Err(read)) if is_initialize_error(&*err) => Err(format!(
            "no `initialize` request could be read ({read}); `tailpolicy lsp` speaks the \
             Language Server Protocol on standard input (`Content-Length` headers, then \
             JSON-RPC) and is meant to be started by an editor"
        )
        .into()),
        (Err(err), _) if is_initialize_error(&*err) => Err(
            "standard input closed before an `initialize` request; `tailpolicy lsp` is meant \
             to be started by an editor"
                .into(),
        ),
        (Err(err), _) => Err(err),
    }
}

fn is_initialize_error(err: &(dyn std::error::Error + Send + Sync + 'static)) -> bool {
    err.downcast_ref::<NotInitialized>().is_some()
}

/// The handshake failed: nothing the server did later is involved.
#[derive(Debug)]
struct NotInitialized(lsp_server::ProtocolError);

impl std::fmt::Display for NotInitialized {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "initialize: {}", self.0)
    }
}

impl std::error::Error for NotInitialized {}

/// The server on any connection (the tests use an in-memory one).
pub fn serve(connection: Connection) -> Result<(), Error> {
    let capabilities = serde_json::to_value(capabilities())?;
    let initialize = connection
        .initialize(capabilities)
        .map_err(NotInitialized)?;
    let _params: lsp::InitializeParams = serde_json::from_value(initialize).unwrap_or_default();
    let shared = Arc::new(Mutex::new(Shared::default()));
    let (jobs, job_receiver) = crossbeam_channel::unbounded::<Job>();
    let worker = {
        let sender = connection.sender.clone();
        let shared = Arc::clone(&shared);
        std::thread::spawn(move || worker(&job_receiver, &sender, &shared))
    };
    let mut server = Server {
        connection: &connection,
        documents: HashMap::new(),
        pending: HashMap::new(),
        jobs,
        shared,
    };
    server.main_loop()?;
    drop(server);
    let _ = worker.join();
    Ok(())
}

fn capabilities() -> lsp::ServerCapabilities {
    lsp::ServerCapabilities {
        position_encoding: Some(lsp::PositionEncodingKind::UTF16),
        text_document_sync: Some(lsp::TextDocumentSyncCapability::Kind(
            lsp::TextDocumentSyncKind::INCREMENTAL,
        )),
        hover_provider: Some(lsp::HoverProviderCapability::Simple(true)),
        definition_provider: Some(lsp::OneOf::Left(true)),
        references_provider: Some(lsp::OneOf::Left(true)),
        rename_provider: Some(lsp::OneOf::Right(lsp::RenameOptions {
            prepare_provider: Some(true),
            work_done_progress_options: lsp::WorkDoneProgressOptions::default(),
        })),
        completion_provider: Some(lsp::CompletionOptions {
            trigger_characters: Some(vec!["\"".to_owned(), ":".to_owned()]),
            ..lsp::CompletionOptions::default()
        }),
        code_action_provider: Some(lsp::CodeActionProviderCapability::Options(
            lsp::CodeActionOptions {
                code_action_kinds: Some(vec![
                    lsp::CodeActionKind::QUICKFIX,
                    lsp::CodeActionKind::REFACTOR_REWRITE,
                ]),
                ..lsp::CodeActionOptions::default()
            },
        )),
        document_formatting_provider: Some(lsp::OneOf::Left(true)),
        document_symbol_provider: Some(lsp::OneOf::Left(true)),
        ..lsp::ServerCapabilities::default()
    }
}

struct Server<'c> {
    connection: &'c Connection,
    documents: HashMap<String, Document>,
    /// Documents whose check waits for the end of a burst of edits, and until when.
    pending: HashMap<String, (lsp::Uri, Instant)>,
    jobs: crossbeam_channel::Sender<Job>,
    shared: Arc<Mutex<Shared>>,
}

impl Server<'_> {
    fn main_loop(&mut self) -> Result<(), Error> {
        loop {
            let wait = self
                .pending
                .values()
                .map(|(_, at)| at.saturating_duration_since(Instant::now()))
                .min()
                .unwrap_or(Duration::from_secs(3600));
            match self.connection.receiver.recv_timeout(wait) {
                Ok(Message::Request(request)) => {
                    // A client that closes the pipe right after `shutdown` (Neovim's
                    // `qa!`) has still shut the server down properly.
                    match self.connection.handle_shutdown(&request) {
                        Ok(false) => {}
                        Ok(true) | Err(_) => return Ok(()),
                    }
                    let response = self.request(request);
                    self.connection.sender.send(Message::Response(response))?;
                }
                Ok(Message::Notification(notification)) => {
                    if notification.method == lsp::notification::Exit::METHOD {
                        return Ok(());
                    }
                    self.notification(notification);
                }
                Ok(Message::Response(_)) => {}
                Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
                Err(crossbeam_channel::RecvTimeoutError::Disconnected) => return Ok(()),
            }
            let now = Instant::now();
            let due: Vec<String> = self
                .pending
                .iter()
                .filter(|(_, (_, at))| *at <= now)
                .map(|(key, _)| key.clone())
                .collect();
            for key in due {
                if let Some((uri, _)) = self.pending.remove(&key) {
                    self.schedule(uri);
                }
            }
        }
    }

    fn schedule(&self, uri: lsp::Uri) {
        if let Some(doc) = self.documents.get(uri.as_str()) {
            let _ = self.jobs.send(Job {
                uri,
                version: doc.version,
                text: Arc::clone(&doc.text),
            });
        }
    }

    fn set_version(&self, uri: &lsp::Uri, version: Option<i32>) {
        if let Ok(mut shared) = self.shared.lock() {
            match version {
                Some(v) => shared.versions.insert(uri.as_str().to_owned(), v),
                None => shared.versions.remove(uri.as_str()),
            };
        }
    }

    fn notification(&mut self, notification: Notification) {
        match notification.method.as_str() {
            lsp::notification::DidOpenTextDocument::METHOD => {
                let Ok(params) =
                    serde_json::from_value::<lsp::DidOpenTextDocumentParams>(notification.params)
                else {
                    return;
                };
                let doc = params.text_document;
                self.set_version(&doc.uri, Some(doc.version));
                self.documents.insert(
                    doc.uri.as_str().to_owned(),
                    Document::new(Arc::from(doc.text), doc.version),
                );
                // Opening shows diagnostics at once; only typing is debounced.
                self.schedule(doc.uri);
            }
            lsp::notification::DidChangeTextDocument::METHOD => {
                let Ok(params) =
                    serde_json::from_value::<lsp::DidChangeTextDocumentParams>(notification.params)
                else {
                    return;
                };
                let uri = params.text_document.uri;
                let Some(doc) = self.documents.get_mut(uri.as_str()) else {
                    return;
                };
                let mut text = doc.text.to_string();
                for change in params.content_changes {
                    convert::apply_change(&mut text, change);
                }
                *doc = Document::new(Arc::from(text), params.text_document.version);
                let version = doc.version;
                self.set_version(&uri, Some(version));
                self.pending
                    .insert(uri.as_str().to_owned(), (uri, Instant::now() + DEBOUNCE));
            }
            lsp::notification::DidCloseTextDocument::METHOD => {
                let Ok(params) =
                    serde_json::from_value::<lsp::DidCloseTextDocumentParams>(notification.params)
                else {
                    return;
                };
                let uri = params.text_document.uri;
                self.documents.remove(uri.as_str());
                self.pending.remove(uri.as_str());
                self.set_version(&uri, None);
                publish(&self.connection.sender, uri, None, Vec::new());
            }
            lsp::notification::DidChangeWatchedFiles::METHOD => {
                // A changed `tailpolicy.toml` or inventory: check every document again.
                let uris: Vec<String> = self.documents.keys().cloned().collect();
                for key in uris {
                    if let Ok(uri) = key.parse::<lsp::Uri>() {
                        self.schedule(uri);
                    }
                }
            }
            _ => {}
        }
    }

    fn request(&mut self, request: Request) -> Response {
        let id = request.id.clone();
        match self.answer(request) {
            Ok(value) => Response::new_ok(id, value),
            Err((code, message)) => Response::new_err(id, code as i32, message),
        }
    }

    fn document(&self, uri: &lsp::Uri) -> Result<&Document, (ErrorCode, String)> {
        self.documents.get(uri.as_str()).ok_or_else(|| {
            (
                ErrorCode::InvalidParams,
                format!("`{}` is not open", uri.as_str()),
            )
        })
    }

    fn answer(&mut self, request: Request) -> Result<Value, (ErrorCode, String)> {
        fn params<P: serde::de::DeserializeOwned>(value: Value) -> Result<P, (ErrorCode, String)> {
            serde_json::from_value(value).map_err(|e| (ErrorCode::InvalidParams, e.to_string()))
        }
        fn json<T: serde::Serialize>(value: T) -> Result<Value, (ErrorCode, String)> {
            serde_json::to_value(value).map_err(|e| (ErrorCode::InternalError, e.to_string()))
        }
        use lsp::request as r;
        match request.method.as_str() {
            r::HoverRequest::METHOD => {
                let p: lsp::HoverParams = params(request.params)?;
                let pos = p.text_document_position_params;
                let doc = self.document(&pos.text_document.uri)?;
                let index = LineIndex::new(&doc.text);
                let analysis = doc.analysis();
                let hover = analysis
                    .hover(convert::offset(&index, pos.position))
                    .map(|h| lsp::Hover {
                        contents: lsp::HoverContents::Markup(lsp::MarkupContent {
                            kind: lsp::MarkupKind::Markdown,
                            value: h.markdown,
                        }),
                        range: Some(convert::range(&index, h.span)),
                    });
                json(hover)
            }
            r::GotoDefinition::METHOD => {
                let p: lsp::GotoDefinitionParams = params(request.params)?;
                let pos = p.text_document_position_params;
                let uri = pos.text_document.uri;
                let doc = self.document(&uri)?;
                let index = LineIndex::new(&doc.text);
                let spans = doc
                    .analysis()
                    .definition(convert::offset(&index, pos.position));
                let locations: Vec<lsp::Location> = spans
                    .into_iter()
                    .map(|s| lsp::Location::new(uri.clone(), convert::range(&index, s)))
                    .collect();
                json(lsp::GotoDefinitionResponse::Array(locations))
            }
            r::References::METHOD => {
                let p: lsp::ReferenceParams = params(request.params)?;
                let pos = p.text_document_position;
                let uri = pos.text_document.uri;
                let doc = self.document(&uri)?;
                let index = LineIndex::new(&doc.text);
                let spans = doc.analysis().references(
                    convert::offset(&index, pos.position),
                    p.context.include_declaration,
                );
                let locations: Vec<lsp::Location> = spans
                    .into_iter()
                    .map(|s| lsp::Location::new(uri.clone(), convert::range(&index, s)))
                    .collect();
                json(locations)
            }
            r::PrepareRenameRequest::METHOD => {
                let p: lsp::TextDocumentPositionParams = params(request.params)?;
                let doc = self.document(&p.text_document.uri)?;
                let index = LineIndex::new(&doc.text);
                match doc
                    .analysis()
                    .prepare_rename(convert::offset(&index, p.position))
                {
                    Ok((span, name)) => json(lsp::PrepareRenameResponse::RangeWithPlaceholder {
                        range: convert::range(&index, span),
                        placeholder: name,
                    }),
                    Err(_) => Ok(Value::Null),
                }
            }
            r::Rename::METHOD => {
                let p: lsp::RenameParams = params(request.params)?;
                let pos = p.text_document_position;
                let uri = pos.text_document.uri;
                let doc = self.document(&uri)?;
                let index = LineIndex::new(&doc.text);
                let edits = doc
                    .analysis()
                    .rename(convert::offset(&index, pos.position), &p.new_name)
                    .map_err(|message| (ErrorCode::RequestFailed, message))?;
                let edits = edits.iter().map(|e| convert::edit(&index, e)).collect();
                json(lsp::WorkspaceEdit::new(HashMap::from([(uri, edits)])))
            }
            r::Completion::METHOD => {
                let p: lsp::CompletionParams = params(request.params)?;
                let pos = p.text_document_position;
                let doc = self.document(&pos.text_document.uri)?;
                let index = LineIndex::new(&doc.text);
                let items: Vec<lsp::CompletionItem> = doc
                    .analysis()
                    .completions(convert::offset(&index, pos.position))
                    .iter()
                    .map(|c| convert::completion(&index, c))
                    .collect();
                json(lsp::CompletionResponse::Array(items))
            }
            r::CodeActionRequest::METHOD => {
                let p: lsp::CodeActionParams = params(request.params)?;
                let uri = p.text_document.uri;
                let doc = self.document(&uri)?;
                let index = LineIndex::new(&doc.text);
                let diagnostics = self.diagnostics_of(&uri, doc);
                let actions = doc
                    .analysis()
                    .code_actions(convert::span(&index, p.range), &diagnostics);
                let out: Vec<lsp::CodeActionOrCommand> = actions
                    .into_iter()
                    .map(|a| {
                        let edits = a.edits.iter().map(|e| convert::edit(&index, e)).collect();
                        lsp::CodeActionOrCommand::CodeAction(lsp::CodeAction {
                            title: a.title,
                            kind: Some(convert::action_kind(a.kind)),
                            diagnostics: a
                                .diagnostic
                                .and_then(|i| diagnostics.get(i))
                                .map(|d| vec![convert::diagnostic(&index, &uri, d)]),
                            edit: Some(lsp::WorkspaceEdit::new(HashMap::from([(
                                uri.clone(),
                                edits,
                            )]))),
                            is_preferred: Some(a.preferred),
                            ..lsp::CodeAction::default()
                        })
                    })
                    .collect();
                json(out)
            }
            r::Formatting::METHOD => {
                let p: lsp::DocumentFormattingParams = params(request.params)?;
                let doc = self.document(&p.text_document.uri)?;
                match tailpolicy::format(&doc.text) {
                    Ok(formatted) if formatted != *doc.text => {
                        let index = LineIndex::new(&doc.text);
                        let whole = Span::new(0, u32::try_from(doc.text.len()).unwrap_or(u32::MAX));
                        json(vec![lsp::TextEdit::new(
                            convert::range(&index, whole),
                            formatted,
                        )])
                    }
                    Ok(_) => json(Vec::<lsp::TextEdit>::new()),
                    // A document that does not parse is left as it is (its diagnostics say why).
                    Err(_) => Ok(Value::Null),
                }
            }
            r::DocumentSymbolRequest::METHOD => {
                let p: lsp::DocumentSymbolParams = params(request.params)?;
                let doc = self.document(&p.text_document.uri)?;
                let index = LineIndex::new(&doc.text);
                let symbols: Vec<lsp::DocumentSymbol> = doc
                    .analysis()
                    .symbols()
                    .iter()
                    .map(|s| convert::symbol(&index, s))
                    .collect();
                json(lsp::DocumentSymbolResponse::Nested(symbols))
            }
            method => Err((
                ErrorCode::MethodNotFound,
                format!("unsupported request `{method}`"),
            )),
        }
    }

    /// The diagnostics of the document's current version: those of the last check when it
    /// is current, else a fresh check.
    fn diagnostics_of(&self, uri: &lsp::Uri, doc: &Document) -> Vec<Diagnostic> {
        if let Ok(shared) = self.shared.lock()
            && let Some((version, diagnostics)) = shared.diagnostics.get(uri.as_str())
            && *version == doc.version
        {
            return diagnostics.clone();
        }
        check(uri, &doc.text)
    }
}

fn publish(
    sender: &crossbeam_channel::Sender<Message>,
    uri: lsp::Uri,
    version: Option<i32>,
    diagnostics: Vec<lsp::Diagnostic>,
) {
    let params = lsp::PublishDiagnosticsParams {
        uri,
        diagnostics,
        version,
    };
    if let Ok(params) = serde_json::to_value(params) {
        let _ = sender.send(Message::Notification(Notification {
            method: lsp::notification::PublishDiagnostics::METHOD.to_owned(),
            params,
        }));
    }
}

fn worker(
    jobs: &crossbeam_channel::Receiver<Job>,
    sender: &crossbeam_channel::Sender<Message>,
    shared: &Mutex<Shared>,
) {
    let current = |job: &Job| {
        shared
            .lock()
            .is_ok_and(|s| s.versions.get(job.uri.as_str()) == Some(&job.version))
    };
    let publish_checked = |job: &Job, diagnostics: Vec<Diagnostic>| {
        let index = LineIndex::new(&job.text);
        let converted = diagnostics
            .iter()
            .map(|d| convert::diagnostic(&index, &job.uri, d))
            .collect();
        if let Ok(mut s) = shared.lock() {
            s.diagnostics
                .insert(job.uri.as_str().to_owned(), (job.version, diagnostics));
        }
        publish(sender, job.uri.clone(), Some(job.version), converted);
    };
    // The text and diagnostics of each document's last full check.
    let mut last: HashMap<String, (Arc<str>, Vec<Diagnostic>)> = HashMap::new();
    while let Ok(first) = jobs.recv() {
        // Of the jobs queued meanwhile, only the newest of each document counts.
        let mut batch: Vec<Job> = vec![first];
        batch.extend(jobs.try_iter());
        let mut latest: HashMap<String, Job> = HashMap::new();
        for job in batch {
            latest.insert(job.uri.as_str().to_owned(), job);
        }
        for (key, job) in latest {
            if !current(&job) {
                last.remove(&key);
                continue;
            }
            if job.text.len() >= QUICK_FIRST_BYTES
                && let Some((old_text, old)) = last.get(&key)
            {
                let mut quick = check_with(&job.uri, &job.text, true);
                quick.extend(carry_over(old_text, &job.text, old, SLOW_RULE));
                quick.sort_by_key(|d| (d.primary_span().start, d.primary_span().end));
                if !current(&job) {
                    continue;
                }
                publish_checked(&job, quick);
                // A newer edit is waiting: the full check would be stale at once.
                if !jobs.is_empty() {
                    continue;
                }
            }
            let diagnostics = check(&job.uri, &job.text);
            // An edit arrived while checking: its own check follows, this one is stale.
            if !current(&job) {
                continue;
            }
            last.insert(key, (Arc::clone(&job.text), diagnostics.clone()));
            publish_checked(&job, diagnostics);
        }
    }
}

/// The findings of rule `code` in `old` (diagnostics of `old_text`) whose places did not
/// change in `new_text`, moved to their new offsets. The changed region is what lies between
/// the common prefix and the common suffix of the two texts.
fn carry_over(old_text: &str, new_text: &str, old: &[Diagnostic], code: &str) -> Vec<Diagnostic> {
    let (a, b) = (old_text.as_bytes(), new_text.as_bytes());
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let room = a.len().min(b.len()) - prefix;
    let suffix = a
        .iter()
        .rev()
        .zip(b.iter().rev())
        .take(room)
        .take_while(|(x, y)| x == y)
        .count();
    let to_u32 = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    let (prefix, old_end, new_end) = (
        to_u32(prefix),
        to_u32(a.len() - suffix),
        to_u32(b.len() - suffix),
    );
    let map = |span: Span| -> Option<Span> {
        if span.end <= prefix {
            Some(span)
        } else if span.start >= old_end {
            let shift = |o: u32| o - old_end + new_end;
            Some(Span::new(shift(span.start), shift(span.end)))
        } else {
            None
        }
    };
    old.iter()
        .filter(|d| d.code == code)
        .filter_map(|d| {
            let mut moved = d.clone();
            for label in &mut moved.labels {
                label.span = map(label.span)?;
            }
            Some(moved)
        })
        .collect()
}

/// `tailpolicy check` on one document: its `tailpolicy.toml` (the nearest one, as `check`
/// finds it) and the inventory named there. A configuration or inventory that cannot be
/// read is reported on the document's first character.
pub fn check(uri: &lsp::Uri, text: &str) -> Vec<Diagnostic> {
    check_with(uri, text, false)
}

/// [`check`], leaving out the slow rule ([`SLOW_RULE`]) when `quick`.
fn check_with(uri: &lsp::Uri, text: &str, quick: bool) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    let mut config = None;
    let mut inventory = None;
    if let Some(path) = uri_path(uri)
        && let Some(config_path) = discover_config(&path)
    {
        match std::fs::read_to_string(&config_path) {
            Ok(toml) => match LintConfig::from_toml_str(&toml) {
                Ok(c) => {
                    let dir = config_path.parent().unwrap_or(Path::new("."));
                    match load_inventory(dir, &c.inventory) {
                        Ok(i) => inventory = i,
                        Err(message) => problems.push(Diagnostic::error(
                            tailpolicy::codes::INVENTORY,
                            message,
                            Span::at(0),
                        )),
                    }
                    config = Some(c);
                }
                Err(errors) => {
                    for e in errors {
                        problems.push(setup_problem(format!(
                            "`{}`: {}",
                            config_path.display(),
                            e.message
                        )));
                    }
                }
            },
            Err(err) => problems.push(setup_problem(format!(
                "cannot read `{}`: {err}",
                config_path.display()
            ))),
        }
    }
    if quick {
        config = Some(config.unwrap_or_default().with_ignore(&[SLOW_RULE]));
    }
    let options = CheckOptions {
        inventory: inventory.as_ref(),
        config: config.as_ref(),
    };
    let mut diagnostics = tailpolicy::check(text, &options).diagnostics;
    problems.append(&mut diagnostics);
    problems
}

fn setup_problem(message: String) -> Diagnostic {
    Diagnostic::error(tailpolicy::codes::INVALID_CONFIG, message, Span::at(0))
}

/// The inventory files named in a configuration, merged, with assumed nodes added.
fn load_inventory(dir: &Path, files: &[String]) -> Result<Option<Inventory>, String> {
    let mut merged: Option<Inventory> = None;
    for file in files {
        let path = dir.join(file);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read inventory `{}`: {e}", path.display()))?;
        let read = Inventory::read(&text)
            .map_err(|d| format!("inventory `{}`: {}", path.display(), d.message))?;
        match &mut merged {
            None => merged = Some(read.inventory),
            Some(inventory) => inventory.merge(read.inventory),
        }
    }
    if let Some(inventory) = &mut merged {
        inventory
            .add_assumed_nodes()
            .map_err(|message| format!("inventory: {message}"))?;
    }
    Ok(merged)
}

/// The local path of a `file:` URI.
fn uri_path(uri: &lsp::Uri) -> Option<PathBuf> {
    let rest = uri.as_str().strip_prefix("file://")?;
    let bytes = rest.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%'
            && let Some(hex) = rest.get(i + 1..i + 3)
            && let Ok(value) = u8::from_str_radix(hex, 16)
        {
            out.push(value);
            i += 3;
            continue;
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8(out).ok().map(PathBuf::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn findings_outside_the_edit_move_with_the_text() {
        let old_text = "aaaa XXXX bbbb";
        let new_text = "aaaa YYYYYY bbbb";
        let finding = |start, end| Diagnostic::warning(SLOW_RULE, "x", Span::new(start, end));
        let old = [
            finding(0, 4),
            finding(5, 9),
            finding(10, 14),
            Diagnostic::warning("TP004", "other rule", Span::new(0, 4)),
        ];
        let moved: Vec<Span> = carry_over(old_text, new_text, &old, SLOW_RULE)
            .iter()
            .map(Diagnostic::primary_span)
            .collect();
        assert_eq!(moved, [Span::new(0, 4), Span::new(12, 16)]);
        assert_eq!(new_text.get(12..16), Some("bbbb"));
    }
}
