//! The command line's arguments (clap).

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "tq",
    version,
    about = "A derivation checker for the mathematics of deep learning"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum CheckFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum DeriveFormat {
    Text,
    Latex,
    Markdown,
    Json,
}

#[derive(Subcommand)]
pub enum Command {
    /// Parse and check files, decide every claim; exit 1 on an error or a refuted claim.
    Check {
        /// Files or directories (searched recursively for .tq files).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[arg(long, value_enum, default_value = "text")]
        format: CheckFormat,
        /// Seed of every random choice (random points, Monte Carlo).
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Undecided claims fail the check.
        #[arg(long)]
        strict: bool,
        /// Decide every claim afresh: neither read nor write the verdict cache
        /// (`.tq-cache/` beside each file; docs/cli.md).
        #[arg(long)]
        no_cache: bool,
        /// The element type of the Monte Carlo trials' matrix products on the dense
        /// executor (f32 never refutes: a claim its trials refute is decided again in
        /// f64; docs/numeric.md).
        #[arg(long, value_enum, default_value = "f64")]
        precision: PrecisionArg,
    },
    /// Print the Markdown page of the seeds' errata (docs/seed-errata.md) from erratum files;
    /// exit 1 when an erratum is not caught.
    Errata {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// The seed of every random choice.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Decide every claim afresh: neither read nor write the verdict cache.
        #[arg(long)]
        no_cache: bool,
    },
    /// Rewrite files in the canonical layout, comments kept (docs/cli.md); `-` prints the
    /// formatted standard input. Exit 1 when a file does not parse or, with --check, is
    /// not formatted.
    Fmt {
        /// Files or directories (searched recursively for .tq files), or `-`.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Change nothing; list the files that are not formatted and exit 1 if any.
        #[arg(long)]
        check: bool,
    },
    /// Run the language server over standard input and output (docs/editors.md):
    /// diagnostics as you type, claims' verdicts, hover, go to definition, formatting.
    Lsp {
        /// The seed of the claims' random points and Monte Carlo runs.
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
    /// Print what a diagnostic code means, with an example (docs/diagnostics.md).
    Explain {
        /// A code such as E0203 (or 203).
        code: String,
    },
    /// Print everything tq derives about one file.
    Derive {
        file: PathBuf,
        #[arg(long, value_enum, default_value = "text")]
        format: DeriveFormat,
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Also print each derived moment as a worked chain of steps, every line
        /// labelled with its rule and checked by tq (text and json).
        #[arg(long)]
        steps: bool,
    },
    /// Time the dense Monte Carlo engine on the workload of the peer script
    /// (bench/peer/peer_resnet_mc.py): the ResNet of FILE with B=16, X=Y=32, J=32,
    /// D=3, L=8, zero padding, forward and input-gradient backward (docs/performance.md).
    Bench {
        /// The ResNet model.
        #[arg(default_value = "problems/resnet.tq")]
        file: PathBuf,
        /// Timed trials, after one warm-up trial (1 to 1000).
        #[arg(long, default_value_t = 5)]
        trials: usize,
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Trials run at the same time, one per thread (default: one per core).
        #[arg(long)]
        threads: Option<usize>,
        /// The element type of the matrix products (`both`: f64, then f32, in one run).
        #[arg(long, value_enum, default_value = "f64")]
        precision: BenchPrecision,
        /// Time the element interpreter instead: the file's second-moment program
        /// (forward and backward) at its `sample` values, `--trials` runs on the compiled
        /// statements and as many on the slow path (steps per second of each).
        #[arg(long)]
        interpreter: bool,
    },
    /// Randomized versions of a problem from its `vary` lines, each checked.
    Variants {
        file: PathBuf,
        /// How many distinct variants (at most 100).
        #[arg(long, default_value_t = 5)]
        count: usize,
        /// Seed of the choice of variants and of every numeric run.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        #[arg(long, value_enum, default_value = "markdown")]
        format: VariantsFormat,
    },
    /// Export the forward and the derived backward program as code.
    Emit {
        file: PathBuf,
        #[arg(long, value_enum, default_value = "numpy")]
        target: EmitTarget,
    },
    /// Questions a learning platform grades: a PrairieLearn question directory per
    /// file, or one Moodle XML quiz (docs/cli.md). Files without answers are skipped
    /// with the reason.
    Export {
        /// The platform.
        #[arg(long, value_enum)]
        to: ExportTarget,
        /// PrairieLearn: the directory the questions are written into; Moodle: the XML
        /// file.
        out: PathBuf,
        /// Files or directories (searched recursively for .tq files).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Variants per file with `vary` lines (1 to 100).
        #[arg(long, default_value_t = 5)]
        count: usize,
        /// Seed of the choice of variants and of every numeric run.
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
    /// Variance against depth as SVG: the moments engine's closed forms and sampled trials.
    Plot {
        file: PathBuf,
        /// Write the SVG here instead of to standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// Independent trials of the model for the sampled points (2 to 10000).
        #[arg(long, default_value_t = 200)]
        trials: usize,
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
    /// Write the problem and the solution tq derives as LaTeX or Markdown.
    Render {
        file: PathBuf,
        #[arg(long, value_enum, default_value = "latex")]
        format: RenderFormat,
        /// No preamble: a fragment to include in another document.
        #[arg(long)]
        fragment: bool,
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// `key`: the problem and the worked solution, checked; `student`: the problem
        /// and its questions only.
        #[arg(long, value_enum, default_value = "key")]
        audience: Audience,
    },
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Audience {
    Key,
    Student,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum VariantsFormat {
    Markdown,
    Latex,
    Json,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ExportTarget {
    Prairielearn,
    Moodle,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum EmitTarget {
    Numpy,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum RenderFormat {
    Latex,
    Markdown,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum PrecisionArg {
    F64,
    F32,
}

impl PrecisionArg {
    pub fn precision(self) -> tq::num::dense::Precision {
        match self {
            PrecisionArg::F64 => tq::num::dense::Precision::F64,
            PrecisionArg::F32 => tq::num::dense::Precision::F32,
        }
    }
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum BenchPrecision {
    F64,
    F32,
    Both,
}
