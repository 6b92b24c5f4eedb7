//! Reading a data file's YAML: a dataset schema (with its rows, or a CSV beside it), or a file of
//! `params:` and `figures:`. Unknown keys are errors, so a misspelt setting never goes unnoticed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::cells::{parse_cell, CellInput};
use super::{
    ColType, Column, Dataset, Field, FormulaSrc, Global, Loaded, Meta, RangeEnd, RefCell, Style,
    Value,
};
use crate::diag::{did_you_mean, Diagnostic, Diagnostics};
use crate::source::{Pos, SourceMap};
use crate::units::Unit;
use crate::yaml::{Kind, Node};

const DATASET_KEYS: &[&str] = &[
    "title",
    "description",
    "source",
    "source_url",
    "as_of",
    "origin",
    "key",
    "label",
    "columns",
    "rows",
    "delimiter",
    "pages",
    "stale_after",
];
const COLUMN_KEYS: &[&str] = &[
    "type",
    "unit",
    "title",
    "description",
    "precision",
    "style",
    "range",
    "formula",
    "printed",
    "basis",
    "optional",
    "not_a_copy",
    "source",
    "source_url",
    "as_of",
];
const GLOBAL_KEYS: &[&str] = &[
    "value",
    "formula",
    "type",
    "unit",
    "title",
    "description",
    "precision",
    "style",
    "range",
    "printed",
    "origin",
    "source",
    "source_url",
    "as_of",
];

/// Reads one data YAML file.
pub(super) fn load(
    node: &Node,
    rel: &Path,
    csv: Option<&(PathBuf, std::sync::Arc<str>)>,
    sources: &SourceMap,
) -> Result<Loaded, Diagnostics> {
    let mut diags = Diagnostics::default();
    let map = match &node.kind {
        Kind::Map(m) => m,
        Kind::Null => return Err(Diagnostic::error(format!("{} is empty", rel.display()))
            .in_file(rel)
            .help(
                "a data file declares a dataset (`key:` and `columns:`) or `params:` / `figures:`",
            )
            .into()),
        _ => {
            return Err(Diagnostic::error(format!(
                "{} must be a mapping at the top level",
                rel.display()
            ))
            .at(sources, node.pos)
            .help(
                "a data file declares a dataset (`key:` and `columns:`) or `params:` / `figures:`",
            )
            .into())
        }
    };
    let has = |k: &str| map.iter().any(|(key, _)| key.key_str() == Some(k));
    if has("params") || has("figures") {
        if has("columns") {
            return Err(Diagnostic::error(
                "a data file holds either a dataset or parameters, not both",
            )
            .at(sources, node.pos)
            .help("move `params:` / `figures:` into their own file, such as data/params.yaml")
            .into());
        }
        let globals = load_globals(map, rel, sources, &mut diags);
        return diags.into_result(Loaded::Globals(globals));
    }
    let name = rel
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default()
        .to_string();
    if !is_identifier(&name) {
        return Err(Diagnostic::error(format!("`{name}` cannot name a dataset"))
            .in_file(rel)
            .help("rename the file with lowercase letters, digits and underscores, starting with a letter (gpu_power.yaml)")
            .into());
    }
    let dataset = load_dataset(name, map, node.pos, rel, csv, sources, &mut diags);
    match dataset {
        Some((d, refs)) => diags.into_result(Loaded::Dataset(Box::new(d), refs)),
        None => Err(diags),
    }
}

/// Reads the entries of a mapping and remembers which keys were used.
pub(super) struct Entries<'a> {
    entries: &'a [(Node, Node)],
}

impl<'a> Entries<'a> {
    /// Reports every key of `entries` that is not in `allowed` (with a suggestion).
    pub(super) fn new(
        entries: &'a [(Node, Node)],
        allowed: &[&str],
        what: &str,
        sources: &SourceMap,
        diags: &mut Diagnostics,
    ) -> Self {
        for (k, _) in entries {
            match k.key_str() {
                Some(name) if allowed.contains(&name) => {}
                Some(name) => diags.push(
                    Diagnostic::error(format!("unknown setting `{name}` in {what}"))
                        .at(sources, k.pos)
                        .help(did_you_mean(name, "setting", allowed.iter().copied())),
                ),
                None => diags.push(
                    Diagnostic::error(format!("keys in {what} must be text")).at(sources, k.pos),
                ),
            }
        }
        Entries { entries }
    }

    pub(super) fn get(&self, key: &str) -> Option<&'a Node> {
        self.entries
            .iter()
            .find(|(k, _)| k.key_str() == Some(key))
            .map(|(_, v)| v)
    }

    pub(super) fn text(
        &self,
        key: &str,
        sources: &SourceMap,
        diags: &mut Diagnostics,
    ) -> Option<String> {
        let node = self.get(key)?;
        match &node.kind {
            Kind::Null => None,
            Kind::Str(_) | Kind::Int(_) | Kind::Float(_) | Kind::Bool(_) => node.scalar_text(),
            _ => {
                diags.push(
                    Diagnostic::error(format!("`{key}` must be text, not {}", node.type_name()))
                        .at(sources, node.pos),
                );
                None
            }
        }
    }
}

