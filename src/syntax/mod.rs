//! Source text to syntax tree and back: spans, the AST, the parser and the printer,
//! and the walks over expressions ([`visit`]).
//! This module knows nothing of the later stages.

pub mod ast;
pub mod format;
pub mod lines;
pub mod model_items;
pub mod parser;
pub mod printer;
pub mod visit;
/// Spans live in the leaf module [`crate::span`] (diagnostics use them too).
pub use crate::span;
