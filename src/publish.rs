//! Stage 10: atomic publish.
//!
//! The new site is written into a temporary folder next to the output folder, then swapped in
//! with one atomic rename (`renameat2(RENAME_EXCHANGE)` where the file system supports it; two
//! renames otherwise, with recovery on the next run). A build that fails or is killed never
//! leaves a half-written or emptied site: the previous one stays as it was. Temporary folders
//! left by a killed build are removed by the next one, under a lock file so that two builds never
//! remove each other's.

use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::site::SiteOutput;

/// The file that marks a folder as written by driftless, so that `--out` never replaces a
/// folder it did not create.
pub const MARKER: &str = ".driftless-site";

/// What a publish wrote.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Published {
    /// Files written anew.
    pub written: usize,
    /// Files unchanged since the previous build, hard-linked from it instead of written.
    pub reused: usize,
}

/// Writes `output` to `out_dir`, replacing what was there in one step.
pub fn publish(output: &SiteOutput, out_dir: &Path) -> Result<Published, String> {
    let name = out_dir
        .file_name()
        .ok_or_else(|| format!("{} is not a folder name", out_dir.display()))?
        .to_string_lossy()
        .to_string();
    let parent = out_dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    std::fs::create_dir_all(&parent)
        .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    if out_dir.exists() && !is_replaceable(out_dir) {
        return Err(format!(
            "refusing to replace {}: it holds files that driftless did not write (choose an empty or new folder with --out)",
            out_dir.display()
        ));
    }
    let lock_path = parent.join(format!(".{name}.lock"));
    let lock = File::create(&lock_path)
        .map_err(|e| format!("cannot create {}: {e}", lock_path.display()))?;
    lock.lock()
        .map_err(|e| format!("cannot lock {}: {e}", lock_path.display()))?;
    recover(&parent, &name, out_dir);

    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}.tmp-"))
        .tempdir_in(&parent)
        .map_err(|e| {
            format!(
                "cannot create a temporary folder in {}: {e}",
                parent.display()
            )
        })?;
    let previous = out_dir.exists().then(|| (out_dir, read_manifest(out_dir)));
    let published = write_all(output, tmp.path(), previous)
        .map_err(|e| format!("cannot write the site into {}: {e}", tmp.path().display()))?;

    if out_dir.exists() {
        if exchange(tmp.path(), out_dir).is_err() {
            // No atomic exchange on this file system: move the old site aside, move the new one
            // in. A crash in between leaves `.NAME.old-*`, which `recover` puts back.
            let old = parent.join(format!(".{name}.old-{}", std::process::id()));
            std::fs::rename(out_dir, &old)
                .map_err(|e| format!("cannot move {} aside: {e}", out_dir.display()))?;
            let new = tmp.keep();
            std::fs::rename(&new, out_dir)
                .map_err(|e| format!("cannot move the new site to {}: {e}", out_dir.display()))?;
            remove_tree(&old);
        } else {
            // After the exchange the temporary folder holds the previous site.
            remove_tree(tmp.path());
        }
    } else {
        let new = tmp.keep();
        std::fs::rename(&new, out_dir)
            .map_err(|e| format!("cannot move the new site to {}: {e}", out_dir.display()))?;
    }
    drop(lock);
    let _ = std::fs::remove_file(&lock_path);
    Ok(published)
}

/// Whether `dir` may be replaced: empty, or marked as driftless output.
fn is_replaceable(dir: &Path) -> bool {
    dir.join(MARKER).is_file() || std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_none())
}

/// Cleans up after a build that was killed: restores a site moved aside, removes temporary
/// folders.
fn recover(parent: &Path, name: &str, out_dir: &Path) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for path in entries {
        let Some(file) = path.file_name().map(|f| f.to_string_lossy().to_string()) else {
            continue;
        };
        if file.starts_with(&format!(".{name}.old-")) {
            if !out_dir.exists() {
                let _ = std::fs::rename(&path, out_dir);
            } else {
                let _ = std::fs::remove_dir_all(&path);
            }
        } else if file.starts_with(&format!(".{name}.tmp-")) {
            let _ = std::fs::remove_dir_all(&path);
        }
    }
}

#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    use rustix::fs::{renameat_with, RenameFlags, CWD};
    renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE).map_err(io::Error::from)
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "no atomic exchange",
    ))
}

/// A fingerprint of a file's content, to recognise files unchanged since the last build.
fn fingerprint(bytes: &[u8]) -> u64 {
    use std::hash::{Hash, Hasher};
    // SipHash with fixed keys: the same bytes give the same value on every run.
    let mut h = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut h);
    h.finish()
}

/// The fingerprints of the files of the previous build, kept in its marker file.
fn read_manifest(dir: &Path) -> HashMap<String, u64> {
    let Ok(text) = std::fs::read_to_string(dir.join(MARKER)) else {
        return HashMap::new();
    };
    text.lines()
        .filter_map(|l| {
            let (hash, path) = l.split_once(' ')?;
            Some((path.to_string(), u64::from_str_radix(hash, 16).ok()?))
        })
        .collect()
}

/// Writes every file, folders first, files in parallel. A file whose content is the same as in
/// the previous build is hard-linked from it: unchanged pages cost no write, and the previous
/// site is never modified (the new tree only shares its unchanged files).
fn write_all(
    output: &SiteOutput,
    dir: &Path,
    previous: Option<(&Path, HashMap<String, u64>)>,
) -> io::Result<Published> {
    let mut folders: Vec<PathBuf> = output
        .files
        .keys()
        .filter_map(|p| Path::new(p).parent().map(Path::to_path_buf))
        .collect();
    folders.sort();
    folders.dedup();
    for f in folders {
        std::fs::create_dir_all(dir.join(f))?;
    }
    let results: Vec<io::Result<(bool, String)>> = output
        .files
        .par_iter()
        .map(|(path, bytes)| {
            let hash = fingerprint(bytes);
            let target = dir.join(path);
            if let Some((old_dir, manifest)) = &previous {
                if manifest.get(path) == Some(&hash)
                    && std::fs::hard_link(old_dir.join(path), &target).is_ok()
                {
                    return Ok((true, format!("{hash:016x} {path}")));
                }
            }
            std::fs::write(&target, bytes)?;
            Ok((false, format!("{hash:016x} {path}")))
        })
        .collect();
    let mut published = Published::default();
    let mut manifest = String::from(
        "This folder is written by driftless build and replaced whole by the next build.\n",
    );
    for r in results {
        let (reused, line) = r?;
        if reused {
            published.reused += 1;
        } else {
            published.written += 1;
        }
        manifest.push_str(&line);
        manifest.push('\n');
    }
    std::fs::write(dir.join(MARKER), manifest)?;
    Ok(published)
}

/// Removes a folder tree, its top-level entries in parallel (a site is one folder per page).
fn remove_tree(dir: &Path) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        let paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.par_iter().for_each(|p| {
            if p.is_dir() {
                let _ = std::fs::remove_dir_all(p);
            } else {
                let _ = std::fs::remove_file(p);
            }
        });
    }
    let _ = std::fs::remove_dir_all(dir);
}
