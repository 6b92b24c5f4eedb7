//! The lock file of derived values: `build` writes it; `check` compares the committed file with
//! a fresh computation and reports every changed figure as `old -> new`, so a reviewer sees the
//! whole ripple of a data edit.

use std::collections::BTreeMap;

use crate::diag::{Diagnostic, Diagnostics};
use crate::pipeline::Build;
use crate::project::{Project, LOCK_FILE};
use crate::source::{Pos, SourceMap};

/// The entries of a lock file: name to (value, line number).
fn entries(text: &str) -> BTreeMap<String, (String, u32)> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|(i, l)| {
            l.split_once(" = ")
                .map(|(k, v)| (k.to_string(), (v.to_string(), i as u32 + 1)))
        })
        .collect()
}

/// Compares the committed lock file with the values the build computed.
pub fn compare(project: &Project, build: &Build, sources: &SourceMap) -> Diagnostics {
    let mut diags = Diagnostics::default();
    let path = project.root.join(LOCK_FILE);
    let rel = std::path::Path::new(LOCK_FILE);
    let Ok(text) = std::fs::read_to_string(&path) else {
        diags.push(
            Diagnostic::error(format!("{LOCK_FILE} is missing"))
                .in_file(rel)
                .help("run `driftless build` and commit the values.lock it writes"),
        );
        return diags;
    };
    if text == build.lock {
        return diags;
    }
    let file = sources.add(rel, text.clone().into());
    let old = entries(&text);
    let new = entries(&build.lock);
    let mut changes = Vec::new();
    for (name, (value, line)) in &old {
        match new.get(name) {
            Some((v, _)) if v == value => {}
            Some((v, _)) => changes.push((*line, format!("`{name}` changed: {value} -> {v}"))),
            None => changes.push((
                *line,
                format!("`{name}` is no longer computed (was {value})"),
            )),
        }
    }
    let last = text.lines().count() as u32;
    for (name, (value, _)) in &new {
        if !old.contains_key(name) {
            changes.push((last.max(1), format!("`{name}` is new: {value}")));
        }
    }
    if changes.is_empty() {
        return diags;
    }
    let summary = Diagnostic::error(format!("{LOCK_FILE} is stale: {} derived values differ from a fresh computation", changes.len()))
        .in_file(rel)
        .help("review the changes below; if they are intended, run `driftless build` and commit values.lock");
    diags.push(summary);
    for (line, message) in changes {
        diags.push(Diagnostic::error(message).at(
            sources,
            Pos {
                file,
                line,
                col: 1,
                len: 1,
            },
        ));
    }
    diags
}

/// The most changes listed one by one under the ripple since the last commit.
const MAX_LISTED: usize = 30;

/// How the derived values changed since the last commit, when the wiki is a git repository
/// that tracks `values.lock`: a summary line, then up to 30 changes as `name: old -> new`.
/// `None` when git is absent, the file is not committed, or nothing changed. After a `build`
/// the lock file on disk is current, so this is what a reviewer of the next commit sees.
pub fn since_commit(project: &Project, build: &Build) -> Option<Vec<String>> {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(&project.root)
        .args(["show", &format!("HEAD:./{LOCK_FILE}")])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let committed = String::from_utf8(out.stdout).ok()?;
    let summary = ripple(&committed, &build.lock);
    if summary.is_empty() {
        return None;
    }
    let old = entries(&committed);
    let new = entries(&build.lock);
    let mut lines = vec![summary];
    let mut changes: Vec<String> = Vec::new();
    for (name, (value, _)) in &old {
        match new.get(name) {
            Some((v, _)) if v == value => {}
            Some((v, _)) => changes.push(format!("{name}: {value} -> {v}")),
            None => changes.push(format!("{name}: {value} -> (no longer computed)")),
        }
    }
    for (name, (value, _)) in &new {
        if !old.contains_key(name) {
            changes.push(format!("{name}: (new) {value}"));
        }
    }
    let more = changes.len().saturating_sub(MAX_LISTED);
    lines.extend(changes.into_iter().take(MAX_LISTED));
    if more > 0 {
        lines.push(format!("... and {more} more"));
    }
    Some(lines)
}

/// A one-line summary of how the derived values changed between two lock files, grouped by the
/// dataset they belong to: `3 derived values changed (gpus 2, figures 1)`. Empty when none
/// changed.
pub fn ripple(old: &str, new: &str) -> String {
    let old = entries(old);
    let new = entries(new);
    let mut groups: BTreeMap<String, usize> = BTreeMap::new();
    let (mut changed, mut added, mut removed) = (0, 0, 0);
    let mut bump = |name: &str| {
        // `dataset/key.column` belongs to its dataset; a lone name is a figure of the wiki.
        let group = match name.split_once(['/', '.']) {
            Some((dataset, _)) if !dataset.is_empty() => dataset,
            _ => "figures",
        };
        *groups.entry(group.to_string()).or_default() += 1;
    };
    for (name, (value, _)) in &old {
        match new.get(name) {
            Some((v, _)) if v == value => {}
            Some(_) => {
                changed += 1;
                bump(name);
            }
            None => {
                removed += 1;
                bump(name);
            }
        }
    }
    for name in new.keys() {
        if !old.contains_key(name) {
            added += 1;
            bump(name);
        }
    }
    if changed + added + removed == 0 {
        return String::new();
    }
    let mut parts = Vec::new();
    if changed > 0 {
        parts.push(format!("{changed} derived values changed"));
    }
    if added > 0 {
        parts.push(format!("{added} new"));
    }
    if removed > 0 {
        parts.push(format!("{removed} no longer computed"));
    }
    let by: Vec<String> = groups.iter().map(|(g, n)| format!("{g} {n}")).collect();
    format!("{} ({})", parts.join(", "), by.join(", "))
}