fn meta(e: &Entries, default_title: &str, sources: &SourceMap, diags: &mut Diagnostics) -> Meta {
    let source_url = e.text("source_url", sources, diags);
    if let (Some(url), Some(node)) = (&source_url, e.get("source_url")) {
        check_url(url, node.pos, sources, diags);
    }
    Meta {
        title: e
            .text("title", sources, diags)
            .unwrap_or_else(|| default_title.to_string()),
        description: e.text("description", sources, diags),
        source: e.text("source", sources, diags),
        source_url,
        as_of: e.text("as_of", sources, diags),
        as_of_pos: e.get("as_of").map(|n| n.pos),
        origin: e.text("origin", sources, diags),
        stale_after: e.text("stale_after", sources, diags).and_then(|age| {
            match crate::stale::parse_age(&age) {
                Ok(months) => Some(months),
                Err(why) => {
                    let pos = e.get("stale_after").map(|n| n.pos);
                    let d = Diagnostic::error(why);
                    diags.push(match pos {
                        Some(p) => d.at(sources, p),
                        None => d,
                    });
                    None
                }
            }
        }),
    }
}

/// Source links end up in `href` attributes: only web addresses are accepted.
fn check_url(url: &str, pos: Pos, sources: &SourceMap, diags: &mut Diagnostics) {
    let lower = url.trim().to_ascii_lowercase();
    if !(lower.starts_with("https://") || lower.starts_with("http://")) {
        diags.push(
            Diagnostic::error(format!("`{url}` is not a web address"))
                .at(sources, pos)
                .help("source links must start with https:// or http://"),
        );
    }
}

