//! `tq plot`: variance against depth, time or scale as SVG.

use super::check::checked_without_runs;
use super::io::{finish, say};
use std::path::PathBuf;
use std::process::ExitCode;

pub fn plot(file: PathBuf, output: Option<PathBuf>, trials: usize, seed: u64) -> ExitCode {
    if !(tq::plot::MIN_TRIALS..=tq::plot::MAX_TRIALS).contains(&trials) {
        say(format!(
            "--trials must be from {} to {} (asked for {trials})",
            tq::plot::MIN_TRIALS,
            tq::plot::MAX_TRIALS
        ));
        return ExitCode::from(2);
    }
    let r = match checked_without_runs(&file) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let bar = super::io::spinner();
    bar.set_message(format!(
        "{}: {trials} trials and the moments engine's values",
        r.path
    ));
    let svg = tq::plot::series(&r, trials, seed).and_then(|p| {
        let what = if p.kind == tq::plot::PlotKind::Rules {
            format!("each rule's parameter against {}", p.var)
        } else if p.ticks.is_empty() {
            format!("variance against {}", p.var)
        } else {
            "variance of each tensor".to_string()
        };
        tq::plot::svg(&format!("{}: {what}", r.path), &p)
    });
    bar.finish_and_clear();
    match svg {
        Ok(svg) => match output {
            Some(p) => match std::fs::write(&p, svg) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    say(format!("{}: {e}", p.display()));
                    ExitCode::from(2)
                }
            },
            None => finish(&svg, ExitCode::SUCCESS),
        },
        Err(e) => {
            say(format!("{}: cannot plot: {e}", r.path));
            ExitCode::from(1)
        }
    }
}
