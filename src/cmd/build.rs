//! `driftless build`: run the pipeline, write the lock file of derived values, publish.

use std::time::Instant;

use super::Outcome;
use crate::project::{Locate, LOCK_FILE};
use crate::source::SourceMap;

/// Builds the wiki and publishes it.
pub fn run(locate: &Locate) -> Outcome {
    let started = Instant::now();
    let sources = SourceMap::default();
    let project = match super::discover(locate, &sources) {
        Ok(p) => p,
        Err(outcome) => return outcome,
    };
    let build = match crate::pipeline::run(&project, &sources) {
        Ok(b) => b,
        Err(mut d) => {
            d.sort();
            eprint!("{}", d.render());
            eprintln!(
                "the build failed; {} was left as it was",
                project.out_dir.display()
            );
            return Outcome::Findings;
        }
    };
    let lock_path = project.root.join(LOCK_FILE);
    if std::fs::read_to_string(&lock_path).ok().as_deref() != Some(build.lock.as_str()) {
        if let Err(e) = write_atomically(&lock_path, build.lock.as_bytes()) {
            return Outcome::Failure(format!("cannot write {}: {e}", lock_path.display()));
        }
    }
    let writing = Instant::now();
    let published = match crate::publish::publish(&build.output, &project.out_dir) {
        Ok(p) => p,
        Err(e) => return Outcome::Failure(e),
    };
    if std::env::var_os("DRIFTLESS_TIMINGS").is_some() {
        eprintln!(
            "{:>10}: {:7.1} ms",
            "publish",
            writing.elapsed().as_secs_f64() * 1000.0
        );
    }
    let values = build.model.derived_values().len();
    eprintln!(
        "built {} pages ({} written, {} unchanged files), {} datasets, {} derived values, {} errata into {} in {:.2}s",
        build.pages.len(),
        published.written,
        published.reused,
        build.model.data.datasets.len(),
        values,
        build.errata.len(),
        project.out_dir.display(),
        started.elapsed().as_secs_f64()
    );
    Outcome::Success
}

/// Replaces a file by writing a sibling and renaming it over the original.
pub fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(std::path::Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    std::io::Write::write_all(&mut tmp, bytes)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}
