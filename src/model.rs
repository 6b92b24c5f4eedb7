//! The computed model: every dataset with its derived columns filled in, every parameter and
//! figure, and the compiled formulas (kept for provenance, the errata page and the lock file).
//! Later stages only read it; it is shared between threads behind an `Arc`.

use std::collections::BTreeMap;

use crate::data::{Datasets, Field, Style, Value};
use crate::format;
use crate::formula::{Compiled, Dep};
use crate::units::Unit;

/// Everything the data says, computed.
#[derive(Debug)]
pub struct Model {
    pub data: Datasets,
    pub formulas: BTreeMap<Dep, Compiled>,
    /// Filters and indexes shared by every page's tables.
    pub queries: crate::query::QueryCache,
    /// The inputs older than the wiki allows (see `stale.rs`).
    pub stale: crate::stale::Staleness,
}

/// A reference to one value of the model: a cell or a parameter/figure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ValueRef {
    Global(usize),
    Cell { ds: usize, row: usize, col: usize },
}

/// A value a formula reads: one value, or a column of every row (an aggregate).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input {
    Value(ValueRef),
    Column { ds: usize, col: usize },
}

impl Model {
    /// The values a derived value's formula reads, in the order it names them (nothing for an
    /// input).
    pub fn inputs_of(&self, r: ValueRef) -> Vec<Input> {
        use crate::formula::{Ctx, Read};
        let (dep, ctx) = match r {
            ValueRef::Global(g) => (Dep::Global(g), Ctx::global(&self.data)),
            ValueRef::Cell { ds, row, col } => {
                (Dep::Column(ds, col), Ctx::row(&self.data, ds, row))
            }
        };
        let Some(compiled) = self.formulas.get(&dep) else {
            return Vec::new();
        };
        crate::formula::inputs(&compiled.ir, ctx)
            .into_iter()
            .map(|read| match read {
                Read::Global(g) => Input::Value(ValueRef::Global(g)),
                Read::Cell { ds, row, col } => Input::Value(ValueRef::Cell { ds, row, col }),
                Read::Column { ds, col } => Input::Column { ds, col },
            })
            .collect()
    }

    /// Wraps evaluated data.
    pub fn new(data: Datasets, formulas: BTreeMap<Dep, Compiled>) -> Model {
        Model {
            data,
            formulas,
            queries: crate::query::QueryCache::default(),
            stale: crate::stale::Staleness::default(),
        }
    }

    /// Why a value is stale, if it is an input older than the wiki allows.
    pub fn stale(&self, r: ValueRef) -> Option<&crate::stale::Stale> {
        match r {
            ValueRef::Global(g) => self.stale.globals.get(&g),
            ValueRef::Cell { ds, col, .. } => self.stale.columns.get(&(ds, col)),
        }
    }

    /// The field and value behind a reference.
    pub fn get(&self, r: ValueRef) -> (&Field, &Value) {
        match r {
            ValueRef::Global(g) => (&self.data.globals[g].field, &self.data.globals[g].value),
            ValueRef::Cell { ds, row, col } => {
                let c = &self.data.datasets[ds].columns[col];
                (&c.field, &c.cells[row])
            }
        }
    }

    /// The stable name of a value: `dataset/row/column` or the parameter's name.
    pub fn name_of(&self, r: ValueRef) -> String {
        match r {
            ValueRef::Global(g) => self.data.globals[g].field.name.clone(),
            ValueRef::Cell { ds, row, col } => {
                let d = &self.data.datasets[ds];
                format!(
                    "{}/{}/{}",
                    d.name, d.row_keys[row], d.columns[col].field.name
                )
            }
        }
    }

    /// The template expression that shows a value, for hints.
    pub fn expression_of(&self, r: ValueRef) -> String {
        match r {
            ValueRef::Global(g) => format!("{{{{ {} }}}}", self.data.globals[g].field.name),
            ValueRef::Cell { ds, row, col } => {
                let d = &self.data.datasets[ds];
                format!(
                    "{{{{ {}[\"{}\"].{} }}}}",
                    d.name, d.row_keys[row], d.columns[col].field.name
                )
            }
        }
    }