#[allow(clippy::too_many_arguments)]
fn load_dataset(
    name: String,
    map: &[(Node, Node)],
    pos: Pos,
    rel: &Path,
    csv: Option<&(PathBuf, std::sync::Arc<str>)>,
    sources: &SourceMap,
    diags: &mut Diagnostics,
) -> Option<(Dataset, Vec<RefCell>)> {
    let e = Entries::new(map, DATASET_KEYS, "a dataset", sources, diags);
    let meta = meta(&e, &name, sources, diags);
    let Some(columns_node) = e.get("columns") else {
        diags.push(
            Diagnostic::error(format!("dataset `{name}` declares no `columns:`"))
                .at(sources, pos)
                .help("list the columns with their types and units (see the README, \"Datasets\")"),
        );
        return None;
    };
    let Some(col_entries) = columns_node.as_map() else {
        diags.push(
            Diagnostic::error("`columns:` must be a mapping of column names to settings")
                .at(sources, columns_node.pos),
        );
        return None;
    };
    let mut columns = Vec::new();
    let mut col_by_name = HashMap::new();
    for (k, v) in col_entries {
        let Some(cname) = k.key_str() else {
            diags.push(Diagnostic::error("column names must be text").at(sources, k.pos));
            continue;
        };
        if !is_identifier(cname) && !cname.starts_with('_') {
            diags.push(
                Diagnostic::error(format!("`{cname}` cannot name a column"))
                    .at(sources, k.pos)
                    .help("use lowercase letters, digits and underscores, starting with a letter"),
            );
            continue;
        }
        if let Some(field) = load_field(cname, k.pos, v, COLUMN_KEYS, "a column", sources, diags) {
            col_by_name.insert(cname.to_string(), columns.len());
            columns.push(Column {
                field,
                cells: Vec::new(),
                approximate: Vec::new(),
            });
        }
    }
    let key_name = e.text("key", sources, diags);
    let Some(key_name) = key_name else {
        diags.push(
            Diagnostic::error(format!("dataset `{name}` names no `key:` column"))
                .at(sources, pos)
                .help("add `key: id` (the column whose values name the rows)"),
        );
        return None;
    };
    let Some(&key) = col_by_name.get(&key_name) else {
        let at = e.get("key").map_or(pos, |n| n.pos);
        diags.push(
            Diagnostic::error(format!("the key `{key_name}` is not a column"))
                .at(sources, at)
                .help(did_you_mean(
                    &key_name,
                    "column",
                    columns.iter().map(|c: &Column| c.field.name.as_str()),
                )),
        );
        return None;
    };
    if columns[key].field.is_derived() || columns[key].field.ty != ColType::Text {
        diags.push(
            Diagnostic::error(format!(
                "the key column `{key_name}` must be an input column of type text"
            ))
            .at(sources, columns[key].field.pos),
        );
    }
    let label = match e.text("label", sources, diags) {
        Some(l) => match col_by_name.get(&l) {
            Some(&i) => Some(i),
            None => {
                diags.push(
                    Diagnostic::error(format!("the label `{l}` is not a column"))
                        .at(sources, e.get("label").map_or(pos, |n| n.pos))
                        .help(did_you_mean(
                            &l,
                            "column",
                            columns.iter().map(|c: &Column| c.field.name.as_str()),
                        )),
                );
                None
            }
        },
        None => None,
    };
    for c in &columns {
        if let Some((printed, ppos)) = &c.field.printed {
            if !col_by_name.contains_key(printed) {
                diags.push(
                    Diagnostic::error(format!("`printed: {printed}` names no column of `{name}`"))
                        .at(sources, *ppos)
                        .help(did_you_mean(
                            printed,
                            "column",
                            columns.iter().map(|c: &Column| c.field.name.as_str()),
                        )),
                );
            }
        }
    }
    let pages = e
        .get("pages")
        .and_then(|n| super::pages::load(n, &name, label, &col_by_name, sources, diags));
    let mut dataset = Dataset {
        name: name.clone(),
        file: rel.to_path_buf(),
        csv_file: csv.map(|(r, _)| r.clone()),
        meta,
        key,
        label,
        columns,
        col_by_name,
        row_keys: Vec::new(),
        row_by_key: Default::default(),
        row_line: Vec::new(),
        row_source: Vec::new(),
        row_note: Vec::new(),
        pos: columns_node.pos,
        pages,
    };
    let (rows, mut local): (Vec<RowInput>, Diagnostics) = match (e.get("rows"), csv) {
        (Some(r), Some((csv_rel, _))) => {
            diags.push(
                Diagnostic::error(format!(
                    "dataset `{name}` has rows both under `rows:` and in {}",
                    csv_rel.display()
                ))
                .at(sources, r.pos)
                .help("keep the rows in one place: remove `rows:` or the CSV file"),
            );
            return None;
        }
        (Some(r), None) => {
            let mut local = Diagnostics::default();
            let rows = yaml_rows(r, sources, &mut local);
            (rows, local)
        }
        (None, Some((csv_rel, text))) => {
            let delim = delimiter(&e, sources, diags);
            let mut local = Diagnostics::default();
            let mut reader = super::csv::Rows::open(text, csv_rel, delim, rel, sources, &mut local);
            let mut unknown: Vec<String> = Vec::new();
            if let Some(header) = reader.header() {
                let optional = optional_columns(col_entries, sources, diags);
                check_header(&dataset, header, &optional, rel, sources, &mut local);
                // Header problems are reported once, above; their cells are not read.
                let known = |c: &str| {
                    c == "_source"
                        || c == "_note"
                        || dataset
                            .column(c)
                            .is_some_and(|i| !dataset.columns[i].field.is_derived())
                };
                unknown.extend(
                    header
                        .iter()
                        .filter(|(n, _)| !known(n))
                        .map(|(n, _)| n.clone()),
                );
            }
            // Rows are typed as they are read. Header problems are reported once, above; the
            // cells of those columns are not read.
            let mut fill_diags = Diagnostics::default();
            let capacity = reader.lines_left();
            let rows = std::iter::from_fn(|| {
                let mut row = reader.next_row(sources, &mut local)?;
                if !unknown.is_empty() {
                    row.cells
                        .retain(|(c, _, _)| !unknown.iter().any(|u| **u == **c));
                }
                Some(row)
            });
            let refs = fill_rows(&mut dataset, rows, capacity, sources, &mut fill_diags);
            local.extend(fill_diags);
            diags.extend(super::collapse(local));
            return Some((dataset, refs));
        }
        (None, None) => {
            let csv_rel = rel.with_extension("csv");
            diags.push(
                Diagnostic::error(format!(
                    "dataset `{name}` has no rows: there is no `rows:` and no {}",
                    csv_rel.display()
                ))
                .at(sources, pos)
                .help(format!(
                    "put the rows in {} (its first line names the columns), or list them under `rows:` (`rows: []` for a dataset that is empty on purpose)",
                    csv_rel.display()
                )),
            );
            return None;
        }
    };
    // Repeated problems of one kind in the rows are reported once, with a count.
    let n = rows.len();
    let refs = fill_rows(&mut dataset, rows.into_iter(), n, sources, &mut local);
    diags.extend(super::collapse(local));
    Some((dataset, refs))
}

/// The separator a dataset's CSV file uses: `delimiter:`, a comma by default.
fn delimiter(e: &Entries, sources: &SourceMap, diags: &mut Diagnostics) -> u8 {
    let Some(text) = e.text("delimiter", sources, diags) else {
        return b',';
    };
    match text.as_str() {
        "," => b',',
        ";" => b';',
        "\t" | "tab" => b'\t',
        "|" => b'|',
        other => {
            diags.push(
                Diagnostic::error(format!("`delimiter: {other}` is not a CSV separator"))
                    .at(sources, e.get("delimiter").map_or(Pos::default(), |n| n.pos))
                    .help("write `delimiter: \",\"` (the default), `\";\"`, `\"|\"` or `\"\\t\"` (tab), quoted"),
            );
            b','
        }
    }
}

