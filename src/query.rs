//! Queries that articles run over datasets (`table(..., where="grp == 1")`), shared by every
//! page of a build: a `where` formula is compiled once, and an equality filter is answered from
//! an index of its column built the first time a page asks, so a wiki of 10,000 pages that each
//! show a slice of a 100,000-row dataset does not scan the dataset 10,000 times.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::data::{Datasets, Value};
use crate::formula::compile::{Ir, V};
use crate::formula::parse::BinOp;
use crate::formula::{self, Compiled};

/// A cell value as an index key. Numbers compare by their bits (after folding -0 into 0).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Key {
    Num(u64),
    Text(Arc<str>),
    Bool(bool),
}

impl Key {
    fn of_value(v: &Value) -> Option<Key> {
        match v {
            Value::Num(n) => Some(Key::Num((n + 0.0).to_bits())),
            Value::Range(r) => Some(Key::Num((r.rep + 0.0).to_bits())),
            Value::Text(t) | Value::Date(t) => Some(Key::Text(t.clone())),
            Value::Bool(b) => Some(Key::Bool(*b)),
            Value::Ref(r) => Some(Key::Num(u64::from(*r))),
            Value::Missing => None,
        }
    }

    fn of_v(v: &V) -> Key {
        match v {
            V::Num(n) => Key::Num((n + 0.0).to_bits()),
            V::Text(t) | V::Date(t) => Key::Text(t.clone()),
            V::Bool(b) => Key::Bool(*b),
            V::Row(r) => Key::Num(u64::from(*r)),
        }
    }
}

/// The rows of each value of a column; `None` when the column has an empty cell, which a filter
/// must report (as a scan of the rows does) rather than skip.
type Index = Option<HashMap<Key, Vec<usize>>>;

/// Compiled filters and column indexes, built on first use.
#[derive(Debug, Default)]
pub struct QueryCache {
    filters: Mutex<HashMap<(usize, String), Arc<Compiled>>>,
    indexes: Mutex<HashMap<(usize, usize), Arc<Index>>>,
}

impl QueryCache {
    /// The compiled `where` formula over a dataset's rows; the error is the message to show.
    pub fn filter(&self, data: &Datasets, ds: usize, text: &str) -> Result<Arc<Compiled>, String> {
        let key = (ds, text.to_string());
        if let Some(c) = self
            .filters
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return Ok(c.clone());
        }
        let expr = formula::parse::parse(text)
            .map_err(|e| format!("invalid `where` formula `{text}`: {}", e.message))?;
        let c = formula::compile::compile(&expr, data, Some(ds)).map_err(|e| {
            let hint = e.help.first().map_or(String::new(), |h| format!(" ({h})"));
            format!("in `where` formula `{text}`: {}{hint}", e.message)
        })?;
        if c.ty != formula::Ty::Bool {
            return Err(format!(
                "the `where` formula `{text}` must be true or false"
            ));
        }
        let c = Arc::new(c);
        self.filters
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, c.clone());
        Ok(c)
    }

    /// The rows whose column equals a value, in the dataset's order; `None` when the column has
    /// an empty cell (the caller scans the rows, and reports the empty cell as any filter does).
    pub fn rows_equal(
        &self,
        data: &Datasets,
        ds: usize,
        col: usize,
        value: &V,
    ) -> Option<Vec<usize>> {
        let index = {
            let mut indexes = self.indexes.lock().unwrap_or_else(|e| e.into_inner());
            indexes
                .entry((ds, col))
                .or_insert_with(|| {
                    let mut index = HashMap::new();
                    for (row, cell) in data.datasets[ds].columns[col].cells.iter().enumerate() {
                        match Key::of_value(cell) {
                            Some(k) => index.entry(k).or_insert_with(Vec::new).push(row),
                            None => return Arc::new(None),
                        }
                    }
                    Arc::new(Some(index))
                })
                .clone()
        };
        let index = index.as_ref().as_ref()?;
        Some(index.get(&Key::of_v(value)).cloned().unwrap_or_default())
    }
}

/// `column == constant` (either way round): the column and the constant.
pub fn equality(ir: &Ir) -> Option<(usize, V)> {
    let Ir::Bin(BinOp::Eq, a, b, _) = ir else {
        return None;
    };
    match (a.as_ref(), b.as_ref()) {
        (Ir::Col(c, _), Ir::Const(v)) | (Ir::Const(v), Ir::Col(c, _)) => Some((*c, v.clone())),
        _ => None,
    }
}
