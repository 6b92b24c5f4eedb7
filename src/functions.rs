//! What editors can use inside articles: every dataset, parameter and figure as a variable, the
//! filters `number`, `precision` and `to`, and the functions `table`, `span`, `compare`,
//! `claim`, `chart` and `errata`.
//!
//! Every value an article shows goes through [`PageScope`], which records it: the page knows
//! exactly which values it depends on. Values reach the Markdown escaped, so a `<script>` or a
//! `*` in a data cell is shown as written. Functions that produce HTML (tables, charts) return a
//! placeholder that the Markdown stage swaps for their HTML after parsing.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::{Arc, Mutex};

use minijinja::value::{DynObject, Enumerator, Kwargs, Object, ObjectRepr};
use minijinja::{Environment, Error, ErrorKind, State, Value};

use crate::data::{ColType, Dataset, Value as Cell};
use crate::formula::{self, Ctx, V};
use crate::markdown::{escape_html, escape_markdown};
use crate::model::{Model, ValueRef};
use crate::table::TableCol;
use crate::units::Unit;

/// A claim an article makes about the data, as evaluated.
#[derive(Debug, Clone)]
pub struct ClaimResult {
    pub formula: String,
    pub message: String,
    pub holds: bool,
    /// The values that break the claim, when it does not hold.
    pub breaking: Vec<String>,
}

/// What rendering one article recorded.
#[derive(Debug, Default)]
pub struct Recording {
    /// Every value the article shows.
    pub values: BTreeSet<ValueRef>,
    /// Datasets the article shows whole or in part (tables, charts, spans).
    pub datasets: BTreeSet<usize>,
    /// HTML produced by functions, swapped in for placeholders after Markdown rendering.
    pub blocks: Vec<String>,
    /// Every figure shown in the text, with its text: swapped in for [`figure_token`]s by the
    /// Markdown stage, as a link to where the value comes from.
    pub figures: Vec<(ValueRef, String)>,
    pub claims: Vec<ClaimResult>,
    /// The last attribute asked of a row that has no such column (dataset, name): a loop
    /// variable's `{{ g.powr }}` is reported with its dataset's columns.
    pub missed_column: Option<(usize, String)>,
    /// Everything the article read from the model, shown or not (see `deps.rs`).
    pub reads: crate::deps::Reads,
}

/// The root of an article's template context.
#[derive(Debug)]
pub struct PageScope {
    pub model: Arc<Model>,
    pub recording: Mutex<Recording>,
    pub errata: Arc<Vec<crate::errata::Erratum>>,
    /// The address of the errata page (the article that shows `errata()`), if there is one.
    pub errata_page: Option<Arc<str>>,
    /// The relative path from the page to the site root (`../` for `a/`).
    pub root: String,
}

impl PageScope {
    fn record(&self, r: ValueRef) {
        let mut rec = self.lock();
        rec.values.insert(r);
        rec.reads.values.insert(r);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Recording> {
        self.recording.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Stores a figure and returns the token that stands for it in the Markdown.
    fn figure(&self, at: ValueRef, text: String) -> String {
        let mut r = self.lock();
        r.values.insert(at);
        r.figures.push((at, text));
        figure_token(r.figures.len() - 1)
    }

    /// Stores HTML and returns the placeholder that stands for it in the Markdown.
    pub fn block(&self, html: String) -> String {
        let mut r = self.lock();
        r.blocks.push(html);
        placeholder(r.blocks.len() - 1)
    }
}

/// The text that stands for figure `i` in expanded Markdown (see [`placeholder`]).
pub fn figure_token(i: usize) -> String {
    format!("\u{E002}{i}\u{E003}")
}

/// The text that stands for block `i` in expanded Markdown. Private-use characters cannot come
/// from an editor's keyboard by accident, and Markdown leaves them alone.
pub fn placeholder(i: usize) -> String {
    format!("\u{E000}{i}\u{E001}")
}

impl Object for PageScope {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let name = key.as_str()?;
        if name == "__page" {
            return Some(Value::from_dyn_object(self.clone()));
        }
        let data = &self.model.data;
        if let Some(&ds) = data.by_name.get(name) {
            return Some(Value::from_object(DatasetObj {
                scope: self.clone(),
                ds,
            }));
        }
        if let Some(&g) = data.global_by_name.get(name) {
            return Some(CellObj::value(self, ValueRef::Global(g)));
        }
        None
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Empty
    }
}

/// A dataset in a template: index it by row key, or loop over its rows.
#[derive(Debug)]
struct DatasetObj {
    scope: Arc<PageScope>,
    ds: usize,
}

impl Object for DatasetObj {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let d = &self.scope.model.data.datasets[self.ds];
        self.scope.lock().reads.rows.insert(self.ds);
        let row = d.row(key.as_str()?)?;
        Some(Value::from_object(RowObj {
            scope: self.scope.clone(),
            ds: self.ds,
            row,
        }))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        {
            let mut rec = self.scope.lock();
            rec.datasets.insert(self.ds);
            rec.reads.rows.insert(self.ds);
        }
        let n = self.scope.model.data.datasets[self.ds].len();
        let me = self.clone();
        Enumerator::Iter(Box::new((0..n).map(move |row| {
            Value::from_object(RowObj {
                scope: me.scope.clone(),
                ds: me.ds,
                row,
            })
        })))
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.scope.lock().reads.rows.insert(self.ds);
        f.write_str(&escape_markdown(
            &self.scope.model.data.datasets[self.ds].meta.title,
        ))
    }
}

