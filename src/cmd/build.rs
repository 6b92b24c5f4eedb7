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
            crate::term::err(&d.render());
            crate::tell!(
                "the build failed; {} was left as it was",
                project.out_dir.display()
            );
            return Outcome::Findings;
        }
    };
    if !build.warnings.0.is_empty() {
        crate::term::err(&build.warnings.render());
    }
    let writing = Instant::now();
    let record = crate::publish::record_path(&project.cache_dir(), &project.out_dir);
    let published = match crate::publish::publish(&build.output, &project.out_dir, Some(&record)) {
        Ok(p) => p,
        Err(e) => return Outcome::Failure(e),
    };
    for warning in &published.warnings {
        crate::tell!("warning: {warning}");
    }
    if std::env::var_os("DRIFTLESS_TIMINGS").is_some() {
        crate::tell!(
            "{:>10}: {:7.1} ms",
            "publish",
            writing.elapsed().as_secs_f64() * 1000.0
        );
    }
    // The lock file is written only once the site it describes is published.
    let lock_path = project.root.join(LOCK_FILE);
    let previous_lock = std::fs::read_to_string(&lock_path).ok();
    if previous_lock.as_deref() != Some(build.lock.as_str()) {
        if let Err(e) = write_atomically(&lock_path, build.lock.as_bytes()) {
            return Outcome::Failure(format!("cannot write {}: {e}", lock_path.display()));
        }
    }
    let values = build.model.derived_values().len();
    let files = if published.replaced {
        format!(
            "{} written, {}",
            published.written,
            super::count(published.reused, "unchanged file", "unchanged files")
        )
    } else {
        "no file changed".to_string()
    };
    crate::tell!(
        "built {} ({files}), {}, {}, {} into {} in {:.2}s",
        super::count(build.pages.len() + build.data_pages, "page", "pages"),
        super::count(build.model.data.datasets.len(), "dataset", "datasets"),
        super::count(values, "derived value", "derived values"),
        super::count(build.errata.len(), "erratum", "errata"),
        project.out_dir.display(),
        started.elapsed().as_secs_f64()
    );
    if let Some(old) = &previous_lock {
        let ripple = crate::check::lock::ripple(old, &build.lock);
        if !ripple.is_empty() {
            crate::tell!("{LOCK_FILE}: {ripple}");
        }
    }
    Outcome::Success
}

/// Replaces a file by writing a sibling and renaming it over the original.
pub fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(std::path::Path::new("."));
    // A new file gets the usual mode of a file in a repository (rw-r--r--); an existing one
    // keeps its own.
    #[cfg(unix)]
    let mode = std::fs::metadata(path).map_or(0o644, |m| {
        std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o7777
    });
    let mut builder = tempfile::Builder::new();
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(mode));
    let mut tmp = builder.tempfile_in(dir)?;
    std::io::Write::write_all(&mut tmp, bytes)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}
