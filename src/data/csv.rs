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

/// Reads the rows of a dataset's CSV file, and its header (`None` when the file has none or
/// cannot be read as the schema says).
pub(super) fn read_rows(
    text: &std::sync::Arc<str>,
    rel: &Path,
    delim: u8,
    schema: &Path,
    sources: &SourceMap,
    diags: &mut Diagnostics,
) -> (Option<Header>, Vec<RowInput>) {
    let file = sources.add(rel, text.clone());
    if text.trim().is_empty() {
        diags.push(
            Diagnostic::error(format!("{} is empty", rel.display()))
                .in_file(rel)
                .help("the first line names the columns; each further line is a row"),
        );
        return (None, Vec::new());
    }
    let bytes = text.as_bytes();
    if let Some(nul) = bytes.iter().position(|&b| b == 0) {
        diags.push(
            Diagnostic::error("this line holds a NUL character (an invisible control character)")
                .at(sources, sources.pos(file, nul, 1))
                .help("remove it: the file was probably saved by a program that pads with NULs; save it again as plain CSV (UTF-8)"),
        );
        return (None, Vec::new());
    }
    let mut i = 0;
    let mut header: Option<Header> = None;
    // The column names, shared by every row's cells.
    let mut names: Option<Vec<std::sync::Arc<str>>> = None;
    let mut rows = Vec::new();
    loop {
        let record = match next_record(bytes, &mut i, delim) {
            Ok(Some(r)) => r,
            Ok(None) => break,
            Err(CsvError::Unclosed(at)) => {
                diags.push(
                    Diagnostic::error("this quote is never closed")
                        .at(sources, sources.pos(file, at, 1))
                        .label("the field that starts here runs to the end of the file")
                        .help("add the closing `\"` at the end of the field; a quote inside a quoted field is written twice: \"the \"\"FE\"\" card\""),
                );
                break;
            }
            Err(CsvError::AfterQuote(at)) => {
                diags.push(
                    Diagnostic::error("text follows the closing quote of this field")
                        .at(sources, sources.pos(file, at, 1))
                        .help(format!("after a quoted field comes the separator ({}) or the end of the line; a quote inside a quoted field is written twice: \"the \"\"FE\"\" card\"", delim_name(delim))),
                );
                break;
            }
        };
        if record.fields.len() == 1 && record.fields[0].text.is_empty() {
            continue; // a blank line
        }
        let positions: Vec<Pos> = record
            .fields
            .iter()
            .map(|f| sources.pos(file, f.start, f.len))
            .collect();
        let Some(header) = &header else {
            let names: Header = record
                .fields
                .iter()
                .zip(&positions)
                .map(|(f, p)| (f.text.trim().to_string(), *p))
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
                return (None, Vec::new());
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
            header = Some(names);
            continue;
        };
        let row_pos = positions[0];
        if record.fields.len() != header.len() {
            let (what, at) = if record.fields.len() > header.len() {
                ("too many", positions[header.len()])
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
                header.len()
            ))
            .at(sources, at);
            if !missing.is_empty() {
                d = d.note(format!("no value for {}", missing.join(", ")));
            }
            diags.push(d.help(format!(
                "every row needs one field per header column (empty for a missing value); quote fields that contain the separator ({})",
                delim_name(delim)
            )));
            continue;
        }
        let names = names.get_or_insert_with(|| {
            header
                .iter()
                .map(|(n, _)| std::sync::Arc::<str>::from(n.as_str()))
                .collect()
        });
        let cells = record
            .fields
            .into_iter()
            .zip(names.iter())
            .zip(&positions)
            .map(|((f, name), pos)| {
                let cell = if f.text.trim().is_empty() {
                    CellInput::Empty(*pos)
                } else {
                    CellInput::Text(f.text.trim().to_string(), *pos)
                };
                (name.clone(), *pos, cell)
            })
            .collect();
        rows.push(RowInput {
            pos: row_pos,
            cells,
        });
    }
    (header, rows)
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