/// A row in a template: its columns are attributes; `key` and `label` name it.
#[derive(Debug)]
struct RowObj {
    scope: Arc<PageScope>,
    ds: usize,
    row: usize,
}

impl Object for RowObj {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let d = &self.scope.model.data.datasets[self.ds];
        let name = key.as_str()?;
        if let Some(col) = d.column(name) {
            return Some(CellObj::value(
                &self.scope,
                ValueRef::Cell {
                    ds: self.ds,
                    row: self.row,
                    col,
                },
            ));
        }
        self.scope.lock().reads.rows.insert(self.ds);
        match name {
            "key" => Some(Value::from(d.row_keys[self.row].to_string())),
            "label" => Some(Value::from(escape_markdown(&d.row_label(self.row)))),
            _ => {
                self.scope.lock().missed_column = Some((self.ds, name.to_string()));
                None
            }
        }
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = &self.scope.model.data.datasets[self.ds];
        self.scope.lock().reads.rows.insert(self.ds);
        f.write_str(&escape_markdown(&d.row_label(self.row)))
    }
}

/// One value in a template. Shows with its unit and precision; `.value` is the plain number.
#[derive(Debug, Clone)]
pub struct CellObj {
    scope: Arc<PageScope>,
    at: ValueRef,
    decimals: Option<usize>,
    unit: Option<Unit>,
    bare: bool,
}

impl CellObj {
    fn value(scope: &Arc<PageScope>, at: ValueRef) -> Value {
        scope.lock().reads.values.insert(at);
        Value::from_object(CellObj {
            scope: scope.clone(),
            at,
            decimals: None,
            unit: None,
            bare: false,
        })
    }

    /// The figure as shown, standing in the Markdown for a link to where it comes from.
    fn text(&self) -> String {
        let (field, value) = self.scope.model.get(self.at);
        let model = &self.scope.model;
        let s = if self.bare {
            model.display_number(field, value, self.decimals, self.unit.as_ref())
        } else {
            model.display_as(field, value, self.decimals, self.unit.as_ref())
        };
        self.scope.figure(self.at, s)
    }

    /// The number in the shown unit, for comparisons in templates.
    fn number(&self) -> Option<f64> {
        let (field, value) = self.scope.model.get(self.at);
        let unit = self.unit.as_ref().unwrap_or(&field.unit);
        value.number().map(|n| n / unit.factor)
    }
}

