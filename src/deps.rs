//! What a page read from the model, and a digest of it: two builds that give a page the same
//! digest of what it read, from the same source and layouts, render the same bytes, so the page
//! is not rendered again (`serve` after an edit, see `pipeline::Cache`).
//!
//! Reads are recorded where templates touch the model (a cell or parameter object made, a
//! dataset's rows listed, a table's filter and sort read over every row); what no finer record
//! covers counts as reading the whole dataset. Digests are computed once per build for every
//! column and dataset, so a page's digest costs one look-up per read.

use std::collections::BTreeSet;
use std::hash::{Hash, Hasher};

use crate::data::{Dataset, Field, Value};
use crate::model::{Input, Model, ValueRef};

/// What one page read from the model.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reads {
    /// Single values: cells and parameters or figures.
    pub values: BTreeSet<ValueRef>,
    /// Columns read in every row (a table's `where` and `sort`), as (dataset, column).
    pub columns: BTreeSet<(usize, usize)>,
    /// Parameters a filter reads.
    pub globals: BTreeSet<usize>,
    /// Datasets whose list of rows (keys, labels, schema) the page shows.
    pub rows: BTreeSet<usize>,
    /// Datasets read in full.
    pub whole: BTreeSet<usize>,
}

impl Reads {
    /// Adds what the provenance of each figure names: the inputs listed in its title.
    pub fn add_provenance(&mut self, model: &Model, figures: &[(ValueRef, String)]) {
        for (r, _) in figures {
            for input in model.inputs_of(*r) {
                match input {
                    Input::Value(v) => {
                        // Named by its row's label.
                        if let ValueRef::Cell { ds, .. } = v {
                            self.rows.insert(ds);
                        }
                        self.values.insert(v);
                    }
                    Input::Column { ds, col } => {
                        self.columns.insert((ds, col));
                    }
                }
            }
        }
    }
}

