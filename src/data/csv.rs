//! Rows from a CSV file: the header names the columns; every field keeps its line and column so
//! that a bad cell is reported where it was typed.
//!
//! The reader is small and strict about what an editor can get wrong: an unclosed quote is named
//! as such, spaces around a quoted field are allowed (`a, "b, c" ,d`), a NUL character is refused
//! at its line, and a file saved with another separator than the one its schema names is
//! recognised at its first line.

use std::path::Path;

use super::cells::CellInput;
use super::schema::RowInput;
use crate::diag::{Diagnostic, Diagnostics};
use crate::source::{FileId, Pos, SourceMap};

/// A CSV header: each column name with its position.
pub(super) type Header = Vec<(String, Pos)>;

/// One field as read: its text (quotes removed, spaces around it trimmed) and where its value
/// starts in the file.
struct RawField {
    text: String,
    start: usize,
    /// The length of the field as written, in bytes (at least 1 for the caret).
    len: usize,
}

/// A record: its fields and the byte offset of its end (for "too few fields").
struct RawRecord {
    fields: Vec<RawField>,
    end: usize,
}

/// Why a file is not readable as CSV.
enum CsvError {
    /// A quote opened at this byte is never closed.
    Unclosed(usize),
    /// Text follows a closing quote at this byte.
    AfterQuote(usize),
}

/// Reads one record starting at `*i`; `None` at the end of the text.
fn next_record(bytes: &[u8], i: &mut usize, delim: u8) -> Result<Option<RawRecord>, CsvError> {
    if *i >= bytes.len() {
        return Ok(None);
    }
    let blank = |b: u8| (b == b' ' || b == b'\t') && b != delim;
    let mut fields = Vec::new();
    loop {
        let mut j = *i;
        while j < bytes.len() && blank(bytes[j]) {
            j += 1;
        }
        if bytes.get(j) == Some(&b'"') {
            let quote = j;
            let mut text = Vec::new();
            j += 1;
            loop {
                match bytes.get(j) {
                    None => return Err(CsvError::Unclosed(quote)),
                    Some(b'"') if bytes.get(j + 1) == Some(&b'"') => {
                        text.push(b'"');
                        j += 2;
                    }
                    Some(b'"') => {
                        j += 1;
                        break;
                    }
                    Some(&b) => {
                        text.push(b);
                        j += 1;
                    }
                }
            }
            let close = j;
            while j < bytes.len() && blank(bytes[j]) {
                j += 1;
            }
            match bytes.get(j) {
                None | Some(b'\n') | Some(b'\r') => {}
                Some(&b) if b == delim => {}
                Some(_) => return Err(CsvError::AfterQuote(close - 1)),
            }
            fields.push(RawField {
                text: String::from_utf8_lossy(&text).into_owned(),
                start: quote + 1,
                len: (close - quote).saturating_sub(2).max(1),
            });
        } else {
            let start = j;
            while j < bytes.len() && bytes[j] != delim && bytes[j] != b'\n' {
                j += 1;
            }
            let raw = String::from_utf8_lossy(&bytes[start..j]);
            let text = raw.trim_end_matches(['\r', ' ', '\t']).to_string();
            fields.push(RawField {
                len: text.len().max(1),
                text,
                start,
            });
        }
        // j is at a delimiter, a line end or the end of the text
        match bytes.get(j) {
            Some(&b) if b == delim => *i = j + 1,
            Some(b'\r') | Some(b'\n') => {
                let end = j;
                while bytes.get(j) == Some(&b'\r') {
                    j += 1;
                }
                if bytes.get(j) == Some(&b'\n') {
                    j += 1;
                }
                *i = j;
                return Ok(Some(RawRecord { fields, end }));
            }
            _ => {
                *i = bytes.len();
                return Ok(Some(RawRecord {
                    fields,
                    end: bytes.len(),
                }));
            }
        }
    }
}

/// How a delimiter is named in messages.
fn delim_name(d: u8) -> String {
    match d {
        b'\t' => "tab".to_string(),
        d => format!("`{}`", d as char),
    }
}

