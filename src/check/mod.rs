//! Stage 9: checks. `driftless check` runs the whole pipeline without publishing, then proves
//! that the wiki is still right:
//!
//! 1. links: internal links and `#fragments` (in the pipeline, at their Markdown source), then
//!    lychee-lib over the generated site written to a temporary folder; `--external` also checks
//!    http(s) links;
//! 2. recomputed values: the committed `values.lock` against a fresh computation;
//! 3. claims: every `claim(...)` of every article (in the pipeline: a false one fails the build);
//! 4. drift: numbers typed in prose that equal a derived value;
//! 5. duplicated facts: one measured number stored as an input in two datasets.

pub mod facts;
pub mod internal;
pub mod links;
pub mod lint;
pub mod lock;

use std::time::Instant;

use serde::Serialize;

use crate::diag::{Diagnostic, Diagnostics};
use crate::pipeline::Build;
use crate::project::Project;
use crate::source::SourceMap;

/// What `check` found, with the counts of what it looked at.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub findings: Vec<Diagnostic>,
    pub pages: usize,
    pub derived_values: usize,
    pub claims: usize,
    pub internal_links: usize,
    pub external_links: usize,
    /// Inputs (columns and parameters) older than the wiki's `stale_after`.
    pub stale_inputs: usize,
    /// How the derived values changed since the last commit of `values.lock` (git only): a
    /// summary line, then one line per change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since_commit: Option<Vec<String>>,
    pub seconds: f64,
}

impl Report {
    /// Whether the wiki passed.
    pub fn is_clean(&self) -> bool {
        !self.findings.iter().any(Diagnostic::is_error)
    }
}

/// Runs every check. `Err` is an I/O problem (exit code 2), not a finding.
pub fn run(
    project: &Project,
    sources: &SourceMap,
    external: bool,
    strict: bool,
) -> Result<Report, String> {
    let started = Instant::now();
    let mut report = Report::default();
    let build = match crate::pipeline::run(project, sources) {
        Ok(b) => b,
        Err(mut d) => {
            d.sort();
            report.findings = d.0;
            report.seconds = started.elapsed().as_secs_f64();
            return Ok(report);
        }
    };
    let mut diags = Diagnostics::default();
    // Red links: errors for `check`, unless the wiki says `links: { red_links: warning }`.
    for mut w in build.warnings.0.iter().cloned() {
        if project.config.links.red_links == crate::project::Severity::Error
            && w.kind == crate::diag::Kind::RedLink
        {
            w.severity = crate::diag::Severity::Error;
        }
        diags.push(w);
    }
    report.pages = build.pages.len();
    report.derived_values = build.model.derived_values().len();
    report.claims = build.pages.iter().map(|p| p.claims.len()).sum();
    diags.extend(lock::compare(project, &build, sources));
    report.since_commit = lock::since_commit(project, &build);
    let stale = crate::stale::findings(&build.model.data, &build.model.stale, sources);
    report.stale_inputs = stale.len();
    diags.extend(stale);
    if project.config.lint.duplicated_facts {
        diags.extend(facts::duplicated_facts(&build.model.data, sources));
    }
    if project.config.lint.drift {
        diags.extend(lint::drift(&build, project.config.lint.min_digits, sources));
    }
    let (checked, found) = links::check_site(project, &build, sources, external)?;
    report.internal_links = checked.internal;
    report.external_links = checked.external;
    diags.extend(found);
    if strict {
        for d in &mut diags.0 {
            d.severity = crate::diag::Severity::Error;
        }
    }
    diags.sort();
    report.findings = diags.0;
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// The article a generated page comes from.
pub fn article_of(build: &Build, page: &str) -> Option<usize> {
    let slug = page.trim_end_matches("index.html").trim_end_matches('/');
    build.articles.iter().position(|a| a.slug == slug)
}

/// A finding placed at a generated file when no source line is known.
pub fn at_output(message: String, page: &str) -> Diagnostic {
    Diagnostic::error(message).in_file(&std::path::Path::new("site").join(page))
}