/// The columns marked `optional: true`: a CSV file may leave them out (every cell missing).
fn optional_columns(
    col_entries: &[(Node, Node)],
    sources: &SourceMap,
    diags: &mut Diagnostics,
) -> Vec<String> {
    let mut out = Vec::new();
    for (k, v) in col_entries {
        let Some(opt) = v
            .as_map()
            .and_then(|m| m.iter().find(|(k, _)| k.key_str() == Some("optional")))
            .map(|(_, v)| v)
        else {
            continue;
        };
        match opt.kind {
            Kind::Bool(true) => out.extend(k.key_str().map(str::to_string)),
            Kind::Bool(false) => {}
            _ => diags.push(
                Diagnostic::error("`optional` must be true or false")
                    .at(sources, opt.pos)
                    .help("`optional: true` lets the CSV file leave the column out"),
            ),
        }
    }
    out
}

/// Compares a CSV header with the schema, once: a declared column the header lacks, a name the
/// schema does not declare (misspelt, wrong case, empty) or a computed column typed in.
fn check_header(
    dataset: &Dataset,
    header: &super::csv::Header,
    optional: &[String],
    schema: &Path,
    sources: &SourceMap,
    diags: &mut Diagnostics,
) {
    let csv = dataset.csv_file.as_deref().unwrap_or(schema);
    for (i, (name, pos)) in header.iter().enumerate() {
        if name == "_source" || name == "_note" {
            continue;
        }
        if name.is_empty() {
            diags.push(
                Diagnostic::error(format!("column {} of the header has no name", i + 1))
                    .at(sources, *pos)
                    .help("name every column in the first line, or remove the empty column from every row"),
            );
            continue;
        }
        match dataset.column(name) {
            Some(c) if dataset.columns[c].field.is_derived() => diags.push(
                Diagnostic::error(format!(
                    "`{name}` is computed by its formula and cannot be a column of {}",
                    csv.display()
                ))
                .at(sources, *pos)
                .help("remove the column from the CSV file: the build computes it (for the source's own figures, use an input column and `printed:`)"),
            ),
            Some(_) => {}
            None => {
                let same_case = dataset
                    .columns
                    .iter()
                    .find(|c| c.field.name.eq_ignore_ascii_case(name));
                let d = match same_case {
                    Some(c) => Diagnostic::error(format!(
                        "the header names `{name}`, but the column is `{}`",
                        c.field.name
                    ))
                    .at(sources, *pos)
                    .help(format!(
                        "column names are lowercase: write `{}` in the header",
                        c.field.name
                    )),
                    None => Diagnostic::error(format!(
                        "the header names `{name}`, which is not a column of dataset `{}`",
                        dataset.name
                    ))
                    .at(sources, *pos)
                    .help(dataset.column_hint(name))
                    .help(format!(
                        "or declare `{name}` under `columns:` in {}",
                        schema.display()
                    )),
                };
                diags.push(d);
            }
        }
    }
    let line = super::csv::header_line(header[0].1.file, sources);
    // A misspelt header name already said which column it stands for.
    let suggested: Vec<&str> = header
        .iter()
        .filter(|(n, _)| dataset.column(n).is_none())
        .filter_map(|(n, _)| {
            crate::diag::suggest(n, dataset.columns.iter().map(|c| c.field.name.as_str()))
        })
        .collect();
    for c in &dataset.columns {
        let name = &c.field.name;
        if c.field.is_derived()
            || optional.contains(name)
            || suggested.contains(&name.as_str())
            || header.iter().any(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            continue;
        }
        diags.push(
            Diagnostic::error(format!(
                "{} has no column `{name}`, which {} declares",
                csv.display(),
                schema.display()
            ))
            .at(sources, line)
            .label("the header")
            .help(format!(
                "add `{name}` to the header with a value (or an empty field) in every row, or mark the column `optional: true` if the file may leave it out"
            )),
        );
    }
}

/// One row as written, before its cells are typed.
pub(super) struct RowInput {
    pub pos: Pos,
    /// (column name, position of the name, cell).
    pub cells: Vec<(std::sync::Arc<str>, Pos, CellInput)>,
}

