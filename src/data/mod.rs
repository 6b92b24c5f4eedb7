//! Stage 2: data loading and schema validation.
//!
//! Input: the files under `data/`. Output: [`Datasets`]: every dataset's columns (with types,
//! units, display settings and formulas still as text) and its input cells, plus the global
//! parameters and named figures. Each file is read once; YAML files are parsed in parallel.
//! Cells hold numbers in base units (see `units`), so formulas never convert by hand.
//! Derived cells are filled in later by the `formula` stage.

mod cells;
mod csv;
mod pages;
mod schema;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use rayon::prelude::*;

use crate::diag::{did_you_mean, Diagnostic, Diagnostics};
use crate::project::Project;
use crate::source::{Pos, SourceMap};
use crate::units::Unit;

pub use cells::parse_number_text;

/// The value of one cell, parameter or figure. Numbers are in base units.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Missing,
    Num(f64),
    /// A range as written ("4-5"); boxed, since few cells are ranges and every cell is a `Value`.
    Range(Box<Range>),
    Text(Arc<str>),
    Bool(bool),
    Date(Arc<str>),
    /// A row of the dataset a `ref:` column points to.
    Ref(u32),
}

/// The ends of a range, and the number formulas use: the end the column's schema names.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Range {
    pub lo: f64,
    pub hi: f64,
    pub rep: f64,
}

impl Value {
    /// The number formulas compute with, if this is a number or a range.
    pub fn number(&self) -> Option<f64> {
        match self {
            Value::Num(n) => Some(*n),
            Value::Range(r) => Some(r.rep),
            _ => None,
        }
    }
}

/// The type of a column, parameter or figure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColType {
    Number,
    Integer,
    Text,
    Bool,
    Date,
    /// A key of the named dataset.
    Ref(String),
}

impl ColType {
    /// The name editors write in a schema.
    pub fn name(&self) -> String {
        match self {
            ColType::Number => "number".into(),
            ColType::Integer => "integer".into(),
            ColType::Text => "text".into(),
            ColType::Bool => "bool".into(),
            ColType::Date => "date".into(),
            ColType::Ref(d) => format!("ref:{d}"),
        }
    }

    /// Whether values of this type are numbers with a unit.
    pub fn is_numeric(&self) -> bool {
        matches!(self, ColType::Number | ColType::Integer)
    }
}

/// Which end of a range formulas use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeEnd {
    Low,
    Mid,
    High,
}

impl RangeEnd {
    /// The number formulas use for the range `lo`-`hi`.
    pub fn pick(self, lo: f64, hi: f64) -> f64 {
        match self {
            RangeEnd::Low => lo,
            RangeEnd::Mid => (lo + hi) / 2.0,
            RangeEnd::High => hi,
        }
    }
}

/// How a number is shown, beyond what its unit implies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Style {
    /// From the unit: `EUR 0.13/MTok`, `2.8x`, `47%`, `1,792 GB/s`.
    #[default]
    Auto,
    /// The unit as text after the number, even for money: `7,800 EUR`.
    Plain,
    /// Money: the currency in front (`EUR 7,800`, `$8,500`); needs a EUR or USD unit.
    Currency,
    /// A multiple: `2.8x`; needs a plain number.
    Ratio,
    /// A fraction shown in percent: 0.47 as `47%`; needs a plain number.
    Percent,
}

/// A formula as written, with the position of its first character.
#[derive(Debug, Clone)]
pub struct FormulaSrc {
    pub text: String,
    pub pos: Pos,
}

/// What a column, parameter or figure is: its schema.
#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    pub title: String,
    pub description: Option<String>,
    pub ty: ColType,
    pub unit: Unit,
    pub precision: Option<usize>,
    pub style: Style,
    pub range: Option<RangeEnd>,
    pub formula: Option<FormulaSrc>,
    /// For a derived column: the input column holding the figures the source printed.
    pub printed: Option<(String, Pos)>,
    /// An input of figures printed by a source that its inputs cannot determine.
    pub basis_printed: bool,
    /// Why this input column is not a copy of another dataset's fact although a number of it
    /// equals one (`not_a_copy:`, for the duplicated-fact lint).
    pub not_a_copy: Option<String>,
    pub source: Option<String>,
    pub source_url: Option<String>,
    pub as_of: Option<String>,
    /// Where the field is declared.
    pub pos: Pos,
}