impl Object for CellObj {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let name = key.as_str()?;
        let (field, value) = self.scope.model.get(self.at);
        match name {
            "value" => {
                self.scope.record(self.at);
                Some(match value {
                    Cell::Num(_) | Cell::Range { .. } => {
                        Value::from(self.number().unwrap_or(f64::NAN))
                    }
                    Cell::Text(t) | Cell::Date(t) => Value::from(t.to_string()),
                    Cell::Bool(b) => Value::from(*b),
                    Cell::Missing => Value::from(()),
                    Cell::Ref(_) => Value::from(self.scope.model.display(field, value)),
                })
            }
            "unit" => Some(Value::from(
                self.unit.as_ref().unwrap_or(&field.unit).symbol.clone(),
            )),
            "title" => Some(Value::from(escape_markdown(&field.title))),
            "description" => Some(Value::from(
                field.description.clone().map(|d| escape_markdown(&d)),
            )),
            "present" => Some(Value::from(!matches!(value, Cell::Missing))),
            "low" | "high" => {
                let Cell::Range(r) = value else {
                    return Some(Value::from_object((**self).clone()));
                };
                let unit = self.unit.as_ref().unwrap_or(&field.unit);
                let n = if name == "low" { r.lo } else { r.hi };
                self.scope.record(self.at);
                let dec = self
                    .decimals
                    .or(field.precision)
                    .unwrap_or_else(|| crate::format::default_decimals(n / unit.factor));
                Some(Value::from(escape_markdown(
                    &crate::format::format_quantity(
                        n / unit.factor,
                        &unit.symbol,
                        unit.currency(),
                        dec,
                    ),
                )))
            }
            other => {
                // Through a `ref:` cell to the referenced row's columns.
                let Cell::Ref(r) = value else { return None };
                let crate::data::ColType::Ref(target) = &field.ty else {
                    return None;
                };
                let ds = *self.scope.model.data.by_name.get(target)?;
                let col = self.scope.model.data.datasets[ds].column(other)?;
                self.scope.record(self.at);
                Some(CellObj::value(
                    &self.scope,
                    ValueRef::Cell {
                        ds,
                        row: *r as usize,
                        col,
                    },
                ))
            }
        }
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text())
    }

    /// `a.tok_s > b.tok_s`, `|sort`, `|min`, `|max` compare the quantities (in base units), never
    /// the shown text; text values compare as text, and a missing value comes first.
    fn custom_cmp(self: &Arc<Self>, other: &DynObject) -> Option<std::cmp::Ordering> {
        let other = other.downcast_ref::<CellObj>()?;
        let model = &self.scope.model;
        let ((fa, a), (fb, b)) = (model.get(self.at), model.get(other.at));
        Some(match (a, b) {
            (Cell::Missing, Cell::Missing) => std::cmp::Ordering::Equal,
            (Cell::Missing, _) => std::cmp::Ordering::Less,
            (_, Cell::Missing) => std::cmp::Ordering::Greater,
            _ => match (a.number(), b.number()) {
                (Some(x), Some(y)) if fa.unit.dim == fb.unit.dim => x.total_cmp(&y),
                _ => model.display(fa, a).cmp(&model.display(fb, b)),
            },
        })
    }
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg.into())
}

fn scope(state: &State) -> Result<Arc<PageScope>, Error> {
    state
        .lookup("__page")
        .and_then(|v| v.downcast_object::<PageScope>())
        .ok_or_else(|| invalid("data functions are only available in articles"))
}

fn cell_of(v: &Value) -> Result<Arc<CellObj>, Error> {
    v.downcast_object::<CellObj>().ok_or_else(|| {
        invalid(format!(
            "expected a value from the data (such as `gpus[\"rtx-4090\"].vram`), found `{v}`"
        ))
    })
}

/// The dataset a function argument names: a dataset variable or its name as text.
fn dataset_arg(scope: &PageScope, v: &Value) -> Result<usize, Error> {
    if let Some(d) = v.downcast_object_ref::<DatasetObj>() {
        return Ok(d.ds);
    }
    let data = &scope.model.data;
    let name = v
        .as_str()
        .ok_or_else(|| invalid(format!("expected a dataset, found `{v}`")))?;
    data.by_name.get(name).copied().ok_or_else(|| {
        invalid(format!(
            "unknown dataset `{name}`; {}",
            crate::diag::did_you_mean(
                name,
                "dataset",
                data.datasets.iter().map(|d| d.name.as_str())
            )
        ))
    })
}

fn column_arg(d: &Dataset, name: &str) -> Result<usize, Error> {
    d.column(name).ok_or_else(|| {
        invalid(format!(
            "`{name}` is not a column of dataset `{}`; {}",
            d.name,
            d.column_hint(name)
        ))
    })
}

/// A table column: `name`, or `ref_column.name` for a column of the referenced row.
fn table_column(model: &Model, ds: usize, spec: &str) -> Result<TableCol, Error> {
    let d = &model.data.datasets[ds];
    let Some((via, name)) = spec.split_once('.') else {
        return Ok(TableCol {
            via: None,
            ds,
            col: column_arg(d, spec)?,
        });
    };
    let via_col = column_arg(d, via)?;
    let crate::data::ColType::Ref(target) = &d.columns[via_col].field.ty else {
        return Err(invalid(format!(
            "`{via}` is not a ref: column of `{}`, so `{spec}` cannot follow it",
            d.name
        )));
    };
    let t = *model
        .data
        .by_name
        .get(target)
        .ok_or_else(|| invalid(format!("unknown dataset `{target}`")))?;
    Ok(TableCol {
        via: Some(via_col),
        ds: t,
        col: column_arg(&model.data.datasets[t], name)?,
    })
}