fn yaml_rows(node: &Node, sources: &SourceMap, diags: &mut Diagnostics) -> Vec<RowInput> {
    let Kind::Seq(items) = &node.kind else {
        diags.push(
            Diagnostic::error(format!("`rows:` must be a list, not {}", node.type_name()))
                .at(sources, node.pos)
                .help("write each row as `- { id: a, x: 1 }` or as an indented mapping after `- `"),
        );
        return Vec::new();
    };
    let mut rows = Vec::new();
    for item in items {
        let Some(entries) = item.as_map() else {
            diags.push(
                Diagnostic::error(format!(
                    "a row must be a mapping of column names to values, not {}",
                    item.type_name()
                ))
                .at(sources, item.pos),
            );
            continue;
        };
        let mut cells = Vec::new();
        for (k, v) in entries {
            let Some(col) = k.key_str() else {
                let d = match &k.kind {
                    Kind::Int(_) | Kind::Float(_) => Diagnostic::error(format!(
                        "`{}` stands where a column name belongs: a comma in `{{ ... }}` separates cells",
                        k.scalar_text().unwrap_or_default()
                    ))
                    .at(sources, k.pos)
                    .help("write decimals with a point (`4.5`), and quote a text that contains a comma: `\"a, b\"`"),
                    _ => Diagnostic::error("column names must be text").at(sources, k.pos),
                };
                diags.push(d);
                continue;
            };
            let input = match &v.kind {
                Kind::Null => CellInput::Empty(v.pos),
                Kind::Int(i) => CellInput::Number(*i as f64, v.pos),
                Kind::Float(f) => CellInput::Number(*f, v.pos),
                Kind::Bool(b) => CellInput::Bool(*b, v.pos),
                Kind::Str(s) => CellInput::Text(s.clone(), v.pos),
                _ => {
                    diags.push(
                        Diagnostic::error(format!(
                            "cell `{col}` must be a single value, not {}",
                            v.type_name()
                        ))
                        .at(sources, v.pos),
                    );
                    continue;
                }
            };
            cells.push((std::sync::Arc::from(col), k.pos, input));
        }
        rows.push(RowInput {
            pos: item.pos,
            cells,
        });
    }
    rows
}

/// Types every cell of every row into the dataset's columns.
fn fill_rows(
    dataset: &mut Dataset,
    rows: impl Iterator<Item = RowInput>,
    capacity: usize,
    sources: &SourceMap,
    diags: &mut Diagnostics,
) -> Vec<RefCell> {
    for c in &mut dataset.columns {
        c.cells.reserve_exact(capacity);
    }
    dataset.row_keys.reserve_exact(capacity);
    dataset.row_by_key.reserve(&dataset.row_keys, capacity);
    dataset.row_line.reserve_exact(capacity);
    let mut refs = Vec::new();
    // Columns of figures the source printed: only they may hold approximate figures (`~40`).
    let printed: Vec<usize> = dataset
        .columns
        .iter()
        .filter_map(|c| c.field.printed.as_ref())
        .filter_map(|(name, _)| dataset.column(name))
        .collect();
    for (ri, row) in rows.enumerate() {
        for c in &mut dataset.columns {
            c.cells.push(Value::Missing);
        }
        dataset.row_line.push(row.pos.line);
        let mut key_pos = row.pos;
        let mut seen: Vec<&str> = Vec::new();
        for (col, col_pos, input) in &row.cells {
            let col: &str = col;
            if seen.contains(&col) {
                diags.push(
                    Diagnostic::error(format!("column `{col}` appears twice in this row"))
                        .at(sources, *col_pos),
                );
                continue;
            }
            seen.push(col);
            if col == "_source" || col == "_note" {
                let text = input.as_text();
                let list = if col == "_source" {
                    &mut dataset.row_source
                } else {
                    &mut dataset.row_note
                };
                if !text.is_empty() {
                    // Filled up to the rows that have one: a dataset without notes keeps none.
                    list.resize(ri + 1, None);
                    list[ri] = Some(text);
                }
                continue;
            }
            let Some(ci) = dataset.column(col) else {
                diags.push(
                    Diagnostic::error(format!(
                        "`{col}` is not a column of dataset `{}`",
                        dataset.name
                    ))
                    .at(sources, *col_pos)
                    .help(dataset.column_hint(col))
                    .help("declare the column under `columns:` first"),
                );
                continue;
            };
            let column = &mut dataset.columns[ci];
            if column.field.is_derived() {
                diags.push(
                    Diagnostic::error(format!("`{col}` is computed by its formula and cannot be typed in"))
                        .at(sources, input.pos())
                        .help("remove the value: the build computes it (for the source's own figure, use an input column and `printed:`)"),
                );
                continue;
            }
            if ci == dataset.key {
                key_pos = input.pos();
            }
            // `~40`: the source's figure, marked as approximate; the errata judge it as such.
            let approximate = match input {
                CellInput::Text(t, p) if printed.contains(&ci) && t.trim().starts_with('~') => {
                    column.approximate.push(ri as u32);
                    Some(CellInput::Text(
                        t.trim().trim_start_matches('~').to_string(),
                        *p,
                    ))
                }
                _ => None,
            };
            let input = approximate.as_ref().unwrap_or(input);
            match parse_cell(input, &column.field, sources) {
                Ok(Value::Text(key)) if matches!(column.field.ty, ColType::Ref(_)) => {
                    refs.push(RefCell {
                        column: ci,
                        row: ri,
                        key: key.to_string(),
                        pos: input.pos(),
                    });
                }
                Ok(v) => column.cells[ri] = v,
                Err(d) => diags.push(d),
            }
        }
        let key_value = &dataset.columns[dataset.key].cells[ri];
        match key_value {
            Value::Text(k) => {
                let k = k.clone();
                if let Some(prev) = dataset.row_by_key.get(&dataset.row_keys, &k) {
                    diags.push(
                        Diagnostic::error(format!(
                            "two rows of `{}` have the key `{k}`",
                            dataset.name
                        ))
                        .at(sources, key_pos)
                        .note(format!(
                            "the first is at line {}",
                            dataset.row_line[prev as usize]
                        ))
                        .help("row keys must be unique: rename one"),
                    );
                    dataset.row_keys.push(k);
                } else {
                    dataset.row_keys.push(k);
                    dataset.row_by_key.insert(&dataset.row_keys, ri as u32);
                }
            }
            _ => {
                let key = &dataset.columns[dataset.key].field.name;
                diags.push(
                    Diagnostic::error(format!(
                        "this row has no `{key}`, the key of `{}`",
                        dataset.name
                    ))
                    .at(sources, row.pos)
                    .help(format!("give every row a unique `{key}`")),
                );
                dataset
                    .row_keys
                    .push(std::sync::Arc::from(format!("#{}", ri + 1)));
            }
        }
    }
    refs
}

