//! The protocol loop: initialize, then requests and notifications from the editor and
//! results from the background worker, until `shutdown` and `exit`.
//!
//! Every handler runs under `catch_unwind`: a panic in a feature becomes an error
//! response (or, for a notification, a log message) and the server goes on.

use super::document::{apply_changes, Document, Store, MAX_DOCUMENT_BYTES, MAX_OPEN_BYTES};
use super::worker::{panic_text, Output, Worker};
use super::{diagnostics, edits, hover, navigation, verdicts};
use crate::claims::Options;
use crossbeam_channel::{select, unbounded};
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types::notification::{
    DidChangeTextDocument, DidCloseTextDocument, DidOpenTextDocument, Exit, Notification as _,
    PublishDiagnostics,
};
use lsp_types::request::{
    CodeActionRequest, CodeLensRefresh, CodeLensRequest, DocumentSymbolRequest, Formatting,
    GotoDefinition, HoverRequest, Initialize, InlayHintRefreshRequest, InlayHintRequest,
    Request as _, Shutdown,
};
use lsp_types::{
    CodeActionParams, CodeActionProviderCapability, CodeLensOptions, CodeLensParams,
    DidChangeTextDocumentParams, DidCloseTextDocumentParams, DidOpenTextDocumentParams,
    DocumentFormattingParams, DocumentSymbolParams, DocumentSymbolResponse, GotoDefinitionParams,
    GotoDefinitionResponse, HoverParams, HoverProviderCapability, InitializeParams,
    InlayHintParams, Location, OneOf, PositionEncodingKind, ServerCapabilities,
    TextDocumentSyncCapability, TextDocumentSyncKind, Uri,
};
use serde_json::Value;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// The function that returns a thread's freed memory to the system (the binary's
/// allocator's: `tq lsp` sets it; nothing without it).
static RELEASE: std::sync::OnceLock<fn()> = std::sync::OnceLock::new();

/// Sets the function the server calls, on its own thread and on the worker's, when a
/// document was closed or an analysis finished, to return what was freed to the
/// system (the allocator is the binary's choice; the library does not name it).
pub fn on_idle_release(f: fn()) {
    let _ = RELEASE.set(f);
}

/// Returns the calling thread's freed memory to the system, if the binary said how.
pub fn release_memory() {
    if let Some(f) = RELEASE.get() {
        f();
    }
}

/// What the server offers.
pub fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        position_encoding: Some(PositionEncodingKind::UTF16),
        text_document_sync: Some(TextDocumentSyncCapability::Kind(TextDocumentSyncKind::FULL)),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        definition_provider: Some(OneOf::Left(true)),
        document_symbol_provider: Some(OneOf::Left(true)),
        document_formatting_provider: Some(OneOf::Left(true)),
        code_action_provider: Some(CodeActionProviderCapability::Simple(true)),
        inlay_hint_provider: Some(OneOf::Left(true)),
        code_lens_provider: Some(CodeLensOptions {
            resolve_provider: Some(false),
        }),
        ..ServerCapabilities::default()
    }
}

/// How long a burst of `didChange`s waits for the next one before checking: an
/// editor replaying edits sends them closer than this; a typist's keystrokes are
/// 50 ms and more apart, so each is checked (2 ms later).
const BURST_GAP: std::time::Duration = std::time::Duration::from_millis(2);
/// The longest a burst holds its checks back.
const BURST_SPAN: std::time::Duration = std::time::Duration::from_millis(100);

struct Server<'c> {
    conn: &'c Connection,
    store: Store,
    worker: Worker,
    refresh_hints: bool,
    refresh_lenses: bool,
    next_id: i32,
    shutting_down: bool,
}

type Reply = Result<Value, (ErrorCode, String)>;

/// A request and notification that panic on purpose, answered only when the
/// environment variable `TQ_LSP_PANIC_TEST` is set: tests/lsp.rs checks with it that a
/// panic in a handler becomes an error response and the server goes on.
const PANIC_TEST: &str = "tq/panicForTest";