    /// A value as readers see it: with its unit and the field's precision.
    pub fn display(&self, field: &Field, value: &Value) -> String {
        self.display_as(field, value, None, None)
    }

    /// A value shown with another precision or in another (compatible) unit.
    pub fn display_as(
        &self,
        field: &Field,
        value: &Value,
        decimals: Option<usize>,
        unit: Option<&Unit>,
    ) -> String {
        let styled = styled_unit(field, unit);
        let unit = &styled;
        let currency = if field.style == Style::Plain {
            None
        } else {
            unit.currency()
        };
        match value {
            Value::Missing => format::MISSING.to_string(),
            Value::Num(n) => {
                let v = n / unit.factor;
                let dec = decimals
                    .or(field.precision)
                    .unwrap_or_else(|| format::default_decimals(v));
                format::format_quantity(v, &unit.symbol, currency, dec)
            }
            Value::Range(r) => {
                let (l, h) = (r.lo / unit.factor, r.hi / unit.factor);
                let dec = decimals.or(field.precision).unwrap_or_else(|| {
                    format::default_decimals(h).max(format::default_decimals(l))
                });
                format::format_range(l, h, &unit.symbol, currency, dec)
            }
            Value::Text(t) | Value::Date(t) => t.to_string(),
            Value::Bool(true) => "yes".to_string(),
            Value::Bool(false) => "no".to_string(),
            Value::Ref(r) => match &field.ty {
                crate::data::ColType::Ref(target) => self
                    .data
                    .dataset(target)
                    .map_or_else(|| r.to_string(), |d| d.row_label(*r as usize)),
                _ => r.to_string(),
            },
        }
    }

    /// The number only, without unit, at the field's precision.
    pub fn display_number(
        &self,
        field: &Field,
        value: &Value,
        decimals: Option<usize>,
        unit: Option<&Unit>,
    ) -> String {
        let styled = styled_unit(field, unit);
        let unit = &styled;
        match value {
            Value::Num(n) => {
                let v = n / unit.factor;
                let dec = decimals
                    .or(field.precision)
                    .unwrap_or_else(|| format::default_decimals(v));
                format::format_number(v, dec)
            }
            Value::Range(r) => {
                let (l, h) = (r.lo / unit.factor, r.hi / unit.factor);
                let dec = decimals
                    .or(field.precision)
                    .unwrap_or_else(|| format::default_decimals(h));
                format!(
                    "{}-{}",
                    format::format_number(l, dec),
                    format::format_number(h, dec)
                )
            }
            other => self.display_as(field, other, decimals, Some(unit)),
        }
    }

    /// The plain number of a value in its field's unit (ranges give the end formulas use).
    pub fn number_in_unit(field: &Field, value: &Value) -> Option<f64> {
        value.number().map(|n| n / field.unit.factor)
    }

    /// Every derived value, in a stable order (figures first, then datasets by name, rows by key).
    pub fn derived_values(&self) -> Vec<ValueRef> {
        let mut out: Vec<ValueRef> = Vec::new();
        for (g, gl) in self.data.globals.iter().enumerate() {
            if gl.field.is_derived() {
                out.push(ValueRef::Global(g));
            }
        }
        for (ds, d) in self.data.datasets.iter().enumerate() {
            let mut rows: Vec<usize> = (0..d.len()).collect();
            rows.sort_by(|a, b| d.row_keys[*a].cmp(&d.row_keys[*b]));
            for row in rows {
                for (col, c) in d.columns.iter().enumerate() {
                    if c.field.is_derived() {
                        out.push(ValueRef::Cell { ds, row, col });
                    }
                }
            }
        }
        out
    }
}

/// The unit a value is shown in: the requested one, or the field's, adjusted by its style
/// (`ratio` shows a plain number with `x`, `percent` a fraction in `%`).
pub fn styled_unit(field: &Field, unit: Option<&Unit>) -> Unit {
    let unit = unit.unwrap_or(&field.unit);
    match field.style {
        Style::Ratio if unit.symbol.is_empty() => Unit {
            symbol: "x".to_string(),
            ..unit.clone()
        },
        Style::Percent if unit.dim.is_none() && unit.symbol != "%" => {
            Unit::parse("%").unwrap_or_else(|_| unit.clone())
        }
        _ => unit.clone(),
    }
}