/// Reads the settings of a column, parameter or figure.
fn load_field(
    name: &str,
    pos: Pos,
    node: &Node,
    allowed: &[&str],
    what: &str,
    sources: &SourceMap,
    diags: &mut Diagnostics,
) -> Option<Field> {
    let entries: &[(Node, Node)] = match &node.kind {
        Kind::Map(m) => m,
        Kind::Null => &[],
        _ => {
            diags.push(
                Diagnostic::error(format!(
                    "the settings of `{name}` must be a mapping, not {}",
                    node.type_name()
                ))
                .at(sources, node.pos)
                .help("write for example `{ unit: W, precision: 0 }`"),
            );
            return None;
        }
    };
    let e = Entries::new(entries, allowed, what, sources, diags);
    let formula = e.get("formula").and_then(|n| match &n.kind {
        Kind::Str(s) => Some(FormulaSrc {
            text: s.clone(),
            pos: formula_pos(n, sources),
        }),
        Kind::Int(_) | Kind::Float(_) => {
            diags.push(
                Diagnostic::error(format!("`{name}` has a number as its formula"))
                    .at(sources, n.pos)
                    .help(
                        "a typed number is an input: use `value:` (for a parameter) or a data cell",
                    ),
            );
            None
        }
        _ => {
            diags.push(Diagnostic::error("`formula` must be text").at(sources, n.pos));
            None
        }
    });
    let unit_text = e.text("unit", sources, diags);
    let unit = match &unit_text {
        Some(u) => match Unit::parse(u) {
            Ok(unit) => unit,
            Err(err) => {
                let upos = e.get("unit").map_or(pos, |n| formula_pos(n, sources));
                let rest = u.get(err.offset..).unwrap_or_default();
                let before = u.get(..err.offset).unwrap_or_default().chars().count() as u32;
                let len = rest
                    .chars()
                    .take_while(|c| !matches!(c, '/' | '*' | '^' | ' ' | '(' | ')'))
                    .count()
                    .max(1) as u32;
                // `unknown unit `Wats`` says it all when the whole text is the unknown part.
                let message = if err.message.contains(&format!("`{}`", u.trim())) {
                    err.message.clone()
                } else {
                    format!("unknown unit in `{u}`: {}", err.message)
                };
                let mut d = Diagnostic::error(message)
                    .at(sources, upos.shifted(before, len))
                    .label("here");
                if let Some(h) = err.help {
                    d = d.help(h);
                }
                diags.push(d);
                Unit::one()
            }
        },
        None => Unit::one(),
    };
    let ty = match e.text("type", sources, diags) {
        Some(t) => match parse_type(&t) {
            Some(ty) => ty,
            None => {
                diags.push(
                    Diagnostic::error(format!("unknown type `{t}`"))
                        .at(sources, e.get("type").map_or(pos, |n| n.pos))
                        .help("types are number, integer, text, bool, date and ref:<dataset>"),
                );
                ColType::Number
            }
        },
        None => ColType::Number,
    };
    if unit_text.is_some() && !ty.is_numeric() {
        diags.push(
            Diagnostic::error(format!("`{name}` is {} and cannot have a unit", ty.name()))
                .at(sources, e.get("unit").map_or(pos, |n| n.pos)),
        );
    }
    let precision = e.get("precision").and_then(|n| match n.kind {
        Kind::Int(p) if (0..=12).contains(&p) => Some(p as usize),
        _ => {
            diags.push(
                Diagnostic::error("`precision` must be a whole number of decimals from 0 to 12")
                    .at(sources, n.pos),
            );
            None
        }
    });
    let style = match e.text("style", sources, diags).as_deref() {
        None | Some("auto") => Style::Auto,
        Some(s) => {
            let at = e.get("style").map_or(pos, |n| n.pos);
            let style = match s {
                "plain" => Some(Style::Plain),
                "currency" => Some(Style::Currency),
                "ratio" => Some(Style::Ratio),
                "percent" => Some(Style::Percent),
                _ => None,
            };
            match style {
                None => {
                    diags.push(
                        Diagnostic::error(format!(
                            "`style: {s}` is not one of plain, currency, ratio, percent"
                        ))
                        .at(sources, at),
                    );
                    Style::Auto
                }
                Some(Style::Currency) if unit.currency().is_none() => {
                    diags.push(
                        Diagnostic::error(format!("`style: currency` needs a money unit such as EUR or USD/MTok, not `{}`", unit.symbol))
                            .at(sources, at),
                    );
                    Style::Auto
                }
                Some(st @ (Style::Ratio | Style::Percent)) if !unit.dim.is_none() => {
                    diags.push(
                        Diagnostic::error(format!(
                            "`style: {s}` is for plain numbers, but the unit is `{}`",
                            unit.symbol
                        ))
                        .at(sources, at)
                        .help("remove the unit, or the style"),
                    );
                    let _ = st;
                    Style::Auto
                }
                Some(st) => st,
            }
        }
    };
    let range =
        e.text("range", sources, diags)
            .and_then(|r| match r.as_str() {
                "low" => Some(RangeEnd::Low),
                "mid" => Some(RangeEnd::Mid),
                "high" => Some(RangeEnd::High),
                _ => {
                    diags.push(
                Diagnostic::error(format!("`range: {r}` is not one of low, mid, high"))
                    .at(sources, e.get("range").map_or(pos, |n| n.pos))
                    .help("say which end of a range such as `4-5` formulas use: low, mid or high"),
            );
                    None
                }
            });
    let basis_printed = match e.text("basis", sources, diags).as_deref() {
        None => false,
        Some("printed") => true,
        Some(other) => {
            diags.push(
                Diagnostic::error(format!("`basis: {other}` is not known"))
                    .at(sources, e.get("basis").map_or(pos, |n| n.pos))
                    .help("the only basis is `printed`: a figure the source printed that its inputs cannot determine"),
            );
            false
        }
    };
    let printed = match e.get("printed") {
        Some(n) if allowed == COLUMN_KEYS => {
            match &n.kind {
                Kind::Str(s) => Some((s.clone(), n.pos)),
                _ => {
                    diags.push(
                    Diagnostic::error("`printed` of a column names the input column holding the printed figures")
                        .at(sources, n.pos),
                );
                    None
                }
            }
        }
        _ => None,
    };
    if printed.is_some() && formula.is_none() {
        diags.push(
            Diagnostic::error(format!("`{name}` has `printed:` but no formula"))
                .at(sources, pos)
                .help("`printed:` belongs on a derived column, to compare it with the source's figures"),
        );
    }
    let source_url = e.text("source_url", sources, diags);
    if let (Some(url), Some(n)) = (&source_url, e.get("source_url")) {
        check_url(url, n.pos, sources, diags);
    }
    let title = e
        .text("title", sources, diags)
        .unwrap_or_else(|| name.to_string());
    Some(Field {
        name: name.to_string(),
        title,
        description: e.text("description", sources, diags),
        ty,
        unit,
        precision,
        style,
        range,
        formula,
        printed,
        basis_printed,
        not_a_copy: e.text("not_a_copy", sources, diags),
        source: e.text("source", sources, diags),
        source_url,
        as_of: e.text("as_of", sources, diags),
        pos: Pos {
            len: name.chars().count().max(1) as u32,
            ..pos
        },
    })
}