/// The rows of a CSV file, read one at a time so that a large file is never held twice in
/// memory (as text and as a list of rows): the caller types each row as it comes.
pub(super) struct Rows<'a> {
    bytes: &'a [u8],
    file: FileId,
    delim: u8,
    i: usize,
    header: Option<Header>,
    /// The column names, shared by every row's cells.
    names: Vec<std::sync::Arc<str>>,
    done: bool,
}

impl<'a> Rows<'a> {
    /// Opens a CSV file and reads its header (the first line that is not blank). Problems with the
    /// file as a whole (empty, a NUL character, another separator) are reported here, and the
    /// reader then yields no rows.
    pub(super) fn open(
        text: &'a std::sync::Arc<str>,
        rel: &Path,
        delim: u8,
        schema: &Path,
        sources: &SourceMap,
        diags: &mut Diagnostics,
    ) -> Rows<'a> {
        let file = sources.add(rel, text.clone());
        let mut rows = Rows {
            bytes: text.as_bytes(),
            file,
            delim,
            i: 0,
            header: None,
            names: Vec::new(),
            done: true,
        };
        if text.trim().is_empty() {
            diags.push(
                Diagnostic::error(format!("{} is empty", rel.display()))
                    .in_file(rel)
                    .help("the first line names the columns; each further line is a row"),
            );
            return rows;
        }
        if let Some(nul) = rows.bytes.iter().position(|&b| b == 0) {
            diags.push(
                Diagnostic::error("this line holds a NUL character (an invisible control character)")
                    .at(sources, sources.pos(file, nul, 1))
                    .help("remove it: the file was probably saved by a program that pads with NULs; save it again as plain CSV (UTF-8)"),
            );
            return rows;
        }
        rows.done = false;
        if let Some(record) = rows.record(sources, diags) {
            let names: Header = record
                .fields
                .iter()
                .map(|f| (f.text.trim().to_string(), sources.pos(file, f.start, f.len)))
                .collect();
            if let Some(other) = other_separator(&names, delim) {
                let line = sources.pos(file, 0, 1);
                diags.push(
                    Diagnostic::error(format!(
                        "this file looks {}-separated, not {}-separated",
                        delim_name(other),
                        delim_name(delim)
                    ))
                    .at(sources, line)
                    .help(format!(
                        "save it as CSV with commas, or set `delimiter: \"{}\"` in {}",
                        if other == b'\t' {
                            "\\t".to_string()
                        } else {
                            (other as char).to_string()
                        },
                        schema.display()
                    )),
                );
                rows.done = true;
                return rows;
            }
            let mut seen: Vec<&str> = Vec::new();
            for (name, pos) in &names {
                if !name.is_empty() && seen.contains(&name.as_str()) {
                    diags.push(
                        Diagnostic::error(format!("the header names column `{name}` twice"))
                            .at(sources, *pos),
                    );
                }
                seen.push(name);
            }
            rows.names = names
                .iter()
                .map(|(n, _)| std::sync::Arc::<str>::from(n.as_str()))
                .collect();
            rows.header = Some(names);
        }
        rows
    }

    /// The number of lines after the header: at least the number of rows still to come, unless
    /// quoted fields hold line breaks (used to reserve memory once).
    pub(super) fn lines_left(&self) -> usize {
        if self.done {
            return 0;
        }
        let rest = &self.bytes[self.i.min(self.bytes.len())..];
        rest.iter().filter(|&&b| b == b'\n').count() + usize::from(!rest.ends_with(b"\n"))
    }

    /// The header: each column name with its position; `None` when the file could not be read.
    pub(super) fn header(&self) -> Option<&Header> {
        self.header.as_ref()
    }

    /// The next record that is not a blank line; `None` at the end or after a quoting error
    /// (reported), since the rest of the file cannot be split reliably.
    fn record(&mut self, sources: &SourceMap, diags: &mut Diagnostics) -> Option<RawRecord> {
        if self.done {
            return None;
        }
        loop {
            let problem = match next_record(self.bytes, &mut self.i, self.delim) {
                Ok(Some(record)) if record.fields.len() == 1 && record.fields[0].text.is_empty() => {
                    continue; // a blank line
                }
                Ok(Some(record)) => return Some(record),
                Ok(None) => None,
                Err(CsvError::Unclosed(at)) => Some(
                    Diagnostic::error("this quote is never closed")
                        .at(sources, sources.pos(self.file, at, 1))
                        .label("the field that starts here runs to the end of the file")
                        .help("add the closing `\"` at the end of the field; a quote inside a quoted field is written twice: \"the \"\"FE\"\" card\""),
                ),
                Err(CsvError::AfterQuote(at)) => Some(
                    Diagnostic::error("text follows the closing quote of this field")
                        .at(sources, sources.pos(self.file, at, 1))
                        .help(format!("after a quoted field comes the separator ({}) or the end of the line; a quote inside a quoted field is written twice: \"the \"\"FE\"\" card\"", delim_name(self.delim))),
                ),
            };
            // The end of the file, or a quoting error after which it cannot be split reliably.
            if let Some(d) = problem {
                diags.push(d);
            }
            self.done = true;
            return None;
        }
    }

    /// The next row with as many fields as the header; rows with too few or too many are
    /// reported and skipped.
    pub(super) fn next_row(
        &mut self,
        sources: &SourceMap,
        diags: &mut Diagnostics,
    ) -> Option<RowInput> {
        let width = self.header.as_ref()?.len();
        loop {
            let record = self.record(sources, diags)?;
            let file = self.file;
            let positions: Vec<Pos> = record
                .fields
                .iter()
                .map(|f| sources.pos(file, f.start, f.len))
                .collect();
            if record.fields.len() != width {
                let header = self.header.as_ref()?;
                let (what, at) = if record.fields.len() > width {
                    ("too many", positions[width])
                } else {
                    // point at the end of the row, where the missing fields belong
                    ("too few", sources.pos(file, record.end, 1))
                };
                let missing: Vec<String> = header
                    .iter()
                    .skip(record.fields.len())
                    .map(|(n, _)| format!("`{n}`"))
                    .collect();
                let mut d = Diagnostic::error(format!(
                    "this row has {what} fields: {} where the header names {}",
                    record.fields.len(),
                    width
                ))
                .at(sources, at);
                if !missing.is_empty() {
                    d = d.note(format!("no value for {}", missing.join(", ")));
                }
                diags.push(d.help(format!(
                    "every row needs one field per header column (empty for a missing value); quote fields that contain the separator ({})",
                    delim_name(self.delim)
                )));
                continue;
            }
            let cells = record
                .fields
                .into_iter()
                .zip(self.names.iter())
                .zip(&positions)
                .map(|((f, name), pos)| {
                    let text = f.text.trim();
                    let cell = if text.is_empty() {
                        CellInput::Empty(*pos)
                    } else if text.len() == f.text.len() {
                        CellInput::Text(f.text, *pos)
                    } else {
                        CellInput::Text(text.to_string(), *pos)
                    };
                    (name.clone(), *pos, cell)
                })
                .collect();
            return Some(RowInput {
                pos: positions[0],
                cells,
            });
        }
    }
}

/// A header read as a single column that splits cleanly on another common separator means the
/// file was saved with that separator (a spreadsheet export in many locales uses `;`).
fn other_separator(names: &Header, delim: u8) -> Option<u8> {
    if names.len() != 1 {
        return None;
    }
    let name = &names[0].0;
    [b';', b'\t', b',', b'|']
        .into_iter()
        .filter(|&d| d != delim)
        .find(|&d| name.as_bytes().contains(&d))
}

/// The position of a file's first line, for problems with the header as a whole.
pub(super) fn header_line(file: FileId, sources: &SourceMap) -> Pos {
    let f = sources.get(file);
    let len = f.line_text(1).map_or(1, |l| l.chars().count().max(1)) as u32;
    Pos {
        file,
        line: 1,
        col: 1,
        len,
    }
}
