//! Rows from a CSV file: the header names the columns; every field keeps its line and column so
//! that a bad cell is reported where it was typed.

use std::path::Path;

use super::cells::CellInput;
use super::schema::RowInput;
use crate::diag::{Diagnostic, Diagnostics};
use crate::source::{Pos, SourceMap};

/// Reads the rows of a dataset's CSV file.
pub(super) fn read_rows(
    text: &std::sync::Arc<str>,
    rel: &Path,
    sources: &SourceMap,
    diags: &mut Diagnostics,
) -> Vec<RowInput> {
    let file = sources.add(rel, text.clone());
    if text.trim().is_empty() {
        diags.push(
            Diagnostic::error(format!("{} is empty", rel.display()))
                .in_file(rel)
                .help("the first line names the columns; each further line is a row"),
        );
        return Vec::new();
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut header: Vec<(String, Pos)> = Vec::new();
    let mut rows = Vec::new();
    let mut record = csv::ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let pos = e.position().map_or(
                    Pos {
                        file,
                        line: 1,
                        col: 1,
                        len: 1,
                    },
                    |p| sources.pos(file, p.byte() as usize, 1),
                );
                diags.push(
                    Diagnostic::error(format!("invalid CSV: {e}"))
                        .at(sources, pos)
                        .help("quote fields that contain commas or quotes: \"a, b\""),
                );
                break;
            }
        }
        let Some(start) = record.position().map(|p| p.byte() as usize) else {
            continue;
        };
        let fields = field_positions(text, start, &record, file, sources);
        if header.is_empty() {
            header = record
                .iter()
                .zip(&fields)
                .map(|(f, p)| (String::from_utf8_lossy(f).trim().to_string(), *p))
                .collect();
            let mut seen = Vec::new();
            for (name, pos) in &header {
                if seen.contains(name) {
                    diags.push(
                        Diagnostic::error(format!("the header names column `{name}` twice"))
                            .at(sources, *pos),
                    );
                }
                seen.push(name.clone());
            }
            continue;
        }
        if record.len() == 1
            && record
                .get(0)
                .is_some_and(|f| f.iter().all(u8::is_ascii_whitespace))
        {
            continue; // a blank line
        }
        let row_pos = fields.first().copied().unwrap_or(Pos {
            file,
            line: 1,
            col: 1,
            len: 1,
        });
        if record.len() != header.len() {
            let (what, at) = if record.len() > header.len() {
                ("too many", fields[header.len()])
            } else {
                // point at the end of the row, where the missing fields belong
                let last = fields.last().copied().unwrap_or(row_pos);
                let end = sources
                    .get(file)
                    .line_text(last.line)
                    .map_or(last.col, |l| l.chars().count() as u32 + 1);
                (
                    "too few",
                    Pos {
                        col: end,
                        len: 1,
                        ..last
                    },
                )
            };
            let missing: Vec<String> = header
                .iter()
                .skip(record.len())
                .map(|(n, _)| format!("`{n}`"))
                .collect();
            let mut d = Diagnostic::error(format!(
                "this row has {what} fields: {} where the header names {}",
                record.len(),
                header.len()
            ))
            .at(sources, at);
            if !missing.is_empty() {
                d = d.note(format!("no value for {}", missing.join(", ")));
            }
            diags.push(d.help(
                "every row needs one field per header column (empty for a missing value); quote fields that contain commas",
            ));
            continue;
        }
        let cells = record
            .iter()
            .zip(&header)
            .zip(&fields)
            .map(|((value, (name, _)), pos)| {
                let text = String::from_utf8_lossy(value).trim().to_string();
                let cell = if text.is_empty() {
                    CellInput::Empty(*pos)
                } else {
                    CellInput::Text(text, *pos)
                };
                (name.clone(), *pos, cell)
            })
            .collect();
        rows.push(RowInput {
            pos: row_pos,
            cells,
        });
    }
    rows
}

/// The position of each field of a record, found by walking the raw line (the csv crate gives
/// only the record's start).
fn field_positions(
    text: &str,
    start: usize,
    record: &csv::ByteRecord,
    file: crate::source::FileId,
    sources: &SourceMap,
) -> Vec<Pos> {
    let bytes = text.as_bytes();
    let mut positions = Vec::with_capacity(record.len());
    let mut i = start;
    for field in record.iter() {
        // skip leading spaces so the caret points at the value
        let mut j = i;
        while j < bytes.len() && bytes[j] == b' ' {
            j += 1;
        }
        // a quoted field's value starts after its quote
        let quoted = usize::from(bytes.get(j) == Some(&b'"'));
        positions.push(sources.pos(file, j + quoted, field.len().max(1)));
        // advance past this field
        if j < bytes.len() && bytes[j] == b'"' {
            j += 1;
            while j < bytes.len() {
                if bytes[j] == b'"' {
                    if bytes.get(j + 1) == Some(&b'"') {
                        j += 2;
                        continue;
                    }
                    j += 1;
                    break;
                }
                j += 1;
            }
        }
        while j < bytes.len() && bytes[j] != b',' && bytes[j] != b'\n' {
            j += 1;
        }
        i = j + 1;
    }
    positions
}