/// Rows of a dataset that pass a `where=` formula, in the dataset's order.
fn filtered_rows(model: &Model, ds: usize, filter: Option<&str>) -> Result<Vec<usize>, Error> {
    let n = model.data.datasets[ds].len();
    let Some(text) = filter else {
        return Ok((0..n).collect());
    };
    let c = model
        .queries
        .filter(&model.data, ds, text)
        .map_err(invalid)?;
    // `column == value`: answered from an index built once per column and shared by every page,
    // instead of a scan of the dataset per table.
    if let Some((col, value)) = crate::query::equality(&c.ir) {
        if let Some(rows) = model.queries.rows_equal(&model.data, ds, col, &value) {
            return Ok(rows);
        }
    }
    let mut rows = Vec::new();
    for row in 0..n {
        match formula::eval::eval(&c.ir, Ctx::row(&model.data, ds, row)) {
            Ok(V::Bool(true)) => rows.push(row),
            Ok(_) => {}
            Err(e) => {
                return Err(invalid(format!(
                    "in `where` formula `{text}`, row `{}`: {}",
                    model.data.datasets[ds].row_keys[row], e.message
                )))
            }
        }
    }
    Ok(rows)
}

fn hint(help: &[String]) -> String {
    help.first().map_or(String::new(), |h| format!(" ({h})"))
}

/// Sorts rows by a column (`-col` for descending); empty cells go last.
/// The columns, as (dataset, column), and the parameters a `where` formula reads.
fn filter_reads(
    model: &Model,
    ds: usize,
    filter: Option<&str>,
) -> (Vec<(usize, usize)>, Vec<usize>) {
    let (mut cols, mut globals) = (Vec::new(), Vec::new());
    let Some(c) = filter.and_then(|t| model.queries.filter(&model.data, ds, t).ok()) else {
        return (cols, globals);
    };
    for dep in &c.deps {
        match *dep {
            formula::Dep::Column(d, col) => cols.push((d, col)),
            formula::Dep::Global(g) => globals.push(g),
        }
    }
    (cols, globals)
}

fn sort_rows(model: &Model, ds: usize, rows: &mut [usize], sort: &str) -> Result<(), Error> {
    let d = &model.data.datasets[ds];
    let (desc, name) = match sort.strip_prefix('-') {
        Some(n) => (true, n),
        None => (false, sort.trim_start_matches('+')),
    };
    let col = column_arg(d, name)?;
    let cells = &d.columns[col].cells;
    rows.sort_by(|a, b| {
        use std::cmp::Ordering;
        let (x, y) = (&cells[*a], &cells[*b]);
        let ord = match (x.number(), y.number()) {
            (Some(p), Some(q)) => p.partial_cmp(&q).unwrap_or(Ordering::Equal),
            (Some(_), None) => return Ordering::Less,
            (None, Some(_)) => return Ordering::Greater,
            (None, None) => model
                .display(&d.columns[col].field, x)
                .cmp(&model.display(&d.columns[col].field, y)),
        };
        if desc {
            ord.reverse()
        } else {
            ord
        }
    });
    Ok(())
}

/// Registers the filters and functions on the article environment.
pub fn register(env: &mut Environment<'static>) {
    env.add_filter("number", |v: Value| -> Result<Value, Error> {
        let c = cell_of(&v)?;
        Ok(Value::from_object(CellObj {
            bare: true,
            ..(*c).clone()
        }))
    });
    env.add_filter(
        "precision",
        |v: Value, decimals: Value| -> Result<Value, Error> {
            let c = cell_of(&v)?;
            let decimals = whole(&decimals, "`precision`", "decimals", Some(12))?;
            Ok(Value::from_object(CellObj {
                decimals: Some(decimals),
                ..(*c).clone()
            }))
        },
    );
    env.add_filter("to", |v: Value, unit: String| -> Result<Value, Error> {
        let c = cell_of(&v)?;
        let u = Unit::parse(&unit)
            .map_err(|e| invalid(format!("unknown unit `{unit}`: {}", e.message)))?;
        let (field, _) = c.scope.model.get(c.at);
        if !u.is_compatible(&field.unit) {
            return Err(invalid(format!(
                "cannot show a value in {} as {unit}: the units measure different things",
                field.unit.symbol
            )));
        }
        Ok(Value::from_object(CellObj {
            unit: Some(u),
            ..(*c).clone()
        }))
    });
    env.add_function("table", table);
    env.add_function("span", span);
    env.add_function("compare", compare);
    env.add_function("claim", claim);
    env.add_function("chart", chart);
    env.add_function("errata", errata);
}

fn kw_str(kwargs: &Kwargs, name: &str) -> Result<Option<String>, Error> {
    kwargs.get::<Option<String>>(name)
}