impl Field {
    /// Whether the build computes this field.
    pub fn is_derived(&self) -> bool {
        self.formula.is_some()
    }
}

/// A column of a dataset and its cells, one per row.
#[derive(Debug, Clone)]
pub struct Column {
    pub field: Field,
    pub cells: Vec<Value>,
    /// The rows whose figure the source printed as approximate (`~40` in a column of printed
    /// figures), in row order.
    pub approximate: Vec<u32>,
}

/// Where a dataset or value comes from.
#[derive(Debug, Clone, Default)]
pub struct Meta {
    pub title: String,
    pub description: Option<String>,
    pub source: Option<String>,
    pub source_url: Option<String>,
    pub as_of: Option<String>,
    /// Where `as_of` is written.
    pub as_of_pos: Option<Pos>,
    /// Where the figures appear in the source article (for the errata page).
    pub origin: Option<String>,
    /// The most its inputs' as-of date may lag behind the wiki's date, in months.
    pub stale_after: Option<u32>,
}

/// One dataset: a table of rows with typed, unit-carrying columns.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub name: String,
    /// The schema file, relative to the wiki root.
    pub file: PathBuf,
    /// The CSV file holding the rows, if any.
    pub csv_file: Option<PathBuf>,
    pub meta: Meta,
    pub key: usize,
    pub label: Option<usize>,
    pub columns: Vec<Column>,
    pub col_by_name: HashMap<String, usize>,
    /// Each row's key, shared with the key column's cells.
    pub row_keys: Vec<Arc<str>>,
    pub row_by_key: RowIndex,
    /// The line where each row starts, in the file that holds the rows.
    pub row_line: Vec<u32>,
    /// Each row's `_source` and `_note`, up to the last row that has one (see [`Dataset::source_of`]).
    pub row_source: Vec<Option<String>>,
    pub row_note: Vec<Option<String>>,
    /// Where the dataset is declared (its `columns:` key).
    pub pos: Pos,
    /// Whether its rows get pages of their own, and how.
    pub pages: Option<Pages>,
}

/// How a dataset's rows get pages (its `pages:` setting).
#[derive(Debug, Clone)]
pub struct Pages {
    /// The address pattern, with `{key}`: `gpus/{key}`.
    pub path: String,
    /// The column that titles each page.
    pub title: Option<usize>,
    pub layout: String,
    pub pos: Pos,
}

impl Dataset {
    /// Whether a column holds the figures a source printed (another column's `printed:`):
    /// neither a fact of its own nor an input that ages.
    pub fn is_printed_column(&self, name: &str) -> bool {
        self.columns
            .iter()
            .any(|c| c.field.printed.as_ref().is_some_and(|(n, _)| n == name))
    }

    /// The column with this name.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.col_by_name.get(name).copied()
    }

    /// A row's `_source`, if it has one.
    pub fn source_of(&self, row: usize) -> Option<&str> {
        self.row_source.get(row)?.as_deref()
    }

    /// A row's `_note`, if it has one.
    pub fn note_of(&self, row: usize) -> Option<&str> {
        self.row_note.get(row)?.as_deref()
    }

    /// The row with this key.
    pub fn row(&self, key: &str) -> Option<usize> {
        self.row_by_key.get(&self.row_keys, key).map(|r| r as usize)
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.row_keys.len()
    }

    /// Whether the dataset has no rows.
    pub fn is_empty(&self) -> bool {
        self.row_keys.is_empty()
    }

    /// A "did you mean" hint for an unknown column.
    pub fn column_hint(&self, name: &str) -> String {
        did_you_mean(
            name,
            "column",
            self.columns.iter().map(|c| c.field.name.as_str()),
        )
    }

    /// A "did you mean" hint for an unknown row key.
    pub fn row_hint(&self, key: &str) -> String {
        did_you_mean(key, "row", self.row_keys.iter().map(|k| &**k))
    }

    /// The text that names a row to readers: its label column, or its key.
    pub fn row_label(&self, row: usize) -> String {
        if let Some(l) = self.label {
            if let Value::Text(t) = &self.columns[l].cells[row] {
                return t.to_string();
            }
        }
        self.row_keys[row].to_string()
    }
}

