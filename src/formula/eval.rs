//! Evaluating a compiled formula for one row (or for no row, for figures and claims).
//! Errors name the offending span: a division by zero at its `/`, an empty cell at its name.

use std::sync::Arc;

use super::compile::{AggKind, Func, Ir, RowSel, V};
use super::parse::{BinOp, Span};
use crate::data::{Datasets, Range, Value};

/// A problem met while evaluating.
#[derive(Clone, Debug)]
pub struct EvalError {
    pub message: String,
    pub span: Span,
    pub help: Option<String>,
}

fn fail<T>(message: impl Into<String>, span: Span) -> Result<T, EvalError> {
    Err(EvalError {
        message: message.into(),
        span,
        help: None,
    })
}

/// One input replaced by another value, to ask "what would this input have to be?".
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Override {
    Col(usize, f64),
    Global(usize, f64),
    Cell {
        ds: usize,
        row: usize,
        col: usize,
        value: f64,
    },
}

/// Where a formula is evaluated: which dataset's row is current, if any.
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    pub data: &'a Datasets,
    pub ds: Option<usize>,
    pub row: usize,
    pub overriding: Option<Override>,
}

impl<'a> Ctx<'a> {
    /// A context without a current row.
    pub fn global(data: &'a Datasets) -> Ctx<'a> {
        Ctx {
            data,
            ds: None,
            row: 0,
            overriding: None,
        }
    }

    /// A context for one row of a dataset.
    pub fn row(data: &'a Datasets, ds: usize, row: usize) -> Ctx<'a> {
        Ctx {
            data,
            ds: Some(ds),
            row,
            overriding: None,
        }
    }
}

fn cell_to_v(value: &Value) -> Option<V> {
    Some(match value {
        Value::Missing => return None,
        Value::Num(n) => V::Num(*n),
        Value::Range(r) => V::Num(r.rep),
        Value::Text(t) => V::Text(t.clone()),
        Value::Bool(b) => V::Bool(*b),
        Value::Date(d) => V::Date(d.clone()),
        Value::Ref(r) => V::Row(*r),
    })
}

/// The range a formula that only reads one value (`gpu.tok_s`, or one of the branches of
/// `a if present(a) else gpu.tok_s`) reads, if that value is a range: a derived column with
/// `range:` keeps it whole, so a fact stored once shows as written wherever it is referred to.
pub fn read_range(ir: &Ir, ctx: Ctx) -> Result<Option<Range>, EvalError> {
    let cell = match ir {
        Ir::Cond(c, t, o) => {
            return match eval(c, ctx)? {
                V::Bool(true) => read_range(t, ctx),
                V::Bool(false) => read_range(o, ctx),
                _ => Ok(None),
            }
        }
        Ir::Col(c, _) => {
            let ds = ctx
                .ds
                .expect("a column is only compiled with a row in scope");
            &ctx.data.datasets[ds].columns[*c].cells[ctx.row]
        }
        Ir::Field { ds, row, col, .. } => {
            let Some(r) = row_of(row, ctx)? else {
                return Ok(None);
            };
            &ctx.data.datasets[*ds].columns[*col].cells[r]
        }
        _ => return Ok(None),
    };
    Ok(match cell {
        Value::Range(r) => Some(**r),
        _ => None,
    })
}

/// Converts a computed value back into a cell value.
pub fn v_to_cell(v: V) -> Value {
    match v {
        V::Num(n) => Value::Num(n),
        V::Text(t) => Value::Text(t),
        V::Bool(b) => Value::Bool(b),
        V::Date(d) => Value::Date(d),
        V::Row(r) => Value::Ref(r),
    }
}

/// Reads a referenced value without evaluating anything else (for `present`, and for
/// explaining a claim).
pub fn read(ir: &Ir, ctx: Ctx) -> Result<Option<V>, EvalError> {
    match ir {
        Ir::Col(c, _) => {
            if let Some(Override::Col(oc, v)) = ctx.overriding {
                if oc == *c {
                    return Ok(Some(V::Num(v)));
                }
            }
            let ds = ctx
                .ds
                .expect("a column is only compiled with a row in scope");
            Ok(cell_to_v(&ctx.data.datasets[ds].columns[*c].cells[ctx.row]))
        }
        Ir::Global(g, _) => {
            if let Some(Override::Global(og, v)) = ctx.overriding {
                if og == *g {
                    return Ok(Some(V::Num(v)));
                }
            }
            Ok(cell_to_v(&ctx.data.globals[*g].value))
        }
        Ir::Field { ds, row, col, .. } => {
            let Some(r) = row_of(row, ctx)? else {
                return Ok(None);
            };
            if let Some(Override::Cell {
                ds: o_ds,
                row: o_row,
                col: o_col,
                value,
            }) = ctx.overriding
            {
                if (o_ds, o_row, o_col) == (*ds, r, *col) {
                    return Ok(Some(V::Num(value)));
                }
            }
            Ok(cell_to_v(&ctx.data.datasets[*ds].columns[*col].cells[r]))
        }
        other => eval(other, ctx).map(Some),
    }
}

/// The row a field is read from: a fixed row, or the one a `ref:` value points to (none when
/// the reference is missing).
fn row_of(row: &RowSel, ctx: Ctx) -> Result<Option<usize>, EvalError> {
    Ok(match row {
        RowSel::Fixed(r) => Some(*r as usize),
        RowSel::Via(inner) => match eval(inner, ctx)? {
            V::Row(r) => Some(r as usize),
            _ => None,
        },
    })
}

/// A value a formula reads directly: what a reader is shown as its inputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Read {
    Global(usize),
    Cell {
        ds: usize,
        row: usize,
        col: usize,
    },
    /// A column of every row of a dataset (an aggregate such as `max(arena.elo)`).
    Column {
        ds: usize,
        col: usize,
    },
}

/// The values a formula reads in `ctx`, in the order it names them, each once: the columns of
/// the current row, parameters and figures, the cells of rows it looks up (through a `ref:`
/// value too) and the columns it aggregates. Both branches of a conditional count.
pub fn inputs(ir: &Ir, ctx: Ctx) -> Vec<Read> {
    fn push(out: &mut Vec<Read>, r: Read) {
        if !out.contains(&r) {
            out.push(r);
        }
    }
    fn walk(ir: &Ir, ctx: Ctx, agg: Option<usize>, out: &mut Vec<Read>) {
        match ir {
            Ir::Const(_) => {}
            Ir::Col(col, _) => match (agg, ctx.ds) {
                (Some(ds), _) => push(out, Read::Column { ds, col: *col }),
                (None, Some(ds)) => push(
                    out,
                    Read::Cell {
                        ds,
                        row: ctx.row,
                        col: *col,
                    },
                ),
                (None, None) => {}
            },
            Ir::Global(g, _) => push(out, Read::Global(*g)),
            Ir::Field { ds, row, col, .. } => {
                if let RowSel::Via(inner) = row {
                    walk(inner, ctx, agg, out);
                }
                if agg.is_some() {
                    push(out, Read::Column { ds: *ds, col: *col });
                } else if let Ok(Some(r)) = row_of(row, ctx) {
                    push(
                        out,
                        Read::Cell {
                            ds: *ds,
                            row: r,
                            col: *col,
                        },
                    );
                }
            }
            Ir::Neg(a) | Ir::Not(a) | Ir::Present(a) => walk(a, ctx, agg, out),
            Ir::Bin(_, a, b, _) => {
                walk(a, ctx, agg, out);
                walk(b, ctx, agg, out);
            }
            Ir::Cond(a, b, c) => {
                walk(a, ctx, agg, out);
                walk(b, ctx, agg, out);
                walk(c, ctx, agg, out);
            }
            Ir::Func(_, args, _) => args.iter().for_each(|a| walk(a, ctx, agg, out)),
            Ir::Agg {
                ds, value, filter, ..
            } => {
                for part in [value, filter].into_iter().flatten() {
                    walk(part, ctx, Some(*ds), out);
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(ir, ctx, None, &mut out);
    out
}

/// The name of what an expression reads, for "missing value" messages.
fn describe_ref(ir: &Ir, ctx: Ctx) -> String {
    match ir {
        Ir::Col(c, _) => {
            let d = &ctx.data.datasets[ctx.ds.unwrap_or(0)];
            format!(
                "`{}` of row `{}`",
                d.columns[*c].field.name,
                d.row_keys.get(ctx.row).map_or("", |k| &**k)
            )
        }
        Ir::Global(g, _) => format!("`{}`", ctx.data.globals[*g].field.name),
        Ir::Field { ds, col, .. } => {
            let d = &ctx.data.datasets[*ds];
            format!("`{}.{}`", d.name, d.columns[*col].field.name)
        }
        _ => "a value".into(),
    }
}

fn span_of(ir: &Ir) -> Span {
    match ir {
        Ir::Col(_, s) | Ir::Global(_, s) | Ir::Bin(_, _, _, s) | Ir::Func(_, _, s) => *s,
        Ir::Field { span, .. } | Ir::Agg { span, .. } => *span,
        Ir::Neg(i) | Ir::Not(i) | Ir::Present(i) => span_of(i),
        Ir::Cond(_, t, _) => span_of(t),
        Ir::Const(_) => Span::default(),
    }
}

/// Evaluates a compiled formula.
pub fn eval(ir: &Ir, ctx: Ctx) -> Result<V, EvalError> {
    match ir {
        Ir::Const(v) => Ok(v.clone()),
        Ir::Col(..) | Ir::Global(..) | Ir::Field { .. } => match read(ir, ctx)? {
            Some(v) => Ok(v),
            None => Err(EvalError {
                message: format!("{} is empty", describe_ref(ir, ctx)),
                span: span_of(ir),
                help: Some(
                    "fill in the value, or guard the formula: `x if present(x) else ...`".into(),
                ),
            }),
        },
        Ir::Present(inner) => Ok(V::Bool(read(inner, ctx)?.is_some())),
        Ir::Neg(inner) => match eval(inner, ctx)? {
            V::Num(n) => Ok(V::Num(-n)),
            _ => fail("expected a number", span_of(inner)),
        },
        Ir::Not(inner) => match eval(inner, ctx)? {
            V::Bool(b) => Ok(V::Bool(!b)),
            _ => fail("expected true/false", span_of(inner)),
        },
        Ir::Cond(c, t, o) => match eval(c, ctx)? {
            V::Bool(true) => eval(t, ctx),
            V::Bool(false) => eval(o, ctx),
            _ => fail("expected true/false", span_of(c)),
        },
        Ir::Bin(op, l, r, span) => binary(*op, l, r, *span, ctx),
        Ir::Func(f, args, span) => func(*f, args, *span, ctx),
        Ir::Agg {
            kind,
            ds,
            value,
            filter,
            span,
        } => aggregate(*kind, *ds, value.as_deref(), filter.as_deref(), *span, ctx),
    }
}

fn num(ir: &Ir, ctx: Ctx) -> Result<f64, EvalError> {
    match eval(ir, ctx)? {
        V::Num(n) => Ok(n),
        _ => fail("expected a number", span_of(ir)),
    }
}

fn finite(n: f64, span: Span, what: &str) -> Result<V, EvalError> {
    if n.is_finite() {
        Ok(V::Num(n))
    } else {
        fail(format!("{what} gives no finite number"), span)
    }
}

fn binary(op: BinOp, l: &Ir, r: &Ir, span: Span, ctx: Ctx) -> Result<V, EvalError> {
    match op {
        BinOp::And => match eval(l, ctx)? {
            V::Bool(false) => Ok(V::Bool(false)),
            _ => eval(r, ctx),
        },
        BinOp::Or => match eval(l, ctx)? {
            V::Bool(true) => Ok(V::Bool(true)),
            _ => eval(r, ctx),
        },
        BinOp::Add => finite(num(l, ctx)? + num(r, ctx)?, span, "this sum"),
        BinOp::Sub => finite(num(l, ctx)? - num(r, ctx)?, span, "this difference"),
        BinOp::Mul => finite(num(l, ctx)? * num(r, ctx)?, span, "this product"),
        BinOp::Div => {
            let a = num(l, ctx)?;
            let b = num(r, ctx)?;
            if b == 0.0 {
                return Err(EvalError {
                    message: "division by zero".into(),
                    span,
                    help: Some(format!("the divisor {} is zero here", describe_ref(r, ctx))),
                });
            }
            finite(a / b, span, "this division")
        }
        BinOp::Pow => finite(num(l, ctx)?.powf(num(r, ctx)?), span, "this power"),
        BinOp::Concat => {
            let text = |v: V| match v {
                V::Text(t) | V::Date(t) => t.to_string(),
                V::Num(n) => n.to_string(),
                V::Bool(b) => b.to_string(),
                V::Row(r) => r.to_string(),
            };
            Ok(V::Text(Arc::from(
                text(eval(l, ctx)?) + &text(eval(r, ctx)?),
            )))
        }
        BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
            let a = eval(l, ctx)?;
            let b = eval(r, ctx)?;
            let ord = match (&a, &b) {
                (V::Num(x), V::Num(y)) => x.partial_cmp(y),
                (V::Text(x), V::Text(y)) | (V::Date(x), V::Date(y)) => Some(x.cmp(y)),
                (V::Bool(x), V::Bool(y)) => Some(x.cmp(y)),
                (V::Row(x), V::Row(y)) => Some(x.cmp(y)),
                _ => None,
            };
            let Some(ord) = ord else {
                return fail("these values cannot be compared", span);
            };
            use std::cmp::Ordering::*;
            Ok(V::Bool(match op {
                BinOp::Eq => ord == Equal,
                BinOp::Ne => ord != Equal,
                BinOp::Lt => ord == Less,
                BinOp::Le => ord != Greater,
                BinOp::Gt => ord == Greater,
                _ => ord != Less,
            }))
        }
    }
}

fn func(f: Func, args: &[Ir], span: Span, ctx: Ctx) -> Result<V, EvalError> {
    let mut xs = Vec::with_capacity(args.len());
    for a in args {
        xs.push(num(a, ctx)?);
    }
    let x = xs[0];
    let r = match f {
        Func::Min => xs.iter().copied().fold(f64::INFINITY, f64::min),
        Func::Max => xs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        Func::Abs => x.abs(),
        Func::Floor => x.floor(),
        Func::Ceil => x.ceil(),
        Func::Round => {
            let p = 10f64.powi(xs.get(1).copied().unwrap_or(0.0).clamp(-12.0, 12.0) as i32);
            (x * p).round() / p
        }
        Func::Sqrt | Func::Log2 | Func::Log10 | Func::Ln
            if x < 0.0 || (x == 0.0 && f != Func::Sqrt) =>
        {
            return fail(
                "this function is undefined for zero or negative numbers",
                span,
            )
        }
        Func::Sqrt => x.sqrt(),
        Func::Log2 => x.log2(),
        Func::Log10 => x.log10(),
        Func::Ln => x.ln(),
    };
    finite(r, span, "this function")
}

fn aggregate(
    kind: AggKind,
    ds: usize,
    value: Option<&Ir>,
    filter: Option<&Ir>,
    span: Span,
    ctx: Ctx,
) -> Result<V, EvalError> {
    let n = ctx.data.datasets[ds].len();
    let mut count = 0usize;
    let mut acc: Option<f64> = None;
    let mut sum = 0.0;
    for row in 0..n {
        let inner = Ctx {
            data: ctx.data,
            ds: Some(ds),
            row,
            overriding: None,
        };
        if let Some(f) = filter {
            if eval(f, inner)? != V::Bool(true) {
                continue;
            }
        }
        match kind {
            AggKind::Count => count += 1,
            AggKind::All | AggKind::Any => {
                let v = eval(value.expect("compiled with a condition"), inner)? == V::Bool(true);
                if kind == AggKind::All && !v {
                    return Ok(V::Bool(false));
                }
                if kind == AggKind::Any && v {
                    return Ok(V::Bool(true));
                }
            }
            _ => {
                // Empty cells are skipped, as in a spreadsheet's MAX or SUM.
                let Some(V::Num(x)) = read(value.expect("compiled with a column"), inner)? else {
                    continue;
                };
                count += 1;
                sum += x;
                acc = Some(match (kind, acc) {
                    (AggKind::Min, Some(a)) => a.min(x),
                    (AggKind::Max, Some(a)) => a.max(x),
                    (_, _) => x,
                });
            }
        }
    }
    match kind {
        AggKind::Count => Ok(V::Num(count as f64)),
        AggKind::All => Ok(V::Bool(true)),
        AggKind::Any => Ok(V::Bool(false)),
        _ if count == 0 => Err(EvalError {
            message: format!(
                "no row of `{}` has a value here",
                ctx.data.datasets[ds].name
            ),
            span,
            help: Some("check the `where=` condition".into()),
        }),
        AggKind::Sum => finite(sum, span, "this sum"),
        AggKind::Mean => finite(sum / count as f64, span, "this mean"),
        _ => Ok(V::Num(acc.unwrap_or(0.0))),
    }
}

/// A copy of a formula in which every aggregate is replaced by its value. Aggregates read other
/// rows only, so their value is the same for every row of the column being computed. An
/// aggregate that fails is left in place, so that it fails (with its position) only in the rows
/// that actually evaluate it.
pub fn hoist_aggregates(ir: &Ir, data: &Datasets) -> Ir {
    let hoist = |i: &Ir| Box::new(hoist_aggregates(i, data));
    match ir {
        Ir::Agg { .. } => match eval(ir, Ctx::global(data)) {
            Ok(v) => Ir::Const(v),
            Err(_) => ir.clone(),
        },
        Ir::Neg(a) => Ir::Neg(hoist(a)),
        Ir::Not(a) => Ir::Not(hoist(a)),
        Ir::Present(a) => Ir::Present(hoist(a)),
        Ir::Bin(op, a, b, span) => Ir::Bin(*op, hoist(a), hoist(b), *span),
        Ir::Cond(a, b, c) => Ir::Cond(hoist(a), hoist(b), hoist(c)),
        Ir::Func(f, args, span) => Ir::Func(
            *f,
            args.iter().map(|a| hoist_aggregates(a, data)).collect(),
            *span,
        ),
        Ir::Field {
            ds,
            row: RowSel::Via(inner),
            col,
            span,
        } => Ir::Field {
            ds: *ds,
            row: RowSel::Via(hoist(inner)),
            col: *col,
            span: *span,
        },
        other => other.clone(),
    }
}
