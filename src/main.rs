//! The `driftless` command: parse the command line, run the command, map its outcome to an
//! exit code (0 success, 1 findings in the wiki, 2 usage or I/O error).

use std::process::ExitCode;

use clap::Parser;
use driftless::cli::{Cli, Command, Common};
use driftless::cmd::{self, Outcome};
use driftless::project::Locate;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let outcome = match cli.command {
        Command::Build { common, out } => {
            with_threads(&common, || cmd::build::run(&locate(&common, out)))
        }
        Command::Check {
            common,
            external,
            format,
        } => with_threads(&common, || {
            cmd::check::run(&locate(&common, None), external, format)
        }),
    };
    match outcome {
        Outcome::Success => ExitCode::SUCCESS,
        Outcome::Findings => ExitCode::from(1),
        Outcome::Failure(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

fn locate(common: &Common, out: Option<std::path::PathBuf>) -> Locate {
    Locate {
        root: common.root.clone(),
        out,
    }
}

/// Runs a command on a thread pool of the requested size.
fn with_threads(common: &Common, f: impl FnOnce() -> Outcome + Send) -> Outcome {
    let mut builder = rayon::ThreadPoolBuilder::new();
    if let Some(n) = common.threads {
        builder = builder.num_threads(n.max(1));
    }
    match builder.build() {
        Ok(pool) => pool.install(f),
        Err(e) => Outcome::Failure(format!("cannot start worker threads: {e}")),
    }
}