fn panic_test() -> bool {
    std::env::var_os("TQ_LSP_PANIC_TEST").is_some()
}

fn params<P: serde::de::DeserializeOwned>(v: Value) -> Result<P, (ErrorCode, String)> {
    serde_json::from_value(v)
        .map_err(|e| (ErrorCode::InvalidParams, format!("invalid parameters: {e}")))
}

fn to_value<T: serde::Serialize>(t: T) -> Reply {
    serde_json::to_value(t).map_err(|e| (ErrorCode::InternalError, e.to_string()))
}

/// Runs the server on a connection (stdio for `tq lsp`, in memory for tests) until
/// the editor sends `exit` or closes the connection: `Ok` after a `shutdown` request,
/// else an error (the protocol's exit status 1). `opts` decides the claims (the
/// seed); the gradient check is not run.
pub fn serve(conn: &Connection, opts: Options) -> Result<(), String> {
    // The handshake, by hand: `lsp_server`'s `initialize_finish` ends the server
    // when anything but `initialized` follows the response (a second `initialize`,
    // a request sent early). Here requests before `initialize` get
    // ServerNotInitialized, notifications before it are dropped, and after it
    // `initialized` is taken as the no-op it is.
    let (id, init) = loop {
        match conn.receiver.recv() {
            Ok(Message::Request(r)) if r.method == Initialize::METHOD => break (r.id, r.params),
            Ok(Message::Request(r)) => {
                let _ = conn.sender.send(
                    Response::new_err(
                        r.id,
                        ErrorCode::ServerNotInitialized as i32,
                        format!(
                            "the server is not initialized: `initialize` must come before {}",
                            r.method
                        ),
                    )
                    .into(),
                );
            }
            Ok(Message::Notification(n)) if n.method == Exit::METHOD => {
                return Err("`exit` came before `initialize`".to_string())
            }
            Ok(_) => {}
            Err(_) => {
                return Err("the editor closed the connection before `initialize`".to_string())
            }
        }
    };
    let init: InitializeParams = serde_json::from_value(init).unwrap_or_default();
    let result = serde_json::json!({
        "capabilities": capabilities(),
        "serverInfo": {"name": "tq", "version": env!("CARGO_PKG_VERSION")},
    });
    let _ = conn.sender.send(Response::new_ok(id, result).into());
    let workspace = init.capabilities.workspace.as_ref();
    let (tx, rx) = unbounded();
    let mut server = Server {
        conn,
        store: Store::default(),
        worker: Worker::start(
            tx,
            Options {
                no_gradcheck: true,
                ..opts
            },
        ),
        refresh_hints: workspace
            .and_then(|w| w.inlay_hint.as_ref())
            .and_then(|c| c.refresh_support)
            .unwrap_or(false),
        refresh_lenses: workspace
            .and_then(|w| w.code_lens.as_ref())
            .and_then(|c| c.refresh_support)
            .unwrap_or(false),
        next_id: 0,
        shutting_down: false,
    };
    let outcome = loop {
        select! {
            recv(conn.receiver) -> msg => match msg {
                Ok(m) => {
                    if let Some(end) = server.message(m) {
                        break end;
                    }
                }
                Err(_) if server.shutting_down => break Ok(()),
                Err(_) => break Err("the editor closed the connection without `shutdown` and `exit`".to_string()),
            },
            recv(rx) -> out => if let Ok(o) = out { server.deliver(o) },
        }
    };
    server.worker.stop();
    outcome
}

