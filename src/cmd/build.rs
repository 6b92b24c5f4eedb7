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
    // A build whose inputs are as the last good build read them, into a site that is as it
    // wrote it, would write the same bytes: it stops here.
    let inputs_record = crate::publish::record_path(&project.cache_dir(), &project.out_dir)
        .with_extension("inputs");
    let stamps = inputs_stamps(&project);
    if let Some(report) = unchanged_since(&inputs_record, &stamps, &project) {
        if !report.warnings.is_empty() {
            crate::term::err(&report.warnings);
        }
        crate::tell!(
            "nothing changed since the last build: {} is up to date ({}) in {:.2}s",
            project.out_dir.display(),
            report.summary,
            started.elapsed().as_secs_f64()
        );
        return Outcome::Success;
    }
    let _ = std::fs::remove_file(&inputs_record);
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
    let warnings = if build.warnings.0.is_empty() {
        String::new()
    } else {
        build.warnings.render()
    };
    if !warnings.is_empty() {
        crate::term::err(&warnings);
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
    let summary = format!(
        "{}, {}, {}, {}",
        super::count(build.pages.len() + build.data_pages, "page", "pages"),
        super::count(build.model.data.datasets.len(), "dataset", "datasets"),
        super::count(values, "derived value", "derived values"),
        super::count(build.errata.len(), "erratum", "errata"),
    );
    crate::tell!(
        "built {} ({files}), {} into {} in {:.2}s",
        super::count(build.pages.len() + build.data_pages, "page", "pages"),
        summary.split_once(", ").map_or("", |(_, rest)| rest),
        project.out_dir.display(),
        started.elapsed().as_secs_f64()
    );
    // What the next build needs to know that nothing changed; it is only a shortcut, so a
    // failure to write it is no failure of the build.
    let stamps = format!("{stamps}{}", lock_stamp(&project));
    let _ = write_inputs_record(&inputs_record, &stamps, &Report { warnings, summary });
    if let Some(old) = &previous_lock {
        let ripple = crate::check::lock::ripple(old, &build.lock);
        if !ripple.is_empty() {
            crate::tell!("{LOCK_FILE}: {ripple}");
        }
    }
    Outcome::Success
}

/// What a build said, for the next build to say again when nothing changed.
struct Report {
    warnings: String,
    summary: String,
}

const INPUTS_HEADER: &str = "# driftless build inputs: size mtime_ns inode path";
const REPORT_LINE: &str = "# report";

/// The stamp of everything a build reads besides the site and the lock file: this program, the
/// settings it is run with, and every file of the wiki's sources.
fn inputs_stamps(project: &crate::project::Project) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let exe = std::env::current_exe()
        .ok()
        .and_then(|p| std::fs::metadata(p).ok())
        .map(|m| crate::fsutil::Stamp::of(&m));
    let _ = writeln!(
        out,
        "driftless {} {:?} drafts={} search={} SOURCE_DATE_EPOCH={:?} out={}",
        env!("CARGO_PKG_VERSION"),
        exe,
        project.drafts,
        project.index_search,
        std::env::var("SOURCE_DATE_EPOCH").ok(),
        project.out_dir.display()
    );
    let mut files: Vec<(String, crate::fsutil::Stamp)> = Vec::new();
    let mut add = |path: &std::path::Path| {
        if let Ok(m) = std::fs::metadata(path) {
            let rel = path.strip_prefix(&project.root).unwrap_or(path);
            files.push((
                rel.to_string_lossy().into_owned(),
                crate::fsutil::Stamp::of(&m),
            ));
        }
    };
    add(&project.root.join(crate::project::CONFIG_FILE));
    for dir in [
        &project.content_dir,
        &project.data_dir,
        &project.templates_dir,
    ] {
        for entry in walkdir::WalkDir::new(dir).into_iter().flatten() {
            if entry.file_type().is_file() {
                add(entry.path());
            }
        }
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));
    for (path, s) in files {
        let _ = writeln!(out, "{} {} {} {path}", s.size, s.mtime_ns, s.inode);
    }
    out
}

/// The stamp of the lock file, which the build itself writes (so it is taken after it).
fn lock_stamp(project: &crate::project::Project) -> String {
    let s = std::fs::metadata(project.root.join(LOCK_FILE))
        .ok()
        .map(|m| crate::fsutil::Stamp::of(&m));
    match s {
        Some(s) => format!("{} {} {} {LOCK_FILE}\n", s.size, s.mtime_ns, s.inode),
        None => format!("no {LOCK_FILE}\n"),
    }
}

/// The last build's report, when its inputs had the same stamps and the site is as it wrote it.
fn unchanged_since(
    record: &std::path::Path,
    stamps: &str,
    project: &crate::project::Project,
) -> Option<Report> {
    let text = std::fs::read_to_string(record).ok()?;
    let body = text.strip_prefix(INPUTS_HEADER)?.strip_prefix('\n')?;
    let (inputs, report) = body.split_once(&format!("{REPORT_LINE}\n"))?;
    if inputs != format!("{stamps}{}", lock_stamp(project)) {
        return None;
    }
    let site_record = crate::publish::record_path(&project.cache_dir(), &project.out_dir);
    if !crate::publish::is_as_recorded(&project.out_dir, &site_record) {
        return None;
    }
    let (summary, warnings) = report.split_once('\n')?;
    Some(Report {
        warnings: warnings.to_string(),
        summary: summary.to_string(),
    })
}

fn write_inputs_record(
    path: &std::path::Path,
    stamps: &str,
    report: &Report,
) -> std::io::Result<()> {
    let text = format!(
        "{INPUTS_HEADER}\n{stamps}{REPORT_LINE}\n{}\n{}",
        report.summary, report.warnings
    );
    write_atomically(path, text.as_bytes())
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
