//! `tq emit`: the forward and backward program as code.

use super::args::EmitTarget;
use super::check::checked_without_runs;
use super::io::{finish, say};
use std::path::PathBuf;
use std::process::ExitCode;

pub fn emit(file: PathBuf, target: EmitTarget) -> ExitCode {
    let r = match checked_without_runs(&file) {
        Ok(r) => r,
        Err(code) => return code,
    };
    match target {
        EmitTarget::Numpy => match tq::emit::numpy(&r) {
            Ok(code) => finish(&code, ExitCode::SUCCESS),
            Err(e) => {
                say(format!("{}: cannot emit NumPy: {e}", r.path));
                ExitCode::from(1)
            }
        },
    }
}
