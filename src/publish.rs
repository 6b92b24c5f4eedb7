//! Stage 10: atomic publish.
//!
//! The new site is written into a temporary folder next to the output folder, then swapped in
//! with one atomic rename (`renameat2(RENAME_EXCHANGE)` where the file system supports it; two
//! renames otherwise, with recovery on the next run). A build that fails or is killed never
//! leaves a half-written or emptied site: the previous one stays as it was. Temporary folders
//! left by a killed build are removed by the next one, under a lock file so that two builds never
//! remove each other's.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::site::SiteOutput;

/// The file that marks a folder as written by driftless, so that `--out` never replaces a
/// folder it did not create.
pub const MARKER: &str = ".driftless-site";

/// Writes `output` to `out_dir`, replacing what was there in one step.
pub fn publish(output: &SiteOutput, out_dir: &Path) -> Result<(), String> {
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
    write_all(output, tmp.path())
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
            let _ = std::fs::remove_dir_all(&old);
        }
        // After the exchange the temporary folder holds the previous site; dropping it removes it.
    } else {
        let new = tmp.keep();
        std::fs::rename(&new, out_dir)
            .map_err(|e| format!("cannot move the new site to {}: {e}", out_dir.display()))?;
    }
    drop(lock);
    let _ = std::fs::remove_file(&lock_path);
    Ok(())
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

/// Writes every file, folders first, files in parallel.
fn write_all(output: &SiteOutput, dir: &Path) -> io::Result<()> {
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
    output
        .files
        .par_iter()
        .try_for_each(|(path, bytes)| std::fs::write(dir.join(path), bytes))?;
    std::fs::write(
        dir.join(MARKER),
        b"This folder is written by driftless build and replaced whole by the next build.\n",
    )
}
