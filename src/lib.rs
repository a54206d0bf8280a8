//! tq: a derivation checker for the mathematics of deep learning.
//!
//! The pipeline: source → [`syntax`] (parse, print) → [`check`] (names, indices,
//! ranks, ranges) → derivations ([`sym`], claims) → reports.
//! See ARCHITECTURE.md for the code map, the layering (enforced by tests/layering.rs)
//! and the invariants.
//!
//! - Stages, in pipeline order: [`syntax`], [`check`], [`grad`], [`num`], [`lower`],
//!   [`moments`], [`analysis`], [`claims`], [`report`].
//! - Outputs, which read a checked file and decide nothing: [`derive`], [`render`],
//!   [`plot`], [`emit`], [`errata`], [`bench`], [`variants`]; the language server
//!   [`lsp`], a front end over all of them.
//! - Services every layer may share: [`span`], [`diag`], [`verdict`], [`sym`] (exact
//!   symbolic algebra), [`alloc`].

pub mod alloc;
pub mod analysis;
pub mod bench;
pub mod check;
pub mod claims;
pub mod derive;
pub mod diag;
pub mod emit;
pub mod errata;
pub mod export;
pub mod grad;
pub mod lower;
pub mod lsp;
pub mod moments;
pub mod num;
pub mod plot;
pub mod render;
pub mod report;
pub mod span;
pub mod sym;
pub mod syntax;
pub mod variants;
pub mod verdict;
