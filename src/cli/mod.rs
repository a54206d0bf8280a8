//! The `tq` command line: all file and terminal IO happens here (ARCHITECTURE.md).
//! One file per command; [`io`] reads the sources.

mod args;
mod bench;
mod check;
mod derive;
mod emit;
mod explain;
mod export;
mod fmt;
mod io;
mod lsp;
mod plot;
mod variants;

use args::{Cli, Command};
use clap::Parser;
use std::process::ExitCode;

/// Parses the arguments and runs the command.
pub fn run() -> ExitCode {
    tq::alloc::tune();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match cli.command {
        Command::Check {
            paths,
            format,
            seed,
            strict,
            no_cache,
            precision,
        } => check::check(
            paths,
            format,
            seed,
            strict,
            !no_cache,
            precision.precision(),
        ),
        Command::Errata {
            paths,
            seed,
            no_cache,
        } => check::errata(paths, seed, !no_cache),
        Command::Derive {
            file,
            format,
            seed,
            steps,
        } => derive::derive(file, format, seed, steps),
        Command::Render {
            file,
            format,
            fragment,
            seed,
            audience,
        } => derive::render(file, format, fragment, seed, audience),
        Command::Variants {
            file,
            count,
            seed,
            format,
        } => variants::variants(file, count, seed, format),
        Command::Plot {
            file,
            output,
            trials,
            seed,
        } => plot::plot(file, output, trials, seed),
        Command::Emit { file, target } => emit::emit(file, target),
        Command::Export {
            to,
            out,
            paths,
            count,
            seed,
        } => export::export(to, out, paths, count, seed),
        Command::Bench {
            file,
            trials,
            seed,
            threads,
            precision,
            interpreter,
        } => bench::bench(file, trials, seed, threads, precision, interpreter),
        Command::Fmt { paths, check } => fmt::fmt(paths, check),
        Command::Lsp { seed } => lsp::lsp(seed),
        Command::Explain { code } => explain::explain(code),
    }
}
