//! The duplicated-fact lint: one measured fact stored as an input in two datasets drifts as soon
//! as an editor updates one of them. Two input cells are taken for one fact when they belong to
//! the same entity (a row, or the row a `ref:` column points to), hold the same number (either
//! end of a range counts) and are of the same kind of quantity. The fix is to keep the number in
//! one dataset and refer to it from the other (`formula: gpu.tok_s`); a column that is a
//! different fact which happens to agree says so with `not_a_copy: "why"`.

use std::collections::{BTreeMap, BTreeSet};

use crate::data::{ColType, Dataset, Datasets, Value};
use crate::diag::{Diagnostic, Diagnostics};
use crate::source::{Pos, SourceMap};

/// One input cell: dataset, column, row.
type Cell = (usize, usize, usize);

/// Finds numbers stored twice for one entity.
pub fn duplicated_facts(data: &Datasets, sources: &SourceMap) -> Diagnostics {
    // (entity dataset, entity row, dimension, number bits) -> the input cells holding it.
    let mut seen: BTreeMap<(usize, usize, String, u64), BTreeSet<Cell>> = BTreeMap::new();
    for (di, d) in data.datasets.iter().enumerate() {
        let refs: Vec<(usize, usize)> = d
            .columns
            .iter()
            .enumerate()
            .filter_map(|(ci, c)| match &c.field.ty {
                ColType::Ref(target) => data.by_name.get(target).map(|&t| (ci, t)),
                _ => None,
            })
            .collect();
        for (ci, c) in d.columns.iter().enumerate() {
            let f = &c.field;
            let measured = f.ty == ColType::Number
                && !f.is_derived()
                && f.not_a_copy.is_none()
                && !d.is_printed_column(&f.name)
                && !f.unit.dim.is_none();
            if !measured {
                continue;
            }
            let kind = f.unit.dim.describe();
            for row in 0..d.len() {
                let numbers = match &c.cells[row] {
                    Value::Num(n) => vec![*n],
                    Value::Range(r) => vec![r.lo, r.hi],
                    _ => continue,
                };
                let mut entities = vec![(di, row)];
                for &(rc, target) in &refs {
                    if let Value::Ref(r) = d.columns[rc].cells[row] {
                        entities.push((target, r as usize));
                    }
                }
                for n in numbers {
                    // Compare at 12 significant digits, so unit conversions do not hide a copy.
                    let n = format!("{n:.11e}").parse::<f64>().unwrap_or(n);
                    for &(ed, er) in &entities {
                        seen.entry((ed, er, kind.clone(), n.to_bits()))
                            .or_default()
                            .insert((di, ci, row));
                    }
                }
            }
        }
    }
    let mut reported: BTreeSet<(Cell, Cell)> = BTreeSet::new();
    let mut diags = Diagnostics::default();
    for ((ed, er, _, _), cells) in &seen {
        let cells: Vec<Cell> = cells.iter().copied().collect();
        for (i, &a) in cells.iter().enumerate() {
            // The first cell of each other dataset: one report per pair of places.
            for &b in cells[i + 1..].iter().filter(|b| b.0 != a.0) {
                if !reported.insert((a, b)) {
                    continue;
                }
                diags.push(report(data, sources, (*ed, *er), a, b));
            }
        }
    }
    diags
}

fn report(
    data: &Datasets,
    sources: &SourceMap,
    entity: (usize, usize),
    a: Cell,
    b: Cell,
) -> Diagnostic {
    let name = |(d, c, _): Cell| {
        let d = &data.datasets[d];
        format!("{}.{}", d.name, d.columns[c].field.name)
    };
    let shown = |(d, c, r): Cell| {
        let d = &data.datasets[d];
        let f = &d.columns[c].field;
        match &d.columns[c].cells[r] {
            Value::Num(n) => crate::format::format_quantity(
                n / f.unit.factor,
                &f.unit.symbol,
                f.unit.currency(),
                f.precision
                    .unwrap_or_else(|| crate::format::default_decimals(n / f.unit.factor)),
            ),
            Value::Range(r) => crate::format::format_range(
                r.lo / f.unit.factor,
                r.hi / f.unit.factor,
                &f.unit.symbol,
                f.unit.currency(),
                f.precision.unwrap_or(0),
            ),
            _ => String::new(),
        }
    };
    let who = &data.datasets[entity.0].row_keys[entity.1];
    Diagnostic::error(format!(
        "possible duplicated fact: {} and {} of `{who}` are {} and {}",
        name(a),
        name(b),
        shown(a),
        shown(b)
    ))
    .at(sources, row_pos(&data.datasets[b.0], b.2, sources))
    .label("the same number as another dataset's input")
    .note(format!(
        "{} is at {}:{}",
        name(a),
        rows_file(&data.datasets[a.0]).display(),
        data.datasets[a.0].row_line[a.2]
    ))
    .help(fix(data, entity, a, b))
}

/// How to store the fact once: refer to the entity's own dataset, or move the number there.
fn fix(data: &Datasets, entity: (usize, usize), a: Cell, b: Cell) -> String {
    let ref_to = |d: usize| {
        data.datasets[d]
            .columns
            .iter()
            .find(|c| c.field.ty == ColType::Ref(data.datasets[entity.0].name.clone()))
            .map(|c| c.field.name.clone())
    };
    let column = |(d, c, _): Cell| data.datasets[d].columns[c].field.name.clone();
    let agree = "if they are two facts that happen to agree, mark one column `not_a_copy: \"why\"`";
    if a.0 == entity.0 || b.0 == entity.0 {
        let (owner, other) = if a.0 == entity.0 { (a, b) } else { (b, a) };
        let via = ref_to(other.0).unwrap_or_else(|| "row".into());
        format!(
            "keep the number in `{}` and refer to it from `{}` (`formula: {via}.{}`), so an \
             update reaches both; {agree}",
            data.datasets[owner.0].name,
            data.datasets[other.0].name,
            column(owner)
        )
    } else {
        let via = ref_to(b.0).unwrap_or_else(|| "row".into());
        format!(
            "store the number once, as a column of `{}`, and refer to it from both datasets \
             (`formula: {via}.{}`), so an update reaches both; {agree}",
            data.datasets[entity.0].name,
            column(b)
        )
    }
}

fn rows_file(d: &Dataset) -> &std::path::Path {
    d.csv_file.as_deref().unwrap_or(&d.file)
}

/// The line of a row, in the file that holds the rows.
fn row_pos(d: &Dataset, row: usize, sources: &SourceMap) -> Pos {
    let file = d
        .csv_file
        .as_deref()
        .and_then(|p| sources.find(p))
        .unwrap_or(d.pos.file);
    let line = d.row_line[row];
    let text = sources.get(file);
    let len = text.line_text(line).map_or(1, |l| l.chars().count().max(1));
    Pos {
        file,
        line,
        col: 1,
        len: len as u32,
    }
}