/// The position of a formula's first character (`yaml::parse` already puts a quoted scalar's
/// position after its quote); a block scalar (`>-`, `|`) starts on the next line.
fn formula_pos(node: &Node, sources: &SourceMap) -> Pos {
    let file = sources.get(node.pos.file);
    let line = file.line_text(node.pos.line).unwrap_or_default();
    let rest: String = line.chars().skip(node.pos.col as usize - 1).collect();
    if rest.starts_with('>') || rest.starts_with('|') {
        let next = file.line_text(node.pos.line + 1).unwrap_or_default();
        let indent = next.chars().take_while(|c| *c == ' ').count() as u32;
        return Pos {
            line: node.pos.line + 1,
            col: indent + 1,
            ..node.pos
        };
    }
    node.pos
}

fn load_globals(
    map: &[(Node, Node)],
    rel: &Path,
    sources: &SourceMap,
    diags: &mut Diagnostics,
) -> Vec<Global> {
    let _ = Entries::new(
        map,
        &["params", "figures"],
        "a parameters file",
        sources,
        diags,
    );
    let mut out = Vec::new();
    for (k, v) in map {
        let is_figures = match k.key_str() {
            Some("params") => false,
            Some("figures") => true,
            _ => continue,
        };
        let Some(entries) = v.as_map() else {
            if !matches!(v.kind, Kind::Null) {
                diags.push(
                    Diagnostic::error("expected a mapping of names to settings").at(sources, v.pos),
                );
            }
            continue;
        };
        for (nk, nv) in entries {
            let Some(name) = nk.key_str() else {
                diags.push(Diagnostic::error("names must be text").at(sources, nk.pos));
                continue;
            };
            if !is_identifier(name) {
                diags.push(
                    Diagnostic::error(format!("`{name}` cannot name a parameter"))
                        .at(sources, nk.pos)
                        .help(
                            "use lowercase letters, digits and underscores, starting with a letter",
                        ),
                );
                continue;
            }
            let Some(field) =
                load_field(name, nk.pos, nv, GLOBAL_KEYS, "a parameter", sources, diags)
            else {
                continue;
            };
            let entries: &[(Node, Node)] = nv.as_map().unwrap_or(&[]);
            let get = |key: &str| {
                entries
                    .iter()
                    .find(|(k, _)| k.key_str() == Some(key))
                    .map(|(_, v)| v)
            };
            if is_figures && field.formula.is_none() {
                diags.push(
                    Diagnostic::error(format!("figure `{name}` has no formula"))
                        .at(sources, nk.pos)
                        .help("figures are computed: add `formula:`, or move the value under `params:`"),
                );
                continue;
            }
            if !is_figures && field.formula.is_some() {
                diags.push(
                    Diagnostic::error(format!("parameter `{name}` has a formula"))
                        .at(sources, nk.pos)
                        .help("parameters are inputs: move it under `figures:`"),
                );
                continue;
            }
            let value = if is_figures {
                if let Some(v) = get("value") {
                    diags.push(
                        Diagnostic::error(format!(
                            "figure `{name}` is computed and cannot also have a value"
                        ))
                        .at(sources, v.pos)
                        .help("keep the source's figure as `printed:` for the errata page"),
                    );
                }
                Value::Missing
            } else {
                match get("value") {
                    Some(v) => {
                        let input = match &v.kind {
                            Kind::Int(i) => CellInput::Number(*i as f64, v.pos),
                            Kind::Float(f) => CellInput::Number(*f, v.pos),
                            Kind::Bool(b) => CellInput::Bool(*b, v.pos),
                            Kind::Str(s) => CellInput::Text(s.clone(), v.pos),
                            Kind::Null => CellInput::Empty(v.pos),
                            Kind::Seq(_) | Kind::Map(_) => {
                                diags.push(
                                    Diagnostic::error(format!(
                                        "the value of `{name}` must be a single value, not {}",
                                        v.type_name()
                                    ))
                                    .at(sources, v.pos)
                                    .help("write one number (with `range: mid` for `4-5`) or one text"),
                                );
                                continue;
                            }
                        };
                        match parse_cell(&input, &field, sources) {
                            Ok(v) => v,
                            Err(d) => {
                                diags.push(d);
                                Value::Missing
                            }
                        }
                    }
                    None => {
                        diags.push(
                            Diagnostic::error(format!("parameter `{name}` has no `value:`"))
                                .at(sources, nk.pos),
                        );
                        Value::Missing
                    }
                }
            };
            let printed = get("printed").and_then(|n| match n.kind {
                Kind::Int(i) => Some(i as f64),
                Kind::Float(f) => Some(f),
                _ => {
                    diags.push(
                        Diagnostic::error("`printed` of a figure is the number the source printed, in the figure's unit")
                            .at(sources, n.pos),
                    );
                    None
                }
            });
            let origin = get("origin").and_then(Node::scalar_text);
            out.push(Global {
                field,
                value,
                printed,
                origin,
                file: rel.to_path_buf(),
            });
        }
    }
    out
}

/// Parses `number`, `text`, `ref:gpus`, ...
fn parse_type(t: &str) -> Option<ColType> {
    Some(match t.trim() {
        "number" => ColType::Number,
        "integer" => ColType::Integer,
        "text" => ColType::Text,
        "bool" => ColType::Bool,
        "date" => ColType::Date,
        other => {
            let target = other.strip_prefix("ref:")?.trim();
            if !is_identifier(target) {
                return None;
            }
            ColType::Ref(target.to_string())
        }
    })
}

/// Names of datasets, columns and parameters: a lowercase letter, then letters, digits, `_`.
pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}
