//! Stage 10: atomic publish.
//!
//! The new site is written into a temporary folder next to the output folder, then swapped in
//! with one atomic rename (`renameat2(RENAME_EXCHANGE)` where the file system supports it; two
//! renames otherwise, with recovery on the next run). A build that fails or is killed never
//! leaves a half-written or emptied site: the previous one stays as it was. Temporary folders
//! left by a killed build are removed by the next one. Builds of one site take turns: each holds
//! a lock on the folder that contains the site while it publishes, so no build removes another's
//! temporary folder and nothing is left behind.
//!
//! The record of what was written (kept outside the site, so that the site itself is the same
//! bytes on every build) holds the SHA-256, size, modification time and inode of every file. A file of the previous site is reused (hard-linked) only when
//! its bytes are proven to be what this build writes: the recorded hash must match, and the file
//! on disk must still have the recorded size, time and inode, or else hash to the same value. A
//! page damaged or edited by hand is therefore rewritten by the next build. When every file is
//! proven unchanged and the site holds nothing else, the site is not touched at all.

use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::site::SiteOutput;

/// The file that marks a folder as written by driftless, so that `--out` never replaces a
/// folder it did not create.
pub const MARKER: &str = ".driftless-site";

const MARKER_TEXT: &str =
    "This folder is written by driftless build and replaced whole by the next build.\n";

/// The first line of a record file.
const RECORD_HEADER: &str = "# driftless publish record: sha256 size mtime_ns inode path";

/// What a publish wrote.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Published {
    /// Files written anew.
    pub written: usize,
    /// Files unchanged since the previous build, hard-linked from it instead of written.
    pub reused: usize,
    /// Whether the output folder was replaced; `false` when every file was already as the build
    /// would write it.
    pub replaced: bool,
    /// Things the editor should know that did not stop the publish.
    pub warnings: Vec<String>,
}

/// Writes `output` to `out_dir`, replacing what was there in one step.
///
/// When `out_dir` is a symbolic link (a web root published through a link), the site is
/// published into the folder it points to, swapped inside that folder's parent; the link stays.
///
/// `record` is the file that remembers what was written, for the next publish to the same
/// folder; without one, every file is written.
pub fn publish(
    output: &SiteOutput,
    out_dir: &Path,
    record: Option<&Path>,
) -> Result<Published, String> {
    let out_dir = &resolve_link(out_dir)?;
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
    let _lock = lock_folder(&parent)?;
    let mut warnings = recover(&parent, &name, out_dir);
    if out_dir.exists() && !is_replaceable(out_dir) {
        return Err(format!(
            "refusing to replace {}: it holds files that driftless did not write (choose an empty or new folder with --out)",
            out_dir.display()
        ));
    }

    let hashes: Vec<(&String, &Vec<u8>, Hash)> = output
        .files
        .par_iter()
        .map(|(path, bytes)| (path, bytes, Hash::of(bytes)))
        .collect();
    let previous = match record {
        Some(r) if out_dir.is_dir() => read_record(r),
        _ => HashMap::new(),
    };
    // Which files of the previous site are proven to hold what this build writes.
    let reusable: Vec<bool> = hashes
        .par_iter()
        .map(|(path, _, hash)| {
            previous
                .get(path.as_str())
                .is_some_and(|rec| rec.hash == *hash && verify(&out_dir.join(path), rec))
        })
        .collect();
    if out_dir.is_dir() && reusable.iter().all(|r| *r) && holds_exactly(out_dir, &output.files) {
        return Ok(Published {
            written: 0,
            reused: hashes.len(),
            replaced: false,
            warnings,
        });
    }

    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}.tmp-"))
        .tempdir_in(&parent)
        .map_err(|e| {
            format!(
                "cannot create a temporary folder in {}: {e}",
                parent.display()
            )
        })?;
    let (written, reused, lines) = write_all(&hashes, &reusable, tmp.path(), out_dir)
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
            warnings.extend(remove_tree(&old));
        } else {
            // After the exchange the temporary folder holds the previous site.
            let old = tmp.keep();
            warnings.extend(remove_tree(&old));
        }
    } else {
        let new = tmp.keep();
        std::fs::rename(&new, out_dir)
            .map_err(|e| format!("cannot move the new site to {}: {e}", out_dir.display()))?;
    }
    if let Some(record) = record {
        // Written after the swap: a record that is lost or stale only costs a rehash.
        if let Err(e) = write_record(record, &lines) {
            warnings.push(format!(
                "cannot write {} ({e}): the next build writes every file again",
                record.display()
            ));
        }
    }
    Ok(Published {
        written,
        reused,
        replaced: true,
        warnings,
    })
}

/// Where the record of a publish into `out_dir` is kept, in the wiki's cache folder: one
/// record per output folder.
pub fn record_path(cache_dir: &Path, out_dir: &Path) -> PathBuf {
    let key = Hash::of(out_dir.to_string_lossy().as_bytes()).to_hex();
    cache_dir.join(format!("publish-{}.record", &key[..16]))
}

