//! `tq lsp`: a language server over the Language Server Protocol (the `lsp-server` and
//! `lsp-types` crates). The binary hands it a connection (`Connection::stdio()`); the
//! server never reads or writes anything else.
//!
//! - [`server`]: the protocol loop, panic-safe request handling, the capabilities.
//! - [`document`]: the open documents, each parsed and checked on every change;
//!   [`text`]: byte offsets ↔ (line, UTF-16 column).
//! - [`worker`]: the background thread that derives the backward program and the
//!   moments, then decides the claims, for the newest version of each document.
//! - [`transport`]: the stdio transport, with hard caps on headers and bodies.
//! - Features: [`diagnostics`], [`navigation`] (go to definition, document symbols),
//!   [`hover`], [`verdicts`] (inlay hints and code lenses), [`edits`] (formatting,
//!   code actions).

pub mod diagnostics;
pub mod document;
pub mod edits;
pub mod hover;
pub mod navigation;
pub mod server;
pub mod text;
pub mod transport;
pub mod verdicts;
pub mod worker;

pub use server::{capabilities, serve};
