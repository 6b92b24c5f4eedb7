//! `driftless check`: the build without the publish, then the checks; human or JSON output.

use super::Outcome;
use crate::cli::Format;
use crate::project::Locate;
use crate::source::SourceMap;

/// Checks the wiki.
pub fn run(locate: &Locate, external: bool, strict: bool, format: Format) -> Outcome {
    let sources = SourceMap::default();
    let project = match super::discover(locate, &sources) {
        Ok(p) => p,
        Err(outcome) => return outcome,
    };
    let report = match crate::check::run(&project, &sources, external, strict) {
        Ok(r) => r,
        Err(e) => return Outcome::Failure(e),
    };
    match format {
        Format::Json => match serde_json::to_string_pretty(&report) {
            Ok(s) => crate::say!("{s}"),
            Err(e) => return Outcome::Failure(format!("cannot write the report: {e}")),
        },
        Format::Human => {
            let diags = crate::diag::Diagnostics(report.findings.clone());
            crate::term::out(&diags.render());
            if let Some(lines) = &report.since_commit {
                let (summary, changes) = lines.split_first().expect("a summary line");
                crate::say!("values.lock since the last commit: {summary}");
                for change in changes {
                    crate::say!("  {change}");
                }
            }
            crate::say!(
                "checked {}, {}, {}, {}{} in {:.2}s: {}",
                super::count(report.pages, "page", "pages"),
                super::count(report.derived_values, "derived value", "derived values"),
                super::count(report.claims, "claim", "claims"),
                super::count(report.internal_links, "internal link", "internal links"),
                if external {
                    format!(
                        ", {}",
                        super::count(report.external_links, "external link", "external links")
                    )
                } else {
                    String::new()
                },
                report.seconds,
                if !report.is_clean() {
                    "problems found".to_string()
                } else if report.findings.is_empty() {
                    "no problems".to_string()
                } else {
                    format!(
                        "no errors, {}",
                        super::count(report.findings.len(), "warning", "warnings")
                    )
                }
            );
        }
    }
    if report.is_clean() {
        Outcome::Success
    } else {
        Outcome::Findings
    }
}
