//! `tq lsp`: the language server over standard input and output (`tq::lsp`).

use std::process::ExitCode;

/// Serves until the editor sends `exit` or closes standard input. Exit 0 after
/// `shutdown` and `exit`; 1 when `exit` (or the end of input) comes without
/// `shutdown`, as the protocol says, or when the protocol failed (the reason on stderr).
pub fn lsp(seed: u64) -> ExitCode {
    // What the server frees (a closed document, a finished analysis) goes back to the
    // system when it is idle: mimalloc returns freed pages only lazily, on later
    // allocations of the same thread, so an idle server kept 268 MB after every
    // document was closed (probe38 k14; docs/performance.md).
    tq::lsp::server::on_idle_release(release_freed_memory);
    let (conn, io) = tq::lsp::transport::stdio();
    let opts = tq::report::Options {
        seed,
        ..Default::default()
    };
    let served = tq::lsp::serve(&conn, opts);
    drop(conn);
    let joined = io.join();
    match (served, joined) {
        (Ok(()), Ok(())) => ExitCode::SUCCESS,
        // A broken input stops the server too: its reason first.
        (_, Err(e)) => {
            eprintln!("tq lsp: {e}");
            ExitCode::from(1)
        }
        (Err(e), Ok(())) => {
            eprintln!("tq lsp: {e}");
            ExitCode::from(1)
        }
    }
}

extern "C" {
    /// mimalloc's `mi_collect` (the binary's global allocator, src/main.rs): frees the
    /// calling thread's freed pages back to the system (`force`: eagerly).
    fn mi_collect(force: bool);
}

/// Returns the calling thread's freed memory to the system.
fn release_freed_memory() {
    // SAFETY: `mi_collect` only walks the calling thread's own heap; the allocator it
    // belongs to is the process's global allocator, so the symbol is linked.
    unsafe { mi_collect(true) }
}