/// Follows a symbolic link at the output path to the folder it names.
fn resolve_link(out_dir: &Path) -> Result<PathBuf, String> {
    match std::fs::symlink_metadata(out_dir) {
        Ok(m) if m.file_type().is_symlink() => std::fs::canonicalize(out_dir).map_err(|e| {
            format!(
                "{} is a link to a folder that cannot be opened ({e}): create the folder it points to, or remove the link",
                out_dir.display()
            )
        }),
        _ => Ok(out_dir.to_path_buf()),
    }
}

/// Takes the publish lock of the folder that holds the site, waiting for another build that
/// holds it. The lock is on the folder itself, so no lock file is created or left behind.
fn lock_folder(parent: &Path) -> Result<File, String> {
    let handle =
        File::open(parent).map_err(|e| format!("cannot open {}: {e}", parent.display()))?;
    match handle.try_lock() {
        Ok(()) => return Ok(handle),
        Err(std::fs::TryLockError::WouldBlock) => {
            crate::tell!(
                "another build is publishing into {}; waiting for it to finish",
                parent.display()
            );
        }
        Err(std::fs::TryLockError::Error(e)) => {
            return Err(format!("cannot lock {}: {e}", parent.display()));
        }
    }
    handle
        .lock()
        .map_err(|e| format!("cannot lock {}: {e}", parent.display()))?;
    Ok(handle)
}

/// Whether the folder holds exactly the files of the site (and its marker), nothing else.
fn holds_exactly(dir: &Path, files: &std::collections::BTreeMap<String, Vec<u8>>) -> bool {
    let mut count = 0usize;
    for entry in walkdir::WalkDir::new(dir).min_depth(1) {
        let Ok(entry) = entry else { return false };
        if entry.file_type().is_dir() {
            continue;
        }
        let Ok(rel) = entry.path().strip_prefix(dir) else {
            return false;
        };
        let rel = rel.to_string_lossy().replace('\\', "/");
        if rel == MARKER {
            continue;
        }
        if !files.contains_key(&rel) {
            return false;
        }
        count += 1;
    }
    count == files.len()
}

/// Whether `dir` may be replaced: empty, or marked as driftless output.
fn is_replaceable(dir: &Path) -> bool {
    dir.join(MARKER).is_file() || std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_none())
}

/// Cleans up after a build that was killed: restores a site moved aside, removes temporary
/// folders. Returns what could not be removed.
fn recover(parent: &Path, name: &str, out_dir: &Path) -> Vec<String> {
    let mut warnings = Vec::new();
    let Ok(entries) = std::fs::read_dir(parent) else {
        return warnings;
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
                warnings.extend(remove_tree(&path));
            }
        } else if file.starts_with(&format!(".{name}.tmp-")) {
            warnings.extend(remove_tree(&path));
        }
    }
    warnings
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

/// The SHA-256 of a file's bytes: the same bytes give the same value on every run and machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Hash([u8; 32]);

impl Hash {
    fn of(bytes: &[u8]) -> Hash {
        Hash(Sha256::digest(bytes).into())
    }

    fn to_hex(self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn from_hex(text: &str) -> Option<Hash> {
        if text.len() != 64 || !text.is_ascii() {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(Hash(out))
    }
}

/// What was written for one file: its hash, and how it looked on disk right after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Record {
    hash: Hash,
    size: u64,
    mtime_ns: u128,
    inode: u64,
}

/// The size, modification time and inode of a regular file (not a link), or `None`.
fn stat(path: &Path) -> Option<(u64, u128, u64)> {
    let meta = std::fs::symlink_metadata(path).ok()?;
    if !meta.file_type().is_file() {
        return None;
    }
    let mtime_ns = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&meta);
    #[cfg(not(unix))]
    let inode = 0;
    Some((meta.len(), mtime_ns, inode))
}

/// Whether the file still holds the bytes its record names: cheap when size, time and inode are
/// as recorded, a rehash of the file otherwise.
fn verify(path: &Path, record: &Record) -> bool {
    let Some((size, mtime_ns, inode)) = stat(path) else {
        return false;
    };
    if size != record.size {
        return false;
    }
    if mtime_ns == record.mtime_ns && inode == record.inode && mtime_ns != 0 {
        return true;
    }
    std::fs::read(path).is_ok_and(|bytes| Hash::of(&bytes) == record.hash)
}

