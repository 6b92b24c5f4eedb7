//! Stage 3: formula evaluation.
//!
//! Input: [`Datasets`] with input cells. Output: a [`Model`] in which every derived column and
//! named figure is computed. Formulas are parsed, resolved and unit-checked first (all errors
//! reported together), then evaluated in dependency order: a column at a time, its rows in
//! parallel. Ties in the order are broken by name, so the order (and any error report) is the
//! same on every run.

pub mod compile;
pub mod eval;
mod graph;
pub mod parse;

use std::collections::BTreeMap;

use rayon::prelude::*;

use compile::{field_ty, same_type, CompileError};
pub use compile::{is_function_name, Compiled, Dep, Ty, V};
pub use eval::{inputs, Ctx, EvalError, Override, Read};
use parse::Span;

use crate::data::{ColType, Datasets, Field, FormulaSrc, Value};
use crate::diag::{Diagnostic, Diagnostics};
use crate::model::Model;
use crate::source::{Pos, SourceMap};

/// How many failing rows of one column are reported before the rest are summed up.
const MAX_ROW_ERRORS: usize = 5;

/// The position of a span of a formula in its source file.
pub fn span_pos(src: &FormulaSrc, span: Span, sources: &SourceMap) -> Pos {
    let before = src
        .text
        .get(..span.start.min(src.text.len()))
        .unwrap_or_default();
    let len = src
        .text
        .get(span.start..span.end.min(src.text.len()))
        .map_or(1, |s| s.chars().count().max(1)) as u32;
    match before.rfind('\n') {
        None => src.pos.shifted(before.chars().count() as u32, len),
        Some(nl) => {
            let line = src.pos.line + before.matches('\n').count() as u32;
            let file = sources.get(src.pos.file);
            let indent = file
                .line_text(line)
                .map_or(0, |l| l.chars().take_while(|c| *c == ' ').count())
                as u32;
            Pos {
                file: src.pos.file,
                line,
                col: indent + 1 + before[nl + 1..].chars().count() as u32,
                len,
            }
        }
    }
}

/// Compiles a formula written somewhere (a data file, an article) and turns errors into
/// diagnostics at its position.
pub fn compile_at(
    src: &FormulaSrc,
    data: &Datasets,
    row_ds: Option<usize>,
    sources: &SourceMap,
) -> Result<Compiled, Diagnostic> {
    let expr = parse::parse(&src.text).map_err(|e| {
        let mut d = Diagnostic::error(format!("invalid formula: {}", e.message))
            .at(sources, span_pos(src, e.span, sources));
        if let Some(h) = e.help {
            d = d.help(h);
        }
        d
    })?;
    compile::compile(&expr, data, row_ds).map_err(|e| compile_error(e, src, sources))
}

fn compile_error(e: CompileError, src: &FormulaSrc, sources: &SourceMap) -> Diagnostic {
    let mut d = Diagnostic::error(e.message).at(sources, span_pos(src, e.span, sources));
    if let Some(l) = e.label {
        d = d.label(l);
    }
    for h in e.help {
        d = d.help(h);
    }
    d
}

/// Turns an evaluation error into a diagnostic naming where it happened.
pub fn eval_error(
    e: &EvalError,
    src: &FormulaSrc,
    context: &str,
    sources: &SourceMap,
) -> Diagnostic {
    // "`x` of row `r` is empty" repeats the row the context names.
    let mut message = e.message.clone();
    if let Some(row) = context.split(", ").find(|p| p.starts_with("row `")) {
        message = message.replace(&format!(" of {row}"), "");
    }
    let mut d = Diagnostic::error(format!("{message} in {context}"))
        .at(sources, span_pos(src, e.span, sources))
        .note(format!("formula: {}", src.text.trim()));
    if let Some(h) = &e.help {
        d = d.help(h.clone());
    }
    d
}

/// A derived field: a dataset column or a named figure.
fn derived_fields(data: &Datasets) -> Vec<(Dep, &Field)> {
    let mut out = Vec::new();
    for (gi, g) in data.globals.iter().enumerate() {
        if g.field.is_derived() {
            out.push((Dep::Global(gi), &g.field));
        }
    }
    for (di, d) in data.datasets.iter().enumerate() {
        for (ci, c) in d.columns.iter().enumerate() {
            if c.field.is_derived() {
                out.push((Dep::Column(di, ci), &c.field));
            }
        }
    }
    out
}

/// The name of a dependency-graph node as editors write it.
pub fn dep_name(dep: Dep, data: &Datasets) -> String {
    match dep {
        Dep::Global(g) => data.globals[g].field.name.clone(),
        Dep::Column(d, c) => format!(
            "{}.{}",
            data.datasets[d].name, data.datasets[d].columns[c].field.name
        ),
    }
}

/// The field behind a dependency-graph node.
pub fn dep_field(dep: Dep, data: &Datasets) -> &Field {
    match dep {
        Dep::Global(g) => &data.globals[g].field,
        Dep::Column(d, c) => &data.datasets[d].columns[c].field,
    }
}

