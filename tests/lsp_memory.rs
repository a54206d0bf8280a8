//! The language server's memory per open document (probe38 k14: about 50 MB kept per
//! open 300 KB document, 20,000 one-line statements): the bytes a document keeps live
//! once parsed and checked (the store's `Document`) and once its facts are derived (the
//! worker's `Derived`), counted by this binary's allocator, must stay within the bound
//! docs/performance.md states per byte of source. One test in this binary: the count is
//! of the whole process.

mod common;

use std::sync::atomic::Ordering;
use tq::lsp::document::Document;

common::counting::counting_allocator!();

fn live() -> usize {
    LIVE.load(Ordering::Relaxed)
}

/// probe38 k14's file: a scalar chain of `n` one-line statements.
fn chain(n: usize) -> String {
    let mut s = String::from("scalar a\nx0 = a\n");
    for k in 1..=n {
        s.push_str(&format!("x{k}=x{}+1\n", k - 1));
    }
    s.push_str("at a=1\n");
    s
}

/// A layered model of `n` layers written out (tensors, not scalars).
fn layers(n: usize) -> String {
    let mut s = String::from("size B, J\ninput h0[B, J] ~ normal(0, 1)\n");
    for k in 1..=n {
        s.push_str(&format!(
            "param W{k}[J, J] ~ normal(0, 1/J)\nh{k}[b,j] = h{}[b,j] + W{k}[j,J] h{}[b,J] / 2\n",
            k - 1,
            k - 1
        ));
    }
    s.push_str("sample B = 2, J = 3\n");
    s
}

#[test]
fn a_documents_retained_memory_is_bounded_per_byte_of_source() {
    for (name, text) in [
        ("chain 20,000", chain(20_000)),
        ("layers 2,000", layers(2_000)),
    ] {
        let base = live();
        let doc = Document::new("file:///m.tq".parse().unwrap(), 1, text.clone());
        let after_doc = live();
        // The worker's own report, dropped once its facts are derived (as in the server).
        let report = tq::lsp::document::quick_report("file:///m.tq", &text);
        let derived = tq::lsp::worker::derive_facts(&report, 1);
        drop(report);
        let after_derived = live();
        let (d, f) = (after_doc - base, after_derived - after_doc);
        eprintln!(
            "{name}: {} bytes of source; the document keeps {d} bytes ({:.0} per byte), its derived facts {f} ({:.0} per byte)",
            text.len(),
            d as f64 / text.len() as f64,
            f as f64 / text.len() as f64
        );
        assert!(
            doc.report.diagnostics.iter().all(|x| !x.is_error()),
            "{name}: {:?}",
            &doc.report.diagnostics[..1.min(doc.report.diagnostics.len())]
        );
        let per_byte = (d + f) as f64 / text.len() as f64;
        assert!(
            per_byte <= tq::lsp::document::RETAINED_PER_SOURCE_BYTE as f64,
            "{name}: {per_byte:.0} bytes kept per byte of source, over the bound of {}",
            tq::lsp::document::RETAINED_PER_SOURCE_BYTE
        );
        drop(derived);
        drop(doc);
        // Closed: what the document kept is freed (a little may stay in caches that
        // are bounded on their own).
        let left = live().saturating_sub(base);
        assert!(
            left < text.len(),
            "{name}: {left} bytes still live after the drop"
        );
    }
}