/// A whole number from 0 to `max` for a setting such as `limit=` or `precision=`, with a message
/// that says what the setting counts.
fn whole(v: &Value, setting: &str, counts: &str, max: Option<usize>) -> Result<usize, Error> {
    let n = match v.kind() {
        minijinja::value::ValueKind::Number => f64::try_from(v.clone()).ok(),
        _ => None,
    };
    match n {
        Some(n) if n.fract() == 0.0 && n >= 0.0 && n <= max.unwrap_or(usize::MAX >> 12) as f64 => {
            Ok(n as usize)
        }
        _ => Err(invalid(format!(
            "{setting} takes a whole number of {counts} ({}), not {}",
            match max {
                Some(max) => format!("0 to {max}"),
                None => "0 or more".into(),
            },
            match v.as_str() {
                Some(s) => format!("\"{s}\""),
                None => v.to_string(),
            }
        ))),
    }
}

/// An optional whole-number keyword argument (see [`whole`]).
fn kw_whole(
    kwargs: &Kwargs,
    name: &str,
    counts: &str,
    max: Option<usize>,
) -> Result<Option<usize>, Error> {
    match kwargs.get::<Option<Value>>(name)? {
        None => Ok(None),
        Some(v) if v.is_none() => Ok(None),
        Some(v) => whole(&v, &format!("`{name}=`"), counts, max).map(Some),
    }
}

/// `table(dataset, columns=[...], where="...", sort="-col", headers={...}, caption="...", limit=n)`
fn table(state: &State, dataset: Value, kwargs: Kwargs) -> Result<String, Error> {
    let scope = scope(state)?;
    let model = &scope.model;
    let ds = dataset_arg(&scope, &dataset)?;
    let d = &model.data.datasets[ds];
    let columns: Option<Vec<String>> = kwargs.get("columns")?;
    let filter = kw_str(&kwargs, "where")?;
    let sort = kw_str(&kwargs, "sort")?;
    let caption = kw_str(&kwargs, "caption")?;
    let limit = kw_whole(&kwargs, "limit", "rows", None)?;
    let headers: Option<Value> = kwargs.get("headers")?;
    kwargs.assert_all_used()?;
    let (names, cols): (Vec<String>, Vec<TableCol>) = match columns {
        Some(names) => {
            let cols = names
                .iter()
                .map(|n| table_column(model, ds, n))
                .collect::<Result<_, _>>()?;
            (names, cols)
        }
        None => (0..d.columns.len())
            .filter(|&c| !(c == d.key && d.label.is_some()))
            .map(|c| {
                (
                    d.columns[c].field.name.clone(),
                    TableCol {
                        via: None,
                        ds,
                        col: c,
                    },
                )
            })
            .unzip(),
    };
    let mut rows = filtered_rows(model, ds, filter.as_deref())?;
    let (mut selection_columns, selection_globals) = filter_reads(model, ds, filter.as_deref());
    if let Some(s) = &sort {
        sort_rows(model, ds, &mut rows, s)?;
        if let Some(c) = d.column(s.trim_start_matches(['-', '+'])) {
            selection_columns.push((ds, c));
        }
    }
    if let Some(l) = limit {
        rows.truncate(l);
    }
    let mut header_texts = Vec::new();
    for (c, name) in cols.iter().zip(&names) {
        let field = c.field(model);
        let custom = match &headers {
            Some(h) => h
                .get_item(&Value::from(name.as_str()))
                .ok()
                .filter(|v| !v.is_undefined() && !v.is_none())
                .map(|v| v.to_string()),
            None => None,
        };
        header_texts.push(custom.unwrap_or_else(|| crate::table::default_header(field)));
    }
    {
        let mut rec = scope.lock();
        rec.datasets.insert(ds);
        // Which rows are shown, and in what order, depends on the filter's and the sort
        // column's values in every row.
        rec.reads.rows.insert(ds);
        rec.reads.columns.extend(selection_columns.iter().copied());
        rec.reads.globals.extend(selection_globals.iter().copied());
        for &row in &rows {
            for c in &cols {
                if let Some(v) = c.value_ref(model, ds, row) {
                    rec.values.insert(v);
                    rec.reads.values.insert(v);
                }
                if let Some(via) = c.via {
                    rec.values.insert(ValueRef::Cell { ds, row, col: via });
                    rec.reads
                        .values
                        .insert(ValueRef::Cell { ds, row, col: via });
                }
            }
        }
    }
    let html = crate::table::render(
        model,
        ds,
        &cols,
        &rows,
        &header_texts,
        caption.as_deref(),
        &crate::table::Page {
            root: &scope.root,
            errata: &scope.errata,
            errata_page: scope.errata_page.as_deref(),
        },
    );
    Ok(format!("\n\n{}\n\n", scope.block(html)))
}