/// Computes every derived column and figure.
pub fn evaluate(mut data: Datasets, sources: &SourceMap) -> Result<Model, Diagnostics> {
    let mut diags = Diagnostics::default();
    let mut compiled: BTreeMap<Dep, Compiled> = BTreeMap::new();
    for (dep, field) in derived_fields(&data) {
        let src = field
            .formula
            .as_ref()
            .expect("derived fields have formulas");
        let row_ds = match dep {
            Dep::Column(d, _) => Some(d),
            Dep::Global(_) => None,
        };
        match compile_at(src, &data, row_ds, sources) {
            Ok(c) => {
                if let Err(d) = check_declared_type(field, &c.ty, &data, sources) {
                    diags.push(d);
                } else {
                    compiled.insert(dep, c);
                }
            }
            Err(d) => diags.push(d),
        }
    }
    if diags.has_errors() {
        return Err(diags);
    }
    let order = match graph::order(&compiled, &data) {
        Ok(o) => o,
        Err(cycle) => return Err(graph::cycle_diagnostic(&cycle, &data, sources).into()),
    };
    for dep in order {
        let c = &compiled[&dep];
        match dep {
            Dep::Global(g) => {
                let src = data.globals[g].field.formula.clone().expect("derived");
                match eval::eval(&c.ir, Ctx::global(&data)) {
                    Ok(v) => data.globals[g].value = eval::v_to_cell(v),
                    Err(e) => {
                        let ctx = format!("figure `{}`", data.globals[g].field.name);
                        diags.push(eval_error(&e, &src, &ctx, sources));
                    }
                }
            }
            Dep::Column(d, col) => {
                let ds = &data.datasets[d];
                // An aggregate gives the same value for every row: compute it once, not per row
                // (a column relative to the best of 100,000 rows would otherwise cost 10^10 steps).
                let ir = eval::hoist_aggregates(&c.ir, &data);
                let keep_range = ds.columns[col].field.range;
                let results: Vec<Result<Value, EvalError>> = (0..ds.len())
                    .into_par_iter()
                    .map(|row| {
                        let ctx = Ctx::row(&data, d, row);
                        if let Some(end) = keep_range {
                            if let Some(r) = eval::read_range(&ir, ctx)? {
                                let rep = end.pick(r.lo, r.hi);
                                return Ok(Value::Range(Box::new(crate::data::Range { rep, ..r })));
                            }
                        }
                        eval::eval(&ir, ctx).map(eval::v_to_cell)
                    })
                    .collect();
                let src = ds.columns[col].field.formula.clone().expect("derived");
                let mut cells = Vec::with_capacity(results.len());
                let mut failures = 0;
                for (row, r) in results.into_iter().enumerate() {
                    match r {
                        Ok(v) => cells.push(v),
                        Err(e) => {
                            failures += 1;
                            if failures <= MAX_ROW_ERRORS {
                                let ctx = format!(
                                    "dataset `{}`, row `{}`, column `{}`",
                                    ds.name, ds.row_keys[row], ds.columns[col].field.name
                                );
                                diags.push(eval_error(&e, &src, &ctx, sources));
                            }
                            cells.push(Value::Missing);
                        }
                    }
                }
                if failures > MAX_ROW_ERRORS {
                    diags.push(
                        Diagnostic::error(format!(
                            "{} more rows of `{}` fail in column `{}`",
                            failures - MAX_ROW_ERRORS,
                            ds.name,
                            ds.columns[col].field.name
                        ))
                        .at(sources, src.pos),
                    );
                }
                data.datasets[d].columns[col].cells = cells;
            }
        }
    }
    diags.into_result(Model::new(data, compiled))
}

/// A derived field's formula must give what the field declares: its type, and a number in a
/// unit compatible with the declared one.
fn check_declared_type(
    field: &Field,
    ty: &Ty,
    data: &Datasets,
    sources: &SourceMap,
) -> Result<(), Diagnostic> {
    let declared = field_ty(field, data);
    if same_type(&declared, ty) {
        return Ok(());
    }
    let src = field.formula.as_ref().expect("derived");
    let mut d = Diagnostic::error(format!(
        "the formula of `{}` gives {}, but `{}` is declared as {}",
        field.name,
        ty.describe(data),
        field.name,
        declared.describe(data)
    ))
    .at(sources, src.pos)
    .label("formula result");
    d = match (ty, &field.ty) {
        (Ty::Num(dim, _), ColType::Number | ColType::Integer) => d.note(format!(
            "in base units the formula gives {} where `{}` needs {}",
            dim.describe(),
            field.unit.symbol,
            field.unit.dim.describe()
        ))
        .help("check the formula for a missing or extra factor (a rate, hours per month, a unit literal like `1[tok]`), or fix the declared `unit:`"),
        (Ty::Text, _) => d.help("add `type: text` to the column's settings"),
        (Ty::Bool, _) => d.help("add `type: bool` to the column's settings"),
        _ => d,
    };
    Err(d)
}