/// A 64-bit digest, the same for the same input within one version of driftless.
pub struct Digest(foldhash::quality::FoldHasher<'static>);

impl Default for Digest {
    fn default() -> Digest {
        use std::hash::BuildHasher;
        Digest(foldhash::quality::FixedState::with_seed(0x6472_6966_746c_6573).build_hasher())
    }
}

impl Digest {
    pub fn new() -> Digest {
        Digest::default()
    }
    pub fn add<T: Hash + ?Sized>(&mut self, v: &T) -> &mut Self {
        v.hash(&mut self.0);
        self
    }
    pub fn value(&mut self, v: &Value) -> &mut Self {
        match v {
            Value::Missing => self.add(&0u8),
            Value::Num(n) => self.add(&1u8).add(&n.to_bits()),
            Value::Range(r) => self
                .add(&2u8)
                .add(&r.lo.to_bits())
                .add(&r.hi.to_bits())
                .add(&r.rep.to_bits()),
            Value::Text(t) => self.add(&3u8).add(&**t),
            Value::Bool(b) => self.add(&4u8).add(b),
            Value::Date(d) => self.add(&5u8).add(&**d),
            Value::Ref(r) => self.add(&6u8).add(r),
        }
    }
    pub fn finish(&self) -> u64 {
        self.0.finish()
    }
}

/// What of a field a page can show: its names, unit, precision, formula, source and dates (not
/// where it is written, which changes when files are read in another order).
fn field_digest(field: &Field, stale: Option<&crate::stale::Stale>) -> u64 {
    let mut d = Digest::new();
    d.add(&field.name)
        .add(&field.title)
        .add(&field.description)
        .add(&field.ty.name())
        .add(&field.unit.symbol)
        .add(&field.unit.factor.to_bits())
        .add(&field.precision)
        .add(&format!("{:?}{:?}", field.style, field.range))
        .add(&field.formula.as_ref().map(|f| &f.text))
        .add(&field.printed.as_ref().map(|p| &p.0))
        .add(&field.basis_printed)
        .add(&field.source)
        .add(&field.source_url)
        .add(&field.as_of)
        .add(&stale.map(|s| (&s.as_of, s.months, s.limit)));
    d.finish()
}

fn meta_digest(d: &Dataset) -> u64 {
    let m = &d.meta;
    let mut g = Digest::new();
    g.add(&d.name)
        .add(&m.title)
        .add(&m.description)
        .add(&m.source)
        .add(&m.source_url)
        .add(&m.as_of)
        .add(&m.origin)
        .add(&d.key)
        .add(&d.label)
        .add(&d.pages.as_ref().map(|p| (&p.path, p.title, &p.layout)));
    g.finish()
}

/// The digests of one build's model.
pub struct Digests {
    /// Per dataset, per column: the field's digest.
    fields: Vec<Vec<u64>>,
    /// Per dataset, per column: the field and every cell.
    columns: Vec<Vec<u64>>,
    /// Per dataset: its schema, row keys, labels, row sources and notes.
    rows: Vec<u64>,
    /// Per dataset: all of it.
    whole: Vec<u64>,
    /// Per parameter or figure: its field and value.
    globals: Vec<u64>,
}

impl Digests {
    pub fn new(model: &Model) -> Digests {
        use rayon::prelude::*;
        let per_dataset: Vec<(Vec<u64>, Vec<u64>, u64, u64)> = model
            .data
            .datasets
            .par_iter()
            .enumerate()
            .map(|(ds, d)| {
                let fields: Vec<u64> = d
                    .columns
                    .iter()
                    .enumerate()
                    .map(|(c, col)| field_digest(&col.field, model.stale.columns.get(&(ds, c))))
                    .collect();
                let columns: Vec<u64> = d
                    .columns
                    .iter()
                    .zip(&fields)
                    .map(|(col, f)| {
                        let mut g = Digest::new();
                        g.add(f);
                        for v in &col.cells {
                            g.value(v);
                        }
                        g.finish()
                    })
                    .collect();
                let mut r = Digest::new();
                r.add(&meta_digest(d)).add(&fields).add(&d.row_keys);
                if let Some(l) = d.label {
                    r.add(&columns[l]);
                }
                r.add(&d.row_source).add(&d.row_note);
                let rows = r.finish();
                let whole = Digest::new().add(&rows).add(&columns).finish();
                (fields, columns, rows, whole)
            })
            .collect();
        let globals = model
            .data
            .globals
            .iter()
            .enumerate()
            .map(|(i, g)| {
                let mut d = Digest::new();
                d.add(&field_digest(&g.field, model.stale.globals.get(&i)));
                d.value(&g.value);
                d.finish()
            })
            .collect();
        let mut out = Digests {
            fields: Vec::new(),
            columns: Vec::new(),
            rows: Vec::new(),
            whole: Vec::new(),
            globals,
        };
        for (f, c, r, w) in per_dataset {
            out.fields.push(f);
            out.columns.push(c);
            out.rows.push(r);
            out.whole.push(w);
        }
        out
    }

    /// The digest of all of a dataset.
    pub fn whole_of(&self, ds: usize) -> u64 {
        self.whole[ds]
    }

    /// The digest of what names a dataset's rows: its schema, keys and labels, and `column`
    /// (the title column of its row pages).
    pub fn names_of(&self, ds: usize, column: Option<usize>) -> u64 {
        let mut d = Digest::new();
        d.add(&self.rows[ds]);
        if let Some(c) = column {
            d.add(&self.columns[ds][c]);
        }
        d.finish()
    }

    /// The digest of everything `reads` names, in this build's model; `None` when it names
    /// something the model no longer has (a dataset, column or row removed).
    pub fn of(&self, model: &Model, reads: &Reads) -> Option<u64> {
        let mut d = Digest::new();
        for v in &reads.values {
            match *v {
                ValueRef::Global(g) => d.add(&0u8).add(self.globals.get(g)?),
                ValueRef::Cell { ds, row, col } => {
                    let cell = model
                        .data
                        .datasets
                        .get(ds)?
                        .columns
                        .get(col)?
                        .cells
                        .get(row)?;
                    d.add(&1u8)
                        .add(&model.data.datasets[ds].row_keys[row])
                        .add(self.fields.get(ds)?.get(col)?)
                        .value(cell)
                }
            };
        }
        for &(ds, col) in &reads.columns {
            d.add(&2u8).add(self.columns.get(ds)?.get(col)?);
        }
        for &g in &reads.globals {
            d.add(&3u8).add(self.globals.get(g)?);
        }
        for &ds in &reads.rows {
            d.add(&4u8).add(self.rows.get(ds)?);
        }
        for &ds in &reads.whole {
            d.add(&5u8).add(self.whole.get(ds)?);
        }
        Some(d.finish())
    }
}
