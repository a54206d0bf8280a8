//! The protocol loop: initialize, then requests and notifications from the editor and
//! results from the background worker, until `shutdown` and `exit`.
//!
//! Every handler runs under `catch_unwind`: a panic in a feature becomes an error
//! response (or, for a notification, a log message) and the server goes on.

use super::document::{apply_changes, Document, Store};
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
    GotoDefinition, HoverRequest, InlayHintRefreshRequest, InlayHintRequest, Request as _,
    Shutdown,
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
    let (id, init) = conn.initialize_start().map_err(|e| e.to_string())?;
    let init: InitializeParams = serde_json::from_value(init).unwrap_or_default();
    let result = serde_json::json!({
        "capabilities": capabilities(),
        "serverInfo": {"name": "tq", "version": env!("CARGO_PKG_VERSION")},
    });
    conn.initialize_finish(id, result)
        .map_err(|e| e.to_string())?;
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
                Ok(Message::Request(r)) => server.request(r),
                Ok(Message::Notification(n)) => {
                    if n.method == Exit::METHOD {
                        // The protocol: exit 0 after `shutdown`, 1 without it.
                        break if server.shutting_down {
                            Ok(())
                        } else {
                            Err("`exit` came without a `shutdown` request before it".to_string())
                        };
                    }
                    server.notification(n);
                }
                Ok(Message::Response(_)) => {}
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
                self.update(Document::new(d.uri, d.version, d.text));
            }
            DidChangeTextDocument::METHOD => {
                let Ok(p) = serde_json::from_value::<DidChangeTextDocumentParams>(n.params) else {
                    return;
                };
                let uri = p.text_document.uri;
                let Some(old) = self.store.docs.get(&uri) else {
                    return;
                };
                let text = apply_changes(old.text(), p.content_changes);
                self.update(Document::new(uri, p.text_document.version, text));
            }
            DidCloseTextDocument::METHOD => {
                let Ok(p) = serde_json::from_value::<DidCloseTextDocumentParams>(n.params) else {
                    return;
                };
                let uri = p.text_document.uri;
                self.worker.forget(&uri);
                self.store.docs.remove(&uri);
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
