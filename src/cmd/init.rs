//! `driftless init [DIR]`: writes a small working wiki (the repository's `starter/`, compiled
//! in), or with `--theme` the built-in theme's files, into `templates/` for editing. Nothing
//! is written unless every file can be: an existing file is never overwritten.

use std::path::{Path, PathBuf};

use super::Outcome;

/// The starter wiki: path in the new wiki, text.
const STARTER: &[(&str, &str)] = &[
    (
        "driftless.yaml",
        include_str!("../../starter/driftless.yaml"),
    ),
    (".gitignore", include_str!("../../starter/gitignore")),
    ("README.md", include_str!("../../starter/README.md")),
    (
        "content/index.md",
        include_str!("../../starter/content/index.md"),
    ),
    (
        "content/payback.md",
        include_str!("../../starter/content/payback.md"),
    ),
    (
        "data/params.yaml",
        include_str!("../../starter/data/params.yaml"),
    ),
    (
        "data/panels.yaml",
        include_str!("../../starter/data/panels.yaml"),
    ),
    (
        "data/panels.csv",
        include_str!("../../starter/data/panels.csv"),
    ),
];

/// Writes the starter wiki, or the theme, into `dir`.
pub fn run(dir: Option<&Path>, theme: bool) -> Outcome {
    let dir = dir.map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let files: Vec<(String, &[u8])> = if theme {
        crate::theme::files().collect()
    } else {
        STARTER
            .iter()
            .map(|(p, t)| (p.to_string(), t.as_bytes()))
            .collect()
    };
    let existing: Vec<&str> = files
        .iter()
        .map(|(p, _)| p.as_str())
        .filter(|p| dir.join(p).symlink_metadata().is_ok())
        .collect();
    if !existing.is_empty() {
        let what = if theme { "the theme" } else { "a new wiki" };
        return Outcome::Failure(format!(
            "{} already has {}: init writes {what} only where none of its files exist, and \
             never overwrites one; move {} away or choose another folder",
            dir.display(),
            list(&existing),
            if existing.len() == 1 { "it" } else { "them" }
        ));
    }
    if theme && !dir.join(crate::project::CONFIG_FILE).exists() && !dir.join("content").is_dir() {
        return Outcome::Failure(format!(
            "{} is not a wiki (no {} or content/): run `driftless init` there first, or pass \
             the wiki's folder",
            dir.display(),
            crate::project::CONFIG_FILE
        ));
    }
    for (rel, bytes) in &files {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            if let Err(e) = std::fs::create_dir_all(parent) {
                return Outcome::Failure(format!("cannot create {}: {e}", parent.display()));
            }
        }
        // `create_new`: a file that appeared since the check above is left alone.
        let written = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .and_then(|mut f| std::io::Write::write_all(&mut f, bytes));
        if let Err(e) = written {
            return Outcome::Failure(format!("cannot write {}: {e}", path.display()));
        }
    }
    let shown = dir.display();
    if theme {
        crate::tell!(
            "copied the built-in theme into {shown}/templates/ ({}): edit any of them; \
             delete one to go back to the built-in file",
            super::count(files.len(), "file", "files")
        );
    } else {
        let cd = if dir == Path::new(".") {
            String::new()
        } else {
            format!("cd {shown} && ")
        };
        crate::tell!(
            "created a wiki in {shown} ({}). Next: {cd}driftless serve (or driftless build); \
             README.md says what to edit first",
            super::count(files.len(), "file", "files")
        );
    }
    Outcome::Success
}

/// `a`, `a and b`, `a, b and c`.
fn list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    /// Every file of the repository's `starter/` is written by `init` (`gitignore` as
    /// `.gitignore`), so the starter cannot grow a file that new wikis never get.
    #[test]
    fn every_file_of_starter_is_written() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("starter");
        let mut on_disk: Vec<String> = crate::fsutil::files_below(&dir)
            .into_iter()
            .map(|rel| {
                if rel == "gitignore" {
                    ".gitignore".to_string()
                } else {
                    rel
                }
            })
            .collect();
        on_disk.sort();
        let mut listed: Vec<String> = super::STARTER.iter().map(|(p, _)| p.to_string()).collect();
        listed.sort();
        assert_eq!(on_disk, listed);
    }
}
