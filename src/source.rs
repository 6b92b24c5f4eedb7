//! Source files and positions.
//!
//! Every input file is read once into a [`SourceMap`]; datasets, formulas and articles keep
//! compact [`Pos`] values (file id, line, column) and diagnostics resolve them back to the file's
//! path and the text of the line when they are reported.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

/// Index of a file in the [`SourceMap`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct FileId(pub u32);

/// A position in a source file: 1-based line and column (in characters), plus a length in
/// characters for the caret under it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Pos {
    pub file: FileId,
    pub line: u32,
    pub col: u32,
    pub len: u32,
}

impl Pos {
    /// The position of the byte range `range` of `text`, a file's text (or a part of it that
    /// keeps its line numbers); the caret covers the range's first line.
    pub fn in_text(text: &str, file: FileId, range: std::ops::Range<usize>) -> Pos {
        let start = range.start.min(text.len());
        let before = &text[..start];
        Pos {
            file,
            line: before.matches('\n').count() as u32 + 1,
            col: before.rsplit('\n').next().map_or(0, |l| l.chars().count()) as u32 + 1,
            len: text
                .get(start..range.end.max(start))
                .map_or(1, |s| s.lines().next().unwrap_or("").chars().count().max(1))
                as u32,
        }
    }

    /// The start of a file's first line, `len` characters long (its opening `---`, say).
    pub fn file_start(file: FileId, len: u32) -> Pos {
        Pos {
            file,
            line: 1,
            col: 1,
            len,
        }
    }

    /// A position `chars` characters further along the same line.
    pub fn shifted(self, chars: u32, len: u32) -> Pos {
        Pos {
            col: self.col + chars,
            len,
            ..self
        }
    }
}

/// One input file: its path relative to the wiki root (as shown in messages) and its text.
#[derive(Debug)]
pub struct SourceFile {
    pub path: PathBuf,
    pub text: Arc<str>,
    line_starts: Vec<usize>,
}

impl SourceFile {
    fn new(path: PathBuf, text: Arc<str>) -> SourceFile {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        SourceFile {
            path,
            text,
            line_starts,
        }
    }

    /// The 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (u32, u32) {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&s| s <= offset) - 1;
        let start = self.line_starts[line];
        let col = self
            .text
            .get(start..offset)
            .map_or(0, |s| s.chars().count());
        (line as u32 + 1, col as u32 + 1)
    }

    /// The text of a 1-based line, without its line ending.
    pub fn line_text(&self, line: u32) -> Option<&str> {
        let i = (line as usize).checked_sub(1)?;
        let start = *self.line_starts.get(i)?;
        let end = self
            .line_starts
            .get(i + 1)
            .copied()
            .unwrap_or(self.text.len());
        Some(self.text[start..end].trim_end_matches(['\n', '\r']))
    }

    /// The byte offset where a 1-based line starts.
    pub fn line_start(&self, line: u32) -> usize {
        let i = (line as usize).saturating_sub(1);
        self.line_starts.get(i).copied().unwrap_or(self.text.len())
    }
}

/// All files read for one build. Shared between threads; files are only ever added.
#[derive(Debug, Default)]
pub struct SourceMap {
    files: RwLock<Vec<Arc<SourceFile>>>,
}

impl SourceMap {
    /// Registers a file's text and returns its id.
    pub fn add(&self, path: &Path, text: Arc<str>) -> FileId {
        let mut files = self.files.write().unwrap_or_else(|e| e.into_inner());
        files.push(Arc::new(SourceFile::new(path.to_path_buf(), text)));
        FileId(files.len() as u32 - 1)
    }

    /// Registers a file read by an earlier build and returns its id here.
    pub fn add_shared(&self, file: Arc<SourceFile>) -> FileId {
        let mut files = self.files.write().unwrap_or_else(|e| e.into_inner());
        files.push(file);
        FileId(files.len() as u32 - 1)
    }

    /// The id of a file already read, by its path.
    pub fn find(&self, path: &Path) -> Option<FileId> {
        let files = self.files.read().unwrap_or_else(|e| e.into_inner());
        files
            .iter()
            .position(|f| f.path == path)
            .map(|i| FileId(i as u32))
    }

    /// The file behind an id.
    pub fn get(&self, id: FileId) -> Arc<SourceFile> {
        let files = self.files.read().unwrap_or_else(|e| e.into_inner());
        files[id.0 as usize].clone()
    }

    /// The position of a byte range in a file.
    pub fn pos(&self, file: FileId, offset: usize, len_bytes: usize) -> Pos {
        let f = self.get(file);
        let (line, col) = f.line_col(offset);
        let end = (offset + len_bytes).min(f.text.len());
        let len = f
            .text
            .get(offset.min(end)..end)
            .map_or(1, |s| s.chars().count()) as u32;
        Pos {
            file,
            line,
            col,
            len: len.max(1),
        }
    }
}