/// `span(dataset, "column", where="...")`: the lowest and highest value of a column.
fn span(state: &State, dataset: Value, column: String, kwargs: Kwargs) -> Result<Value, Error> {
    let scope = scope(state)?;
    let model = &scope.model;
    let ds = dataset_arg(&scope, &dataset)?;
    let d = &model.data.datasets[ds];
    let col = column_arg(d, &column)?;
    let field = &d.columns[col].field;
    if !matches!(field.ty, ColType::Number | ColType::Integer) {
        return Err(invalid(format!(
            "span() needs a column of numbers, and `{column}` of `{}` holds {}",
            d.name,
            match field.ty {
                ColType::Text | ColType::Ref(_) => "text",
                ColType::Bool => "yes/no values",
                ColType::Date => "dates",
                ColType::Number | ColType::Integer => unreachable!("checked above"),
            }
        )));
    }
    let filter = kw_str(&kwargs, "where")?;
    kwargs.assert_all_used()?;
    let rows = filtered_rows(model, ds, filter.as_deref())?;
    let with_values: Vec<(usize, f64)> = rows
        .iter()
        .filter_map(|&r| d.columns[col].cells[r].number().map(|n| (r, n)))
        .collect();
    let lo = with_values
        .iter()
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .ok_or_else(|| invalid(format!("no row of `{}` has a value in `{column}`", d.name)))?;
    let hi = with_values
        .iter()
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .expect("not empty");
    {
        let mut rec = scope.lock();
        rec.datasets.insert(ds);
        rec.reads.whole.insert(ds);
    }
    let low = CellObj {
        scope: scope.clone(),
        at: ValueRef::Cell { ds, row: lo.0, col },
        decimals: None,
        unit: None,
        bare: false,
    };
    let high = CellObj {
        at: ValueRef::Cell { ds, row: hi.0, col },
        ..low.clone()
    };
    Ok(Value::from_object(SpanObj { low, high }))
}

#[derive(Debug)]
struct SpanObj {
    low: CellObj,
    high: CellObj,
}

impl Object for SpanObj {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        match key.as_str()? {
            "low" => Some(Value::from_object(self.low.clone())),
            "high" => Some(Value::from_object(self.high.clone())),
            _ => None,
        }
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} to {}", self.low.text(), self.high.text())
    }
}

/// `compare(a, b, less="cheaper", more="more expensive", precision=1, same="as costly as")`:
/// "2.8x cheaper" when `a` is below `b`, "1.8x more expensive" when above.
fn compare(a: Value, b: Value, kwargs: Kwargs) -> Result<String, Error> {
    let (x, y) = (cell_of(&a)?, cell_of(&b)?);
    let less = kw_str(&kwargs, "less")?.unwrap_or_else(|| "lower".into());
    let more = kw_str(&kwargs, "more")?.unwrap_or_else(|| "higher".into());
    let same = kw_str(&kwargs, "same")?;
    let decimals = kw_whole(&kwargs, "precision", "decimals", Some(12))?.unwrap_or(1);
    kwargs.assert_all_used()?;
    let (fx, vx) = x.scope.model.get(x.at);
    let (fy, vy) = y.scope.model.get(y.at);
    if !fx.unit.is_compatible(&fy.unit) {
        return Err(invalid(format!(
            "cannot compare {} with {}: the units measure different things",
            fx.unit.symbol, fy.unit.symbol
        )));
    }
    let (Some(p), Some(q)) = (vx.number(), vy.number()) else {
        return Err(invalid("compare needs two numbers"));
    };
    x.scope.record(x.at);
    y.scope.record(y.at);
    if p <= 0.0 || q <= 0.0 {
        return Err(invalid("compare needs two positive numbers"));
    }
    let (ratio, word) = if p < q { (q / p, less) } else { (p / q, more) };
    let shown = crate::format::format_number(ratio, decimals);
    if shown == crate::format::format_number(1.0, decimals) {
        // Near equality has no "x cheaper": the sentence needs words of its own, and only the
        // editor knows them.
        return match same {
            Some(same) => Ok(escape_markdown(&same)),
            None => Err(invalid(format!(
                "the two values are equal at {decimals} decimal{} ({shown}x), so neither `less=` nor `more=` fits; \
                 add `same=\"...\"` with the words for that case (for example `same=\"as cheap as\"`)",
                if decimals == 1 { "" } else { "s" }
            ))),
        };
    }
    Ok(escape_markdown(&format!("{shown}x {word}")))
}

