//! Watching the wiki's sources for `serve`: `content/`, `data/`, `templates/` and
//! `driftless.yaml`. Events are debounced (an editor's save is often several events: a write,
//! a rename over the original, a change of attributes) and editors' swap, backup and lock files
//! are ignored.

use std::path::{Path, PathBuf};
use std::time::Duration;

use notify::EventKind;
use notify::RecursiveMode;
use notify_debouncer_full::{new_debouncer, DebounceEventResult, Debouncer, RecommendedCache};

/// How long a path must stay quiet before its change is taken: long enough to join the events
/// of one save, short enough to feel instant.
const QUIET: Duration = Duration::from_millis(15);

/// The folders of sources, watched with everything under them.
const WATCHED: [&str; 3] = ["content", "data", "templates"];

/// The watcher; dropping it stops watching.
pub struct Watch {
    root: PathBuf,
    debouncer: std::sync::Mutex<Debouncer<notify::RecommendedWatcher, RecommendedCache>>,
}

/// Starts watching `root`; batches of changed sources (relative to `root`) go to `changes`.
pub fn start(root: &Path, changes: std::sync::mpsc::Sender<Vec<PathBuf>>) -> notify::Result<Watch> {
    let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let handler_root = root.clone();
    let mut debouncer = new_debouncer(QUIET, None, move |result: DebounceEventResult| {
        let Ok(events) = result else { return };
        // Reading a file is an event too (the build's own reads among them): only changes count.
        let mut batch: Vec<PathBuf> = events
            .iter()
            .filter(|e| !matches!(e.event.kind, EventKind::Access(_)))
            .flat_map(|e| e.event.paths.iter())
            .filter_map(|p| relevant(&handler_root, p))
            .collect();
        if !batch.is_empty() {
            batch.sort();
            batch.dedup();
            let _ = changes.send(batch);
        }
    })?;
    debouncer.watch(&root, RecursiveMode::NonRecursive)?;
    for folder in WATCHED {
        let dir = root.join(folder);
        if dir.is_dir() {
            debouncer.watch(&dir, RecursiveMode::Recursive)?;
        }
    }
    Ok(Watch {
        root,
        debouncer: std::sync::Mutex::new(debouncer),
    })
}

impl Watch {
    /// Watches a source folder that a batch shows was created (or replaced) since the start:
    /// a first `templates/`, a `data/` restored from git.
    pub fn refresh(&self, batch: &[PathBuf]) {
        let Ok(mut debouncer) = self.debouncer.lock() else {
            return;
        };
        for folder in WATCHED {
            if batch.iter().any(|p| p == Path::new(folder)) {
                let dir = self.root.join(folder);
                let _ = debouncer.unwatch(&dir);
                if dir.is_dir() {
                    let _ = debouncer.watch(&dir, RecursiveMode::Recursive);
                }
            }
        }
    }
}

/// The path of a changed source relative to the root, or `None` for anything the build does
/// not read: other files at the root, `site/`, editors' temporary files.
fn relevant(root: &Path, path: &Path) -> Option<PathBuf> {
    let rel = path.strip_prefix(root).ok()?;
    let mut parts = rel.components();
    let first = parts.next()?.as_os_str().to_str()?;
    if rel == Path::new(crate::project::CONFIG_FILE) {
        return Some(rel.to_path_buf());
    }
    if !WATCHED.contains(&first) {
        return None;
    }
    let name = rel.file_name()?.to_str()?;
    (!is_scratch_file(name)).then(|| rel.to_path_buf())
}

/// Files editors write next to the one being edited: swap and backup files (Vim's `.x.swp`,
/// `x~` and its `4913` probe, Emacs's `#x#` and `.#x` locks), JetBrains' `x___jb_tmp___`,
/// and hidden files in general (`.DS_Store`; the build skips them too).
fn is_scratch_file(name: &str) -> bool {
    name.starts_with('.')
        || name.ends_with('~')
        || (name.starts_with('#') && name.ends_with('#'))
        || name == "4913"
        || [
            ".swp",
            ".swo",
            ".swx",
            ".tmp",
            ".bak",
            "___jb_tmp___",
            "___jb_old___",
        ]
        .iter()
        .any(|s| name.ends_with(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_count_and_editor_scratch_files_do_not() {
        let root = Path::new("/w");
        let yes = [
            "/w/driftless.yaml",
            "/w/data/gpus.csv",
            "/w/content/a/b.md",
            "/w/templates/base.html",
            "/w/templates",
        ];
        for p in yes {
            assert!(relevant(root, Path::new(p)).is_some(), "{p}");
        }
        let no = [
            "/w/site/index.html",
            "/w/values.lock",
            "/w/.git/index",
            "/w/data/.gpus.csv.swp",
            "/w/data/gpus.csv~",
            "/w/content/#a.md#",
            "/w/content/.#a.md",
            "/w/content/4913",
            "/w/data/gpus.csv___jb_tmp___",
            "/elsewhere/data/x.csv",
        ];
        for p in no {
            assert!(relevant(root, Path::new(p)).is_none(), "{p}");
        }
    }
}