/// Row keys to row numbers. The table holds row numbers only, hashed by the key each points to,
/// so that a key is stored once, in [`Dataset::row_keys`] (a 500,000-row dataset would otherwise
/// spend more on its index than on its cells).
#[derive(Debug, Clone, Default)]
pub struct RowIndex {
    table: hashbrown::HashTable<u32>,
    hasher: std::hash::RandomState,
}

impl RowIndex {
    /// Room for this many more keys.
    pub fn reserve(&mut self, keys: &[Arc<str>], additional: usize) {
        use std::hash::BuildHasher;
        let hasher = &self.hasher;
        self.table
            .reserve(additional, |&r| hasher.hash_one(&*keys[r as usize]));
    }

    /// The row whose key is `key`.
    pub fn get(&self, keys: &[Arc<str>], key: &str) -> Option<u32> {
        use std::hash::BuildHasher;
        let hash = self.hasher.hash_one(key);
        self.table
            .find(hash, |&r| &*keys[r as usize] == key)
            .copied()
    }

    /// Indexes `row` under its key, `keys[row]` (the first row with a key keeps it).
    pub fn insert(&mut self, keys: &[Arc<str>], row: u32) {
        use std::hash::BuildHasher;
        let key = &*keys[row as usize];
        let hasher = &self.hasher;
        let hash = hasher.hash_one(key);
        if self
            .table
            .find(hash, |&r| &*keys[r as usize] == key)
            .is_none()
        {
            self.table
                .insert_unique(hash, row, |&r| hasher.hash_one(&*keys[r as usize]));
        }
    }
}

/// A parameter (input) or named figure (derived) that belongs to no dataset.
#[derive(Debug, Clone)]
pub struct Global {
    pub field: Field,
    pub value: Value,
    /// The figure the source printed, in the field's unit.
    pub printed: Option<f64>,
    pub origin: Option<String>,
    /// The file that declares it.
    pub file: PathBuf,
}

/// Everything `data/` holds.
#[derive(Debug, Clone, Default)]
pub struct Datasets {
    /// Sorted by name.
    pub datasets: Vec<Dataset>,
    pub by_name: HashMap<String, usize>,
    /// Parameters and figures, sorted by name.
    pub globals: Vec<Global>,
    pub global_by_name: HashMap<String, usize>,
}

impl Datasets {
    /// The dataset with this name.
    pub fn dataset(&self, name: &str) -> Option<&Dataset> {
        self.by_name.get(name).map(|&i| &self.datasets[i])
    }

    /// The parameter or figure with this name.
    pub fn global(&self, name: &str) -> Option<&Global> {
        self.global_by_name.get(name).map(|&i| &self.globals[i])
    }
}

/// A parsed data file before names are checked across files.
enum Loaded {
    Dataset(Box<Dataset>, Vec<RefCell>),
    Globals(Vec<Global>),
}

/// A `ref:` cell whose key is checked once every dataset is loaded.
struct RefCell {
    column: usize,
    row: usize,
    key: String,
    pos: Pos,
}

/// Loads every dataset, parameter and figure under `data/`. Each file is read once.
pub fn load_datasets(project: &Project, sources: &SourceMap) -> Result<Datasets, Diagnostics> {
    let files = crate::fsutil::walk(&project.data_dir, &project.root, &["yaml", "yml", "csv"])?;
    let read: Vec<Result<(PathBuf, Arc<str>), Diagnostics>> = files
        .par_iter()
        .map(|(abs, rel)| crate::fsutil::read_text(abs, rel).map(|t| (rel.clone(), t)))
        .collect();
    let mut diags = Diagnostics::default();
    let mut texts = Vec::with_capacity(read.len());
    let mut unreadable = Vec::new();
    for (r, (_, rel)) in read.into_iter().zip(&files) {
        match r {
            Ok(t) => texts.push(t),
            Err(d) => {
                diags.extend(d);
                unreadable.push(rel.clone());
            }
        }
    }
    match load_files(texts, &unreadable, sources) {
        Ok(d) if !diags.has_errors() => Ok(d),
        Ok(_) => Err(diags),
        Err(e) => {
            diags.extend(e);
            Err(diags)
        }
    }
}

/// Loads datasets from file texts already read: (path relative to the wiki root, text).
/// YAML files are schemas or parameters; a CSV file holds the rows of the same-named schema.
pub fn load_texts(
    files: Vec<(PathBuf, Arc<str>)>,
    sources: &SourceMap,
) -> Result<Datasets, Diagnostics> {
    load_files(files, &[], sources)
}