/// `claim("formula", "what it asserts")`: renders nothing; the build fails if it is false.
fn claim(state: &State, formula_text: String, message: Option<String>) -> Result<String, Error> {
    let scope = scope(state)?;
    let model = &scope.model;
    let expr = formula::parse::parse(&formula_text).map_err(|e| {
        invalid(format!(
            "invalid claim formula `{formula_text}`: {}",
            e.message
        ))
    })?;
    let c = formula::compile::compile(&expr, &model.data, None).map_err(|e| {
        invalid(format!(
            "in claim `{formula_text}`: {}{}",
            e.message,
            hint(&e.help)
        ))
    })?;
    if c.ty != formula::Ty::Bool {
        return Err(invalid(format!(
            "the claim `{formula_text}` must be true or false, not {}{}",
            c.ty.describe(&model.data),
            hint(&[format!(
                "a claim is a condition: compare the value with something, as in `{} > ...`",
                formula_text.trim()
            )])
        )));
    }
    let holds = match formula::eval::eval(&c.ir, Ctx::global(&model.data)) {
        Ok(V::Bool(b)) => b,
        Ok(_) => false,
        Err(e) => return Err(invalid(format!("in claim `{formula_text}`: {}", e.message))),
    };
    let breaking = if holds {
        Vec::new()
    } else {
        crate::claims::explain(&c.ir, model)
    };
    {
        let mut rec = scope.lock();
        for dep in &c.deps {
            if let formula::Dep::Global(g) = dep {
                rec.values.insert(ValueRef::Global(*g));
                rec.reads.globals.insert(*g);
            }
            if let formula::Dep::Column(ds, c) = dep {
                rec.datasets.insert(*ds);
                rec.reads.columns.insert((*ds, *c));
            }
        }
        rec.claims.push(ClaimResult {
            formula: formula_text,
            message: message.unwrap_or_default(),
            holds,
            breaking,
        });
    }
    Ok(String::new())
}