impl Server<'_> {
    fn send(&self, m: impl Into<Message>) {
        let _ = self.conn.sender.send(m.into());
    }

    /// One message from the editor; `Some` when the server ends (`exit`).
    fn message(&mut self, m: Message) -> Option<Result<(), String>> {
        match m {
            Message::Request(r) => self.request(r),
            Message::Notification(n) if n.method == Exit::METHOD => {
                // The protocol: exit 0 after `shutdown`, 1 without it.
                return Some(if self.shutting_down {
                    Ok(())
                } else {
                    Err("`exit` came without a `shutdown` request before it".to_string())
                });
            }
            Message::Notification(n) if n.method == DidChangeTextDocument::METHOD => {
                return self.changes(n);
            }
            Message::Notification(n) => self.notification(n),
            Message::Response(_) => {}
        }
        None
    }

    /// A `didChange` and every `didChange` already waiting behind it (a burst of
    /// keystrokes, a paste replayed as many edits): the texts follow each change, but
    /// each document is parsed and checked once, at its last version. The first other
    /// message ends the burst and is handled after it.
    fn changes(&mut self, first: Notification) -> Option<Result<(), String>> {
        let started = std::time::Instant::now();
        let mut changed: Vec<Uri> = Vec::new();
        let mut next = Some(first);
        let mut after = None;
        while let Some(n) = next.take() {
            let method = n.method.clone();
            match catch_unwind(AssertUnwindSafe(|| self.follow(n))) {
                Ok(Some(uri)) => {
                    if !changed.contains(&uri) {
                        changed.push(uri);
                    }
                }
                Ok(None) => {}
                Err(p) => eprintln!("tq lsp: internal error in {method}: {}", panic_text(&p)),
            }
            // The next message if it is already there, or arrives within
            // BURST_GAP, while the burst is younger than BURST_SPAN (a steady stream
            // still gets its diagnostics).
            let wait = BURST_GAP.min(BURST_SPAN.saturating_sub(started.elapsed()));
            let next_message = match self.conn.receiver.try_recv() {
                Ok(m) => Some(m),
                Err(_) => self.conn.receiver.recv_timeout(wait).ok(),
            };
            match next_message {
                Some(Message::Notification(n)) if n.method == DidChangeTextDocument::METHOD => {
                    next = Some(n)
                }
                Some(m) => after = Some(m),
                None => {}
            }
        }
        for uri in changed {
            if let Some(doc) = self.store.docs.remove(&uri) {
                let doc = match doc.lost {
                    Some(why) => Document::lost(uri, doc.version, why),
                    None => self.admit(uri, doc.version, doc.report.source),
                };
                self.update(doc);
            }
        }
        after.and_then(|m| self.message(m))
    }

    /// Applies one `didChange` to the stored text only (no parse, no check: see
    /// [`Server::changes`]); the document's URI when it is open.
    fn follow(&mut self, n: Notification) -> Option<Uri> {
        let p = serde_json::from_value::<DidChangeTextDocumentParams>(n.params).ok()?;
        let uri = p.text_document.uri;
        let old = self.store.docs.get_mut(&uri)?;
        let base = old.lost.is_none().then(|| old.text());
        match apply_changes(base, p.content_changes) {
            Ok(text) => {
                old.report.source = text;
                old.lost = None;
            }
            Err(why) => {
                old.report.source = String::new();
                old.lost = Some(why);
            }
        }
        old.version = p.text_document.version;
        old.derived = None;
        old.verdicts = None;
        Some(uri)
    }

    fn request(&mut self, r: Request) {
        if r.method == Shutdown::METHOD {
            self.shutting_down = true;
            self.send(Response::new_ok(r.id, ()));
            return;
        }
        if self.shutting_down {
            self.send(Response::new_err(
                r.id,
                ErrorCode::InvalidRequest as i32,
                "the server is shutting down".into(),
            ));
            return;
        }
        // A request that names an open document (hover, hints, lenses, code actions):
        // the author is looking at it, so its waiting analysis is taken next.
        if let Some(uri) = r
            .params
            .get("textDocument")
            .and_then(|t| t.get("uri"))
            .and_then(Value::as_str)
            .and_then(|u| u.parse::<Uri>().ok())
        {
            self.worker.touch(&uri);
        }
        let (id, method) = (r.id.clone(), r.method.clone());
        let reply = match catch_unwind(AssertUnwindSafe(|| self.dispatch(r))) {
            Ok(reply) => reply,
            Err(p) => Err((
                ErrorCode::InternalError,
                format!("tq lsp: internal error in {method}: {}", panic_text(&p)),
            )),
        };
        self.send(match reply {
            Ok(v) => Response {
                id,
                result: Some(v),
                error: None,
            },
            Err((code, message)) => Response::new_err(id, code as i32, message),
        });
    }

    fn doc(&self, uri: &Uri) -> Option<&Document> {
        self.store.docs.get(uri)
    }

    fn dispatch(&mut self, r: Request) -> Reply {
        match r.method.as_str() {
            HoverRequest::METHOD => {
                let p: HoverParams = params(r.params)?;
                let tp = p.text_document_position_params;
                let Some(doc) = self.doc(&tp.text_document.uri) else {
                    return Ok(Value::Null);
                };
                let offset = doc.lines.offset(doc.text(), tp.position);
                to_value(hover::hover(doc, offset))
            }
            GotoDefinition::METHOD => {
                let p: GotoDefinitionParams = params(r.params)?;
                let tp = p.text_document_position_params;
                let Some(doc) = self.doc(&tp.text_document.uri) else {
                    return Ok(Value::Null);
                };
                let offset = doc.lines.offset(doc.text(), tp.position);
                let target = navigation::resolve(doc, offset)
                    .and_then(|(_, _, t)| navigation::definition(doc, &t));
                to_value(target.map(|s| {
                    GotoDefinitionResponse::Scalar(Location::new(
                        doc.uri.clone(),
                        doc.lines
                            .range(doc.text(), s.start as usize, s.end as usize),
                    ))
                }))
            }
            DocumentSymbolRequest::METHOD => {
                let p: DocumentSymbolParams = params(r.params)?;
                let Some(doc) = self.doc(&p.text_document.uri) else {
                    return Ok(Value::Null);
                };
                to_value(DocumentSymbolResponse::Nested(
                    navigation::document_symbols(doc),
                ))
            }
            Formatting::METHOD => {
                let p: DocumentFormattingParams = params(r.params)?;
                let Some(doc) = self.doc(&p.text_document.uri) else {
                    return Ok(Value::Null);
                };
                match edits::format(doc) {
                    Ok(e) => to_value(e),
                    Err(why) => Err((ErrorCode::RequestFailed, why)),
                }
            }
            CodeActionRequest::METHOD => {
                let p: CodeActionParams = params(r.params)?;
                let Some(doc) = self.doc(&p.text_document.uri) else {
                    return Ok(Value::Null);
                };
                to_value(edits::code_actions(doc, p.range))
            }
            InlayHintRequest::METHOD => {
                let p: InlayHintParams = params(r.params)?;
                let Some(doc) = self.doc(&p.text_document.uri) else {
                    return Ok(Value::Null);
                };
                to_value(verdicts::inlay_hints(doc, p.range))
            }
            CodeLensRequest::METHOD => {
                let p: CodeLensParams = params(r.params)?;
                let Some(doc) = self.doc(&p.text_document.uri) else {
                    return Ok(Value::Null);
                };
                to_value(verdicts::code_lenses(doc))
            }
            PANIC_TEST if panic_test() => panic!("a deliberate panic ({PANIC_TEST})"),
            Initialize::METHOD => Err((
                ErrorCode::InvalidRequest,
                "the server is already initialized (`initialize` is sent once)".to_string(),
            )),
            m => Err((
                ErrorCode::MethodNotFound,
                format!("tq lsp does not handle {m}"),
            )),
        }
    }

    fn notification(&mut self, n: Notification) {
        let method = n.method.clone();
        if let Err(p) = catch_unwind(AssertUnwindSafe(|| self.notify(n))) {
            eprintln!("tq lsp: internal error in {method}: {}", panic_text(&p));
        }
    }

    fn notify(&mut self, n: Notification) {
        match n.method.as_str() {
            PANIC_TEST if panic_test() => panic!("a deliberate panic ({PANIC_TEST})"),
            DidOpenTextDocument::METHOD => {
                let Ok(p) = serde_json::from_value::<DidOpenTextDocumentParams>(n.params) else {
                    return;
                };
                let d = p.text_document;
                let doc = self.admit(d.uri, d.version, d.text);
                self.update(doc);
            }
            DidCloseTextDocument::METHOD => {
                let Ok(p) = serde_json::from_value::<DidCloseTextDocumentParams>(n.params) else {
                    return;
                };
                let uri = p.text_document.uri;
                self.worker.forget(&uri);
                self.store.docs.remove(&uri);
                // The document's memory back to the system: this thread's now, the
                // worker's (what it derived, freed here) when it is next idle.
                release_memory();
                self.send(Notification::new(
                    PublishDiagnostics::METHOD.into(),
                    lsp_types::PublishDiagnosticsParams {
                        uri,
                        diagnostics: Vec::new(),
                        version: None,
                    },
                ));
            }
            _ => {}
        }
    }

    /// A document's text checked, or refused (one E0003, the text dropped) when it is
    /// over [`MAX_DOCUMENT_BYTES`] or would bring the open documents' text over
    /// [`MAX_OPEN_BYTES`] (the document itself, if open, is not counted twice).
    fn admit(&self, uri: Uri, version: i32, text: String) -> Document {
        if text.len() > MAX_DOCUMENT_BYTES {
            let why = format!(
                "the document is {} bytes, more than the limit of {MAX_DOCUMENT_BYTES} bytes",
                text.len()
            );
            return Document::lost(uri, version, why);
        }
        let others: usize = self
            .store
            .docs
            .iter()
            .filter(|(u, _)| **u != uri)
            .map(|(_, d)| d.text().len())
            .sum();
        if others + text.len() > MAX_OPEN_BYTES {
            let why = format!(
                "the open documents would hold {} bytes of text, more than the limit of {MAX_OPEN_BYTES} bytes the server checks at once (this one {} bytes)",
                others + text.len(),
                text.len()
            );
            return Document::refused(uri, version, why);
        }
        Document::new(uri, version, text)
    }

    /// A new version of a document: its diagnostics at once, its analysis queued.
    fn update(&mut self, doc: Document) {
        self.send(Notification::new(
            PublishDiagnostics::METHOD.into(),
            diagnostics::publish(&doc),
        ));
        self.worker
            .submit(doc.uri.clone(), doc.version, doc.text().to_string());
        self.store.docs.insert(doc.uri.clone(), doc);
    }

    fn refresh(&mut self, method: &str) {
        self.next_id += 1;
        let id = RequestId::from(format!("tq-refresh-{}", self.next_id));
        self.send(Request::new(id, method.into(), Value::Null));
    }

    /// A result of the worker: kept when it is for the version the store holds.
    fn deliver(&mut self, out: Output) {
        match out {
            Output::Derived(uri, d) => {
                if let Some(doc) = self.store.docs.get_mut(&uri) {
                    if doc.version == d.version {
                        doc.derived = Some(d);
                    }
                }
            }
            Output::Verdicts(uri, v) => {
                let Some(doc) = self.store.docs.get_mut(&uri) else {
                    return;
                };
                if doc.version != v.version {
                    return;
                }
                doc.verdicts = Some(v);
                let publish = diagnostics::publish(doc);
                self.send(Notification::new(
                    PublishDiagnostics::METHOD.into(),
                    publish,
                ));
                if self.refresh_hints {
                    self.refresh(InlayHintRefreshRequest::METHOD);
                }
                if self.refresh_lenses {
                    self.refresh(CodeLensRefresh::METHOD);
                }
            }
            Output::Failed(uri, version, why) => {
                eprintln!(
                    "tq lsp: internal error analysing {} (version {version}): {why}",
                    uri.as_str()
                );
            }
        }
    }
}
