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
        Command::Init { dir, theme } => cmd::init::run(dir.as_deref(), theme),
        Command::Build { common, out } => {
            with_threads(&common, || cmd::build::run(&locate(&common, out)))
        }
        Command::Serve {
            common,
            port,
            bind,
            open,
        } => {
            // The server runs for as long as the editor works: the rebuilds use the global
            // pool, sized like the others.
            if let Some(asked) = common.threads {
                let _ = rayon::ThreadPoolBuilder::new()
                    .num_threads(bounded_threads(asked))
                    .build_global();
            }
            driftless::serve::run(
                &locate(&common, None),
                &driftless::serve::Options { bind, port, open },
            )
        }
        Command::Check {
            common,
            external,
            strict,
            format,
        } => with_threads(&common, || {
            cmd::check::run(&locate(&common, None), external, strict, format)
        }),
    };
    match outcome {
        Outcome::Success => ExitCode::SUCCESS,
        Outcome::Findings => ExitCode::from(1),
        Outcome::Failure(message) => {
            driftless::tell!("error: {message}");
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
    if let Some(asked) = common.threads {
        let n = bounded_threads(asked);
        if asked == 0 {
            driftless::tell!("warning: --threads 0 runs nothing; using 1 thread");
        } else if n != asked {
            driftless::tell!(
                "warning: --threads {asked} is more than this machine can use; using {n} threads"
            );
        }
        builder = builder.num_threads(n);
    }
    match builder.build() {
        Ok(pool) => pool.install(f),
        Err(e) => Outcome::Failure(format!("cannot start worker threads: {e}")),
    }
}

/// The thread count used for `--threads N`: at least 1, at most four per core (and 256), since
/// more threads only add start-up time and memory.
fn bounded_threads(asked: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    asked.clamp(1, (cores * 4).min(256))
}
