//! Reading the wiki's files safely: bounded sizes, UTF-8 with a clear error, no way out of the
//! wiki's folder (through `..`, absolute paths or symbolic links), sorted walks.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::diag::{Diagnostic, Diagnostics};

/// The largest input file driftless reads. Larger files are refused with an error rather than
/// exhausting memory.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// Reads a text file. `rel` is the path shown in messages.
/// What `stat` says of a file: enough to tell that it was not written since (size,
/// modification time in nanoseconds, inode).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub size: u64,
    pub mtime_ns: i128,
    pub inode: u64,
}

impl Stamp {
    pub fn of(meta: &std::fs::Metadata) -> Stamp {
        let mtime_ns = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos() as i128);
        #[cfg(unix)]
        let inode = std::os::unix::fs::MetadataExt::ino(meta);
        #[cfg(not(unix))]
        let inode = 0;
        Stamp {
            size: meta.len(),
            mtime_ns,
            inode,
        }
    }
}

pub fn read_text(path: &Path, rel: &Path) -> Result<Arc<str>, Diagnostics> {
    let meta = std::fs::metadata(path).map_err(|e| {
        Diagnostic::error(format!("cannot read {}: {e}", rel.display())).in_file(rel)
    })?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(Diagnostic::error(format!(
            "{} is {} MiB, more than the {} MiB driftless reads",
            rel.display(),
            meta.len() / (1024 * 1024),
            MAX_FILE_BYTES / (1024 * 1024)
        ))
        .in_file(rel)
        .help("keep input files smaller: split a large dataset or article into several")
        .into());
    }
    let bytes = std::fs::read(path).map_err(|e| {
        Diagnostic::error(format!("cannot read {}: {e}", rel.display())).in_file(rel)
    })?;
    decode_utf8(bytes, rel)
}

/// Whether a character is a control character an editor cannot see and a page must not carry
/// (every C0 control but tab, line feed and carriage return, and DEL).
pub fn is_hidden_control(c: char) -> bool {
    (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || c == '\u{7f}'
}

/// A NUL or another invisible control character would be copied into pages (and can hide a
/// `javascript:` inside a word): refused at its line.
pub fn refuse_nul(
    text: &str,
    file: crate::source::FileId,
    sources: &crate::source::SourceMap,
) -> Result<(), Diagnostics> {
    match text.char_indices().find(|&(_, c)| is_hidden_control(c)) {
        None => Ok(()),
        Some((at, c)) => Err(Diagnostic::error(if c == '\0' {
            "this line holds a NUL character (an invisible control character)".to_string()
        } else {
            format!(
                "this line holds the control character U+{:04X} (invisible in an editor)",
                c as u32
            )
        })
        .at(sources, sources.pos(file, at, 1))
        .help("remove it; save the file as plain text (UTF-8)")
        .into()),
    }
}

/// A file or folder name in Unicode's composed form (NFC), so that `café.md` names one page
/// whether the file system or the editor wrote the `é` as one character or as `e` and an accent.
pub fn nfc(name: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    name.nfc().collect()
}

/// Decodes UTF-8, dropping a byte-order mark; invalid bytes are an error at their line and column.
pub fn decode_utf8(bytes: Vec<u8>, rel: &Path) -> Result<Arc<str>, Diagnostics> {
    match String::from_utf8(bytes) {
        Ok(mut text) => {
            if text.starts_with('\u{feff}') {
                text.drain(..3);
            }
            Ok(Arc::from(text))
        }
        Err(e) => {
            let bytes = e.as_bytes();
            let at = e.utf8_error().valid_up_to();
            let before = String::from_utf8_lossy(&bytes[..at]);
            let line = before.matches('\n').count() + 1;
            let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            let mut d = Diagnostic::error(format!(
                "{} is not UTF-8 text: byte 0x{:02x} at line {line}, column {col}",
                rel.display(),
                bytes[at]
            ))
            .help("save the file as UTF-8 (most editors offer it under \"Save with encoding\")");
            // The line as far as it can be read, the bad byte shown as `�`.
            let line_start = bytes[..at]
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1);
            let line_end = bytes[at..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(bytes.len(), |i| at + i);
            let line_text = String::from_utf8_lossy(&bytes[line_start..line_end])
                .trim_end_matches('\r')
                .to_string();
            d.location = Some(crate::diag::Location {
                file: crate::diag::display_path(rel),
                line: line as u32,
                col: col as u32,
                len: 1,
                line_text: Some(line_text),
            });
            Err(d.into())
        }
    }
}

/// Lists the files under `dir` with one of the given extensions, sorted by path, as
/// (absolute path, path relative to `root`). Symbolic links that lead outside `root` are errors.
pub fn walk(
    dir: &Path,
    root: &Path,
    extensions: &[&str],
) -> Result<Vec<(PathBuf, PathBuf)>, Diagnostics> {
    let mut out = Vec::new();
    let mut diags = Diagnostics::default();
    if !dir.is_dir() {
        return Ok(out);
    }
    let canonical_root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    for entry in walkdir::WalkDir::new(dir)
        .follow_links(false)
        .sort_by_file_name()
    {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let rel = e.path().map(|p| relative(p, root)).unwrap_or_default();
                diags.push(
                    Diagnostic::error(format!("cannot read {}: {e}", rel.display())).in_file(&rel),
                );
                continue;
            }
        };
        let path = entry.path();
        let rel = relative(path, root);
        let is_hidden = rel
            .components()
            .any(|c| c.as_os_str().to_string_lossy().starts_with('.'));
        if is_hidden {
            continue;
        }
        let ext_ok = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| extensions.iter().any(|x| x.eq_ignore_ascii_case(e)));
        if entry.path_is_symlink() {
            match path.canonicalize() {
                Ok(target) if target.starts_with(&canonical_root) => {
                    if target.is_file() && ext_ok {
                        out.push((path.to_path_buf(), rel));
                    }
                }
                _ => diags.push(
                    Diagnostic::error(format!(
                        "{} is a link to a place outside the wiki",
                        rel.display()
                    ))
                    .in_file(&rel)
                    .help("copy the file into the wiki instead of linking to it"),
                ),
            }
            continue;
        }
        if entry.file_type().is_file() && ext_ok {
            out.push((path.to_path_buf(), rel));
        }
    }
    diags.into_result(out)
}

/// `path` relative to `root` (or `path` itself when it is not below `root`).
pub fn relative(path: &Path, root: &Path) -> PathBuf {
    path.strip_prefix(root).unwrap_or(path).to_path_buf()
}

/// Whether a path written by an editor (a template name, an include) stays inside its folder:
/// relative, without `..`, not absolute.
pub fn is_contained(path: &str) -> bool {
    let p = Path::new(path);
    !path.is_empty()
        && !p.is_absolute()
        && !path.starts_with('/')
        && !path.starts_with('\\')
        && p.components()
            .all(|c| matches!(c, std::path::Component::Normal(_)))
}

/// Every file below `dir`, as paths relative to it written with `/`, sorted: for the tests that
/// compare a folder of the repository with what the binary compiles in.
#[cfg(test)]
pub(crate) fn files_below(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .filter_map(|e| {
            let rel = e.path().strip_prefix(dir).ok()?;
            Some(rel.to_string_lossy().replace('\\', "/"))
        })
        .collect();
    out.sort();
    out
}
