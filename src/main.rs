//! The `tq` binary: the command line lives in [`cli`].

mod cli;

/// mimalloc: many small allocations cost a fraction of glibc's (src/alloc.rs).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The stack of every thread that runs the pipeline (the main work and each checking
/// thread): the walks over expressions recurse, and the parser bounds an expression to
/// [`tq::syntax::parser::MAX_EXPR_OPERATORS`] operators and
/// [`tq::syntax::parser::MAX_EXPR_DEPTH`] levels, which this stack holds in every walk.
pub const STACK_BYTES: usize = 64 << 20;

fn main() -> std::process::ExitCode {
    // Every command runs on one thread with the same generous stack as the checking
    // threads of `tq check`.
    match std::thread::Builder::new()
        .stack_size(STACK_BYTES)
        .spawn(cli::run)
        .map(|t| t.join())
    {
        Ok(Ok(code)) => code,
        _ => std::process::ExitCode::from(101),
    }
}