/// [`load_texts`], knowing which files could not be read (already reported): a dataset whose
/// file failed is left out without further errors, and so are the errors that only follow from
/// its absence ("unknown dataset" in a `ref:` column).
fn load_files(
    files: Vec<(PathBuf, Arc<str>)>,
    unreadable: &[PathBuf],
    sources: &SourceMap,
) -> Result<Datasets, Diagnostics> {
    let mut diags = Diagnostics::default();
    let stem_name = |p: &std::path::Path| {
        p.file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string()
    };
    let mut failed: Vec<String> = unreadable.iter().map(|p| stem_name(p)).collect();
    let unreadable_stems: Vec<PathBuf> = unreadable.iter().map(|p| p.with_extension("")).collect();
    let files: Vec<(PathBuf, Arc<str>)> = files
        .into_iter()
        .filter(|(p, _)| !unreadable_stems.contains(&p.with_extension("")))
        .collect();
    let (yamls, csvs): (Vec<_>, Vec<_>) = files
        .into_iter()
        .partition(|(p, _)| !p.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv")));
    let mut csv_by_stem: HashMap<PathBuf, (PathBuf, Arc<str>)> = csvs
        .into_iter()
        .map(|(rel, text)| (rel.with_extension(""), (rel, text)))
        .collect();
    let results: Vec<(String, Result<Loaded, Diagnostics>)> = yamls
        .par_iter()
        .map(|(rel, text)| {
            let csv = csv_by_stem.get(&rel.with_extension(""));
            (stem_name(rel), load_yaml(text, rel, csv, sources))
        })
        .collect();
    for (rel, _) in &yamls {
        csv_by_stem.remove(&rel.with_extension(""));
    }
    let mut orphans: Vec<PathBuf> = csv_by_stem.into_values().map(|(rel, _)| rel).collect();
    orphans.sort();
    for rel in orphans {
        diags.push(
            Diagnostic::error(format!("{} has no schema", rel.display()))
                .in_file(&rel)
                .help(format!(
                    "add {} declaring its key and columns (see the README, \"Datasets\")",
                    rel.with_extension("yaml").display()
                )),
        );
    }

    let mut datasets = Vec::new();
    let mut refs = Vec::new();
    let mut globals = Vec::new();
    for (name, r) in results {
        match r {
            Ok(Loaded::Dataset(d, r)) => {
                refs.push((d.name.clone(), r));
                datasets.push(*d);
            }
            Ok(Loaded::Globals(g)) => globals.extend(g),
            Err(d) => {
                diags.extend(d);
                failed.push(name);
            }
        }
    }
    let mut out = assemble(datasets, globals, sources, &mut diags);
    resolve_refs(&mut out, refs, &failed, sources, &mut diags);
    diags.into_result(out)
}

fn load_yaml(
    text: &Arc<str>,
    rel: &std::path::Path,
    csv: Option<&(PathBuf, Arc<str>)>,
    sources: &SourceMap,
) -> Result<Loaded, Diagnostics> {
    let file = sources.add(rel, text.clone());
    let node = crate::yaml::parse(text, file, sources)?;
    schema::load(&node, rel, csv, sources)
}

/// Collapses repeated problems of one kind in one file (the same message once the quoted values
/// are set aside) into the first of them, with a count and the first few places.
fn collapse(diags: Diagnostics) -> Diagnostics {
    /// Up to this many of a kind are reported one by one.
    const KEEP: usize = 3;
    let blank = |t: &str| t.split('`').step_by(2).collect::<Vec<_>>().join("`…`");
    let kind = |d: &Diagnostic| {
        let file = d.location.as_ref().map(|l| l.file.clone());
        let help: Vec<String> = d.help.iter().map(|h| blank(h)).collect();
        (file, blank(&d.message), help)
    };
    type Kind = (Option<String>, String, Vec<String>);
    let mut groups: Vec<(Kind, Vec<Diagnostic>)> = Vec::new();
    for d in diags.0 {
        let k = kind(&d);
        match groups.iter_mut().find(|(g, _)| *g == k) {
            Some((_, list)) => list.push(d),
            None => groups.push((k, vec![d])),
        }
    }
    let mut out = Diagnostics::default();
    for (_, list) in groups {
        if list.len() <= KEEP {
            list.into_iter().for_each(|d| out.push(d));
            continue;
        }
        let lines: Vec<String> = list
            .iter()
            .filter_map(|d| d.location.as_ref().map(|l| l.line.to_string()))
            .collect();
        let shown = 5.min(lines.len());
        let more = lines.len() - shown;
        let mut first = list.into_iter().next().expect("a group is never empty");
        first.notes.push(format!(
            "the same problem occurs {} times in this file, at lines {}{}",
            lines.len(),
            lines[..shown].join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        ));
        out.push(first);
    }
    out
}

/// Indexes datasets and globals by name and rejects names defined twice.
fn assemble(
    mut datasets: Vec<Dataset>,
    mut globals: Vec<Global>,
    sources: &SourceMap,
    diags: &mut Diagnostics,
) -> Datasets {
    datasets.sort_by(|a, b| a.name.cmp(&b.name));
    globals.sort_by(|a, b| {
        a.field
            .name
            .cmp(&b.field.name)
            .then(a.field.pos.cmp(&b.field.pos))
    });
    let mut out = Datasets::default();
    for g in globals {
        if let Some(&prev) = out.global_by_name.get(&g.field.name) {
            let first = &out.globals[prev];
            let f = sources.get(first.field.pos.file);
            diags.push(
                Diagnostic::error(format!("`{}` is defined twice", g.field.name))
                    .at(sources, g.field.pos)
                    .label("second definition")
                    .note(format!(
                        "first defined at {}:{}",
                        f.path.display(),
                        first.field.pos.line
                    ))
                    .help("every parameter and figure lives in exactly one place: remove one"),
            );
            continue;
        }
        out.global_by_name
            .insert(g.field.name.clone(), out.globals.len());
        out.globals.push(g);
    }
    for d in datasets {
        if let Some(g) = out.global(&d.name) {
            diags.push(
                Diagnostic::error(format!("`{}` names both a dataset and a parameter", d.name))
                    .at(sources, g.field.pos)
                    .help("rename the parameter or the dataset file"),
            );
        }
        if crate::formula::is_function_name(&d.name) {
            diags.push(
                Diagnostic::error(format!(
                    "a dataset cannot be called `{}`, the name of a formula function",
                    d.name
                ))
                .at(sources, d.pos)
                .help("rename the file"),
            );
        }
        out.by_name.insert(d.name.clone(), out.datasets.len());
        out.datasets.push(d);
    }
    out
}

/// Turns the keys written in `ref:` columns into row indices of the target dataset.
fn resolve_refs(
    out: &mut Datasets,
    refs: Vec<(String, Vec<RefCell>)>,
    failed: &[String],
    sources: &SourceMap,
    diags: &mut Diagnostics,
) {
    // Every `ref:` column names a dataset, whether or not it has rows (a dataset whose file
    // failed to load has had its error already).
    for d in &out.datasets {
        for c in &d.columns {
            if let ColType::Ref(target) = &c.field.ty {
                if out.dataset(target).is_none() && !failed.contains(target) {
                    diags.push(
                        Diagnostic::error(format!(
                            "column `{}` of `{}` refers to an unknown dataset `{target}`",
                            c.field.name, d.name
                        ))
                        .at(sources, c.field.pos)
                        .label(format!("its type is `ref:{target}`"))
                        .help(did_you_mean(
                            target,
                            "dataset",
                            out.datasets.iter().map(|d| d.name.as_str()),
                        )),
                    );
                }
            }
        }
    }
    for (name, cells) in refs {
        let Some(&di) = out.by_name.get(&name) else {
            continue;
        };
        for cell in cells {
            let ColType::Ref(target) = out.datasets[di].columns[cell.column].field.ty.clone()
            else {
                continue;
            };
            let Some(t) = out.dataset(&target) else {
                continue; // reported above
            };
            match t.row(&cell.key) {
                Some(r) => {
                    out.datasets[di].columns[cell.column].cells[cell.row] = Value::Ref(r as u32)
                }
                None => diags.push(
                    Diagnostic::error(format!("`{}` is not a row of dataset `{target}`", cell.key))
                        .at(sources, cell.pos)
                        .label("unknown key")
                        .help(t.row_hint(&cell.key)),
                ),
            }
        }
    }
}