/// Whether the folder `out_dir` holds exactly the files the record says the last publish wrote,
/// each with its recorded size, modification time and inode, and nothing else. Only `stat`: no
/// file is read (a build that trusts this still proves nothing changed in its inputs).
pub fn is_as_recorded(out_dir: &Path, record: &Path) -> bool {
    let Ok(out_dir) = resolve_link(out_dir) else {
        return false;
    };
    let out_dir = out_dir.as_path();
    let recorded = read_record(record);
    if recorded.is_empty() {
        return false;
    }
    let mut seen = 0usize;
    for entry in walkdir::WalkDir::new(out_dir).min_depth(1) {
        let Ok(entry) = entry else { return false };
        if entry.file_type().is_dir() {
            continue;
        }
        let Ok(rel) = entry.path().strip_prefix(out_dir) else {
            return false;
        };
        let rel = rel.to_string_lossy().replace('\\', "/");
        if rel == MARKER {
            continue;
        }
        let Some(r) = recorded.get(&rel) else {
            return false;
        };
        match stat(entry.path()) {
            Some((size, mtime_ns, inode))
                if size == r.size
                    && mtime_ns == r.mtime_ns
                    && inode == r.inode
                    && mtime_ns != 0 => {}
            _ => return false,
        }
        seen += 1;
    }
    seen == recorded.len()
}

/// The record of the files of the previous publish.
fn read_record(path: &Path) -> HashMap<String, Record> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return HashMap::new();
    };
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let mut parts = l.splitn(5, ' ');
            let record = Record {
                hash: Hash::from_hex(parts.next()?)?,
                size: parts.next()?.parse().ok()?,
                mtime_ns: parts.next()?.parse().ok()?,
                inode: parts.next()?.parse().ok()?,
            };
            Some((parts.next()?.to_string(), record))
        })
        .collect()
}

fn write_record(path: &Path, lines: &[String]) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut text = format!("{RECORD_HEADER}\n");
    for line in lines {
        text.push_str(line);
        text.push('\n');
    }
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    io::Write::write_all(&mut tmp, text.as_bytes())?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Writes every file into `dir`, folders first, files in parallel. A file proven unchanged in
/// the previous site is hard-linked from it: unchanged pages cost no write, and the previous site
/// is never modified (the new tree only shares its unchanged files). Returns the counts of files
/// written and reused, and the record line of each file.
fn write_all(
    files: &[(&String, &Vec<u8>, Hash)],
    reusable: &[bool],
    dir: &Path,
    old_dir: &Path,
) -> io::Result<(usize, usize, Vec<String>)> {
    let mut folders: Vec<PathBuf> = files
        .iter()
        .filter_map(|(p, _, _)| Path::new(p.as_str()).parent().map(Path::to_path_buf))
        .collect();
    folders.sort();
    folders.dedup();
    for f in folders {
        std::fs::create_dir_all(dir.join(f))?;
    }
    let results: Vec<io::Result<(bool, String)>> = files
        .par_iter()
        .zip(reusable.par_iter())
        .map(|((path, bytes, hash), reuse)| {
            let target = dir.join(path);
            let linked = *reuse && std::fs::hard_link(old_dir.join(path), &target).is_ok();
            if !linked {
                std::fs::write(&target, bytes)?;
            }
            let (size, mtime_ns, inode) = stat(&target).unwrap_or((bytes.len() as u64, 0, 0));
            Ok((
                linked,
                format!("{} {size} {mtime_ns} {inode} {path}", hash.to_hex()),
            ))
        })
        .collect();
    let (mut written, mut reused) = (0, 0);
    let mut lines = Vec::with_capacity(results.len());
    for r in results {
        let (linked, line) = r?;
        if linked {
            reused += 1;
        } else {
            written += 1;
        }
        lines.push(line);
    }
    std::fs::write(dir.join(MARKER), MARKER_TEXT)?;
    Ok((written, reused, lines))
}

/// Removes a folder tree, its top-level entries in parallel (a site is one folder per page). A
/// tree with read-only folders (someone ran `chmod -R a-w site`) is made writable first, since
/// it is ours to remove. Returns a warning when something could not be removed.
fn remove_tree(dir: &Path) -> Option<String> {
    let remove = |dir: &Path| {
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
        std::fs::remove_dir_all(dir)
    };
    if remove(dir).is_ok() || !dir.exists() {
        return None;
    }
    let mut made_writable = false;
    for entry in walkdir::WalkDir::new(dir).into_iter().flatten() {
        if entry.file_type().is_dir() {
            if let Ok(meta) = entry.metadata() {
                let mut perms = meta.permissions();
                if perms.readonly() {
                    #[cfg(unix)]
                    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
                    #[cfg(not(unix))]
                    #[allow(clippy::permissions_set_readonly_false)]
                    perms.set_readonly(false);
                    made_writable |= std::fs::set_permissions(entry.path(), perms).is_ok();
                }
            }
        }
    }
    match remove(dir) {
        Ok(()) if made_writable => Some(
            "the previous site had read-only folders; it was replaced by the new site and removed"
                .to_string(),
        ),
        Ok(()) => None,
        Err(e) => Some(format!(
            "the previous site was replaced but could not be removed from {} ({e}): delete that folder by hand",
            dir.display()
        )),
    }
}