/// `chart(dataset, x="label column", y="value column", where=..., sort=..., title=...)`
fn chart(state: &State, dataset: Value, kwargs: Kwargs) -> Result<String, Error> {
    use crate::chart::{Kind, Spec};
    let scope = scope(state)?;
    let model = &scope.model;
    let ds = dataset_arg(&scope, &dataset)?;
    let d = &model.data.datasets[ds];
    let kind_name = kw_str(&kwargs, "kind")?.unwrap_or_else(|| "bar".to_string());
    let kind = Kind::parse(&kind_name).ok_or_else(|| {
        invalid(format!(
            "`kind=\"{kind_name}\"` is not a chart kind: write \"bar\", \"line\" or \"scatter\""
        ))
    })?;
    let x: Option<String> = kw_str(&kwargs, "x")?;
    let y: Value = kwargs.get("y")?;
    let label: Option<String> = kw_str(&kwargs, "label")?;
    let filter = kw_str(&kwargs, "where")?;
    let sort = kw_str(&kwargs, "sort")?;
    let title = kw_str(&kwargs, "title")?;
    let description = kw_str(&kwargs, "description")?;
    let reference: Option<Value> = kwargs.get("ref")?;
    let ref_label = kw_str(&kwargs, "ref_label")?;
    let log: Option<Value> = kwargs.get("log")?;
    kwargs.assert_all_used()?;
    let ys: Vec<String> = match y.as_str() {
        Some(one) => vec![one.to_string()],
        None => y
            .try_iter()
            .map_err(|_| invalid("`y=` is a column name or a list of column names"))?
            .map(|v| v.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| invalid("`y=` is a column name or a list of column names"))?,
    };
    if ys.is_empty() {
        return Err(invalid("`y=` names no column"));
    }
    let ys: Vec<TableCol> = ys
        .iter()
        .map(|c| table_column(model, ds, c))
        .collect::<Result<_, _>>()?;
    let numeric = |c: &TableCol, arg: &str| {
        let f = c.field(model);
        if f.ty.is_numeric() {
            Ok(())
        } else {
            Err(invalid(format!(
                "`{arg}` of a chart must be a number column; `{}` is {}",
                f.name,
                f.ty.name()
            )))
        }
    };
    for c in &ys {
        numeric(c, "y")?;
        let (first, this) = (ys[0].field(model), c.field(model));
        if this.unit.dim != first.unit.dim {
            return Err(invalid(format!(
                "the values of one chart share an axis: `{}` is in {} but `{}` is in {}",
                first.name, first.unit.symbol, this.name, this.unit.symbol
            )));
        }
    }
    // A bar chart's `x` names its bars (as `label` does); a line or scatter chart's is its
    // horizontal axis.
    let (xcol, label_name) = match kind {
        Kind::Bar => (None, label.or(x)),
        Kind::Line | Kind::Scatter => {
            let Some(x) = x else {
                return Err(invalid(format!(
                    "a {kind_name} chart needs `x=`, the column of its horizontal axis"
                )));
            };
            let c = table_column(model, ds, &x)?;
            numeric(&c, "x")?;
            (Some(c), label)
        }
    };
    let label_col = match label_name {
        Some(l) => Some(table_column(model, ds, &l)?),
        None => d.label.map(|col| TableCol { via: None, ds, col }),
    };
    let (log_x, log_y) = match &log {
        None => (false, false),
        Some(v) if v.kind() == minijinja::value::ValueKind::Bool => {
            let on = v.is_true();
            if kind == Kind::Bar {
                (on, false)
            } else {
                (false, on)
            }
        }
        Some(v) => match v.as_str() {
            Some("x") => (true, false),
            Some("y") => (false, true),
            Some("xy") => (true, true),
            _ => {
                return Err(invalid(
                    "`log=` is true (the value axis), \"x\", \"y\" or \"xy\"",
                ))
            }
        },
    };
    let mut rows = filtered_rows(model, ds, filter.as_deref())?;
    if let Some(s) = &sort {
        sort_rows(model, ds, &mut rows, s)?;
    } else if let Some(c) = xcol.filter(|_| kind == Kind::Line) {
        // A line goes from left to right.
        let key = |r: usize| {
            c.value_ref(model, ds, r)
                .and_then(|at| model.get(at).1.number())
                .unwrap_or(f64::INFINITY)
        };
        rows.sort_by(|&a, &b| key(a).total_cmp(&key(b)));
    }
    // A log axis cannot show zero or less: say which row has such a value.
    let log_cols: Vec<&TableCol> = match kind {
        Kind::Bar if log_x => ys.iter().collect(),
        _ => ys
            .iter()
            .filter(|_| log_y)
            .chain(xcol.iter().filter(|_| log_x))
            .collect(),
    };
    for c in log_cols {
        for &r in &rows {
            let at = c.value_ref(model, ds, r);
            if let Some(n) = at.and_then(|at| model.get(at).1.number()) {
                if n <= 0.0 {
                    return Err(invalid(format!(
                        "a log scale cannot show `{}` of row `{}`, which is not above zero",
                        c.field(model).name,
                        d.row_keys[r]
                    )));
                }
            }
        }
    }
    let reference = match reference {
        None => None,
        Some(v) => {
            let yfield = ys[0].field(model);
            if let Some(cell) = v.downcast_object_ref::<CellObj>() {
                let (field, value) = model.get(cell.at);
                if field.unit.dim != yfield.unit.dim {
                    return Err(invalid(format!(
                        "`ref=` is in {}, but the chart's values are in {}",
                        field.unit.symbol, yfield.unit.symbol
                    )));
                }
                let n = value
                    .number()
                    .ok_or_else(|| invalid("`ref=` has no number"))?;
                scope.record(cell.at);
                // Named by its row where it has one: `Claude Sonnet 4.6: 1,470`.
                let whose = match cell.at {
                    ValueRef::Cell { ds, row, .. } => model.data.datasets[ds].row_label(row),
                    ValueRef::Global(_) => field.title.clone(),
                };
                let name = ref_label
                    .clone()
                    .unwrap_or_else(|| format!("{whose}: {}", model.display(field, value)));
                Some((n / yfield.unit.factor, name))
            } else if let Some(n) = f64::try_from(v.clone()).ok().filter(|n| n.is_finite()) {
                Some((
                    n,
                    ref_label.clone().unwrap_or_else(|| format_number_plain(n)),
                ))
            } else {
                return Err(invalid("`ref=` is a figure (`ref=api_baseline_eur_per_mtok`) or a number in the chart's unit"));
            }
        }
    };
    let title =
        title.unwrap_or_else(|| format!("{} by {}", ys[0].field(model).title, d.meta.title));
    let spec = Spec {
        kind,
        ds,
        label: label_col,
        x: xcol,
        ys,
        rows,
        title,
        description,
        reference,
        log_x,
        log_y,
    };
    {
        let values = crate::chart::values(model, &spec);
        let mut rec = scope.lock();
        rec.datasets.insert(ds);
        rec.reads.whole.insert(ds);
        rec.values.extend(values);
    }
    let html = crate::chart::render(model, &spec);
    Ok(format!("\n\n{}\n\n", scope.block(html)))
}

fn format_number_plain(n: f64) -> String {
    crate::format::format_number(n, crate::format::default_decimals(n))
}

/// `errata()`: the table of printed figures that disagree with the recomputed ones.
fn errata(state: &State) -> Result<String, Error> {
    let scope = scope(state)?;
    let html = crate::errata::render(&scope.model, &scope.errata, &scope.root);
    {
        let mut rec = scope.lock();
        for e in scope.errata.iter() {
            rec.values.insert(e.value);
        }
    }
    Ok(format!("\n\n{}\n\n", scope.block(html)))
}

/// HTML-escapes text for the tables and charts the functions build.
pub fn html(text: &str) -> String {
    escape_html(text)
}
