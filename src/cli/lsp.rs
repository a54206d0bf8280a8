//! `tq lsp`: the language server over standard input and output (`tq::lsp`).

use std::process::ExitCode;

/// Serves until the editor sends `exit` or closes standard input. Exit 0 after
/// `shutdown` and `exit`; 1 when `exit` (or the end of input) comes without
/// `shutdown`, as the protocol says, or when the protocol failed (the reason on stderr).
pub fn lsp(seed: u64) -> ExitCode {
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
