//! Resolving and checking a parsed formula against the data: every name is looked up (a row's
//! own column, a parameter or figure, a dataset), every operation is type- and unit-checked, and
//! the result is an [`Ir`] tree ready to evaluate, with the formula's dependencies.
//!
//! Checking happens once per formula when the data loads, not once per row.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::parse::{BinOp, Expr, ExprKind, Span, UnOp};
use crate::data::{ColType, Datasets, Field};
use crate::diag::did_you_mean;
use crate::units::{Dim, Unit};

/// The static type of a formula or sub-expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Ty {
    /// A number with a dimension; `unit` is the unit it was written in, for messages.
    Num(Dim, Option<String>),
    Text,
    Bool,
    Date,
    /// A row of a dataset.
    Row(usize),
    /// A whole dataset (only as the argument of an aggregate or before `["key"]`).
    Dataset(usize),
    /// A whole column (only as the argument of an aggregate).
    ColumnOf(usize, usize),
}

impl Ty {
    /// How the type reads in a message.
    pub fn describe(&self, data: &Datasets) -> String {
        match self {
            Ty::Num(d, Some(u)) if !u.is_empty() => format!("a number in {u}"),
            Ty::Num(d, _) if d.is_none() => "a plain number".into(),
            Ty::Num(d, _) => format!("a number in {}", d.describe()),
            Ty::Text => "text".into(),
            Ty::Bool => "true/false".into(),
            Ty::Date => "a date".into(),
            Ty::Row(ds) => format!("a row of `{}`", data.datasets[*ds].name),
            Ty::Dataset(ds) => format!("the dataset `{}`", data.datasets[*ds].name),
            Ty::ColumnOf(ds, c) => {
                let d = &data.datasets[*ds];
                format!("the whole column `{}.{}`", d.name, d.columns[*c].field.name)
            }
        }
    }

    fn dim(&self) -> Option<Dim> {
        match self {
            Ty::Num(d, _) => Some(*d),
            _ => None,
        }
    }
}

/// A value during evaluation. Numbers are in base units.
#[derive(Clone, Debug, PartialEq)]
pub enum V {
    Num(f64),
    Text(Arc<str>),
    Bool(bool),
    Date(Arc<str>),
    Row(u32),
}

/// Which row a field is read from.
#[derive(Clone, Debug)]
pub enum RowSel {
    /// A row named by key in the formula.
    Fixed(u32),
    /// The row an expression (a `ref:` cell) points to.
    Via(Box<Ir>),
}

/// Scalar functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Func {
    Min,
    Max,
    Abs,
    Floor,
    Ceil,
    Round,
    Sqrt,
    Log2,
    Log10,
    Ln,
}

/// Aggregates over the rows of a dataset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AggKind {
    Min,
    Max,
    Sum,
    Mean,
    Count,
    All,
    Any,
}

/// A checked formula, ready to evaluate.
#[derive(Clone, Debug)]
pub enum Ir {
    Const(V),
    /// A column of the current row.
    Col(usize, Span),
    /// A parameter or figure.
    Global(usize, Span),
    /// A column of another row.
    Field {
        ds: usize,
        row: RowSel,
        col: usize,
        span: Span,
    },
    Neg(Box<Ir>),
    Not(Box<Ir>),
    Bin(BinOp, Box<Ir>, Box<Ir>, Span),
    Cond(Box<Ir>, Box<Ir>, Box<Ir>),
    Func(Func, Vec<Ir>, Span),
    /// Whether a value is present (not an empty cell).
    Present(Box<Ir>),
    Agg {
        kind: AggKind,
        ds: usize,
        value: Option<Box<Ir>>,
        filter: Option<Box<Ir>>,
        span: Span,
    },
}

/// Something a formula reads: the unit of the dependency graph.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Dep {
    Global(usize),
    Column(usize, usize),
}

/// A compiled formula with its type and what it reads.
#[derive(Clone, Debug)]
pub struct Compiled {
    pub ir: Ir,
    pub ty: Ty,
    pub deps: BTreeSet<Dep>,
}

/// A problem found while checking a formula.
#[derive(Clone, Debug)]
pub struct CompileError {
    pub message: String,
    pub span: Span,
    pub label: Option<String>,
    pub help: Vec<String>,
}

impl CompileError {
    fn new(message: impl Into<String>, span: Span) -> CompileError {
        CompileError {
            message: message.into(),
            span,
            label: None,
            help: Vec::new(),
        }
    }
    fn label(mut self, l: impl Into<String>) -> Self {
        self.label = Some(l.into());
        self
    }
    fn help(mut self, h: impl Into<String>) -> Self {
        self.help.push(h.into());
        self
    }
}

/// The static type of a column, parameter or figure.
pub fn field_ty(field: &Field, data: &Datasets) -> Ty {
    match &field.ty {
        ColType::Number | ColType::Integer => Ty::Num(
            field.unit.dim,
            Some(field.unit.symbol.clone()).filter(|s| !s.is_empty()),
        ),
        ColType::Text => Ty::Text,
        ColType::Bool => Ty::Bool,
        ColType::Date => Ty::Date,
        ColType::Ref(target) => data.by_name.get(target).map_or(Ty::Text, |&d| Ty::Row(d)),
    }
}

/// Compiles a formula. `row_ds` is the dataset whose row is in scope (None for figures,
/// claims and other formulas that belong to no row).
pub fn compile(
    expr: &Expr,
    data: &Datasets,
    row_ds: Option<usize>,
) -> Result<Compiled, CompileError> {
    let mut c = Compiler {
        data,
        deps: BTreeSet::new(),
    };
    let (ir, ty) = c.expr(expr, row_ds)?;
    match ty {
        Ty::Dataset(_) | Ty::ColumnOf(..) => Err(CompileError::new(
            format!("{} is not a single value", ty.describe(data)),
            expr.span,
        )
        .help(
            "look up one row with `dataset[\"key\"].column`, or aggregate: `max(dataset.column)`",
        )),
        ty => Ok(Compiled {
            ir,
            ty,
            deps: c.deps,
        }),
    }
}

struct Compiler<'a> {
    data: &'a Datasets,
    deps: BTreeSet<Dep>,
}

const FUNCTIONS: &[&str] = &[
    "min", "max", "sum", "mean", "count", "all", "any", "abs", "floor", "ceil", "round", "sqrt",
    "log2", "log10", "ln", "present",
];

/// Whether `name` is a function of the formula language (and so cannot name a dataset).
pub fn is_function_name(name: &str) -> bool {
    FUNCTIONS.contains(&name)
}

impl Compiler<'_> {
    fn expr(&mut self, e: &Expr, scope: Option<usize>) -> Result<(Ir, Ty), CompileError> {
        match &e.kind {
            ExprKind::Num(n) => Ok((Ir::Const(V::Num(*n)), Ty::Num(Dim::NONE, None))),
            ExprKind::NumUnit(n, u) => {
                let unit = Unit::parse(u).map_err(|err| {
                    let mut ce =
                        CompileError::new(format!("unknown unit `{u}`: {}", err.message), e.span);
                    if let Some(h) = err.help {
                        ce = ce.help(h);
                    }
                    ce
                })?;
                Ok((
                    Ir::Const(V::Num(n * unit.factor)),
                    Ty::Num(unit.dim, Some(unit.symbol.clone())),
                ))
            }
            ExprKind::Str(s) => Ok((Ir::Const(V::Text(Arc::from(s.as_str()))), Ty::Text)),
            ExprKind::Bool(b) => Ok((Ir::Const(V::Bool(*b)), Ty::Bool)),
            ExprKind::Name(name) => self.name(name, e.span, scope),
            ExprKind::Attr(base, name) => self.attr(base, name, e.span, scope),
            ExprKind::Index(base, key) => {
                let (_, bty) = self.expr(base, scope)?;
                let Ty::Dataset(ds) = bty else {
                    return Err(CompileError::new(
                        format!(
                            "`[\"{key}\"]` looks up a row, but {} is not a dataset",
                            bty.describe(self.data)
                        ),
                        e.span,
                    ));
                };
                let d = &self.data.datasets[ds];
                let Some(row) = d.row(key) else {
                    return Err(CompileError::new(
                        format!("`{key}` is not a row of dataset `{}`", d.name),
                        e.span,
                    )
                    .label("unknown row")
                    .help(d.row_hint(key)));
                };
                Ok((Ir::Const(V::Row(row as u32)), Ty::Row(ds)))
            }
            ExprKind::Unary(op, inner) => {
                let (ir, ty) = self.expr(inner, scope)?;
                match (op, &ty) {
                    (UnOp::Neg, Ty::Num(..)) => Ok((Ir::Neg(Box::new(ir)), ty)),
                    (UnOp::Not, Ty::Bool) => Ok((Ir::Not(Box::new(ir)), Ty::Bool)),
                    (UnOp::Neg, _) => Err(CompileError::new(
                        format!("cannot negate {}", ty.describe(self.data)),
                        e.span,
                    )),
                    (UnOp::Not, _) => Err(CompileError::new(
                        format!("`not` needs true/false, found {}", ty.describe(self.data)),
                        e.span,
                    )),
                }
            }
            ExprKind::Binary(op, l, r) => self.binary(*op, l, r, e.span, scope),
            ExprKind::Cond {
                then,
                cond,
                otherwise,
            } => {
                let (ci, cty) = self.expr(cond, scope)?;
                if cty != Ty::Bool {
                    return Err(CompileError::new(
                        format!(
                            "the condition after `if` must be true/false, found {}",
                            cty.describe(self.data)
                        ),
                        cond.span,
                    ));
                }
                let (ti, tty) = self.expr(then, scope)?;
                let (oi, oty) = self.expr(otherwise, scope)?;
                if !same_type(&tty, &oty) {
                    return Err(CompileError::new(
                        format!(
                            "the two branches differ: {} before `if`, {} after `else`",
                            tty.describe(self.data),
                            oty.describe(self.data)
                        ),
                        e.span,
                    )
                    .help("both branches must give the same kind of value, in compatible units"));
                }
                Ok((Ir::Cond(Box::new(ci), Box::new(ti), Box::new(oi)), tty))
            }
            ExprKind::Call { name, args, kwargs } => self.call(name, args, kwargs, e.span, scope),
        }
    }

    fn name(
        &mut self,
        name: &str,
        span: Span,
        scope: Option<usize>,
    ) -> Result<(Ir, Ty), CompileError> {
        if let Some(ds) = scope {
            let d = &self.data.datasets[ds];
            if let Some(c) = d.column(name) {
                self.deps.insert(Dep::Column(ds, c));
                return Ok((Ir::Col(c, span), field_ty(&d.columns[c].field, self.data)));
            }
        }
        if let Some(&g) = self.data.global_by_name.get(name) {
            self.deps.insert(Dep::Global(g));
            return Ok((
                Ir::Global(g, span),
                field_ty(&self.data.globals[g].field, self.data),
            ));
        }
        if let Some(&ds) = self.data.by_name.get(name) {
            return Ok((Ir::Const(V::Row(0)), Ty::Dataset(ds)));
        }
        let mut candidates: Vec<&str> = self
            .data
            .globals
            .iter()
            .map(|g| g.field.name.as_str())
            .collect();
        candidates.extend(self.data.datasets.iter().map(|d| d.name.as_str()));
        if let Some(ds) = scope {
            candidates.extend(
                self.data.datasets[ds]
                    .columns
                    .iter()
                    .map(|c| c.field.name.as_str()),
            );
        }
        let what = match scope {
            Some(ds) => format!(
                "not a column of `{}`, a parameter, a figure or a dataset",
                self.data.datasets[ds].name
            ),
            None => "not a parameter, a figure or a dataset".to_string(),
        };
        Err(CompileError::new(format!("unknown name `{name}`"), span)
            .label(what)
            .help(did_you_mean(name, "name", candidates.iter().copied())))
    }

    fn attr(
        &mut self,
        base: &Expr,
        name: &str,
        span: Span,
        scope: Option<usize>,
    ) -> Result<(Ir, Ty), CompileError> {
        let (bir, bty) = self.expr(base, scope)?;
        match bty {
            Ty::Row(ds) => {
                let d = &self.data.datasets[ds];
                let Some(col) = d.column(name) else {
                    return Err(CompileError::new(format!("`{name}` is not a column of dataset `{}`", d.name), span)
                        .label("unknown column")
                        .help(d.column_hint(name)));
                };
                self.deps.insert(Dep::Column(ds, col));
                let row = match bir {
                    Ir::Const(V::Row(r)) => RowSel::Fixed(r),
                    other => RowSel::Via(Box::new(other)),
                };
                Ok((Ir::Field { ds, row, col, span }, field_ty(&d.columns[col].field, self.data)))
            }
            Ty::Dataset(ds) => {
                let d = &self.data.datasets[ds];
                let Some(col) = d.column(name) else {
                    return Err(CompileError::new(format!("`{name}` is not a column of dataset `{}`", d.name), span)
                        .label("unknown column")
                        .help(d.column_hint(name)));
                };
                Ok((Ir::Const(V::Row(0)), Ty::ColumnOf(ds, col)))
            }
            other => Err(CompileError::new(
                format!("`.{name}` reads a column of a row, but this is {}", other.describe(self.data)),
                span,
            )
            .help("columns of other rows are read as `dataset[\"key\"].column` or through a ref: column")),
        }
    }

    fn binary(
        &mut self,
        op: BinOp,
        l: &Expr,
        r: &Expr,
        span: Span,
        scope: Option<usize>,
    ) -> Result<(Ir, Ty), CompileError> {
        let (li, lt) = self.expr(l, scope)?;
        if op == BinOp::Pow {
            return self.power(li, lt, r, span);
        }
        let (mut ri, mut rt) = self.expr(r, scope)?;
        let (mut li, mut lt) = (li, lt);
        if matches!(
            op,
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge
        ) {
            // `vram >= 80`: a bare number compared with a quantity is read in that quantity's unit.
            if let Some((ir, ty)) = literal_in_unit_of(&ri, &rt, &lt) {
                (ri, rt) = (ir, ty);
            } else if let Some((ir, ty)) = literal_in_unit_of(&li, &lt, &rt) {
                (li, lt) = (ir, ty);
            }
        }
        // A reference compared with a key in quotes (`vendor == "nv"`) compares rows: the key is
        // looked up once, here, and a key that names no row is an error at the formula.
        if matches!(op, BinOp::Eq | BinOp::Ne) {
            for flip in [false, true] {
                let (row_side, key_side) = if flip { (&rt, &li) } else { (&lt, &ri) };
                let (Ty::Row(ds), Ir::Const(V::Text(key))) = (row_side, key_side) else {
                    continue;
                };
                let d = &self.data.datasets[*ds];
                let Some(row) = d.row(key) else {
                    return Err(CompileError::new(
                        format!("`{key}` is not a row of dataset `{}`", d.name),
                        span,
                    )
                    .label("unknown row")
                    .help(d.row_hint(key)));
                };
                let ds = *ds;
                let konst = Ir::Const(V::Row(row as u32));
                if flip {
                    (li, lt) = (konst, Ty::Row(ds));
                } else {
                    (ri, rt) = (konst, Ty::Row(ds));
                }
                break;
            }
        }
        let data = self.data;
        let mismatch = |what: &str| {
            CompileError::new(
                format!(
                    "cannot {what} {} and {}",
                    lt.describe(data),
                    rt.describe(data)
                ),
                span,
            )
        };
        let ty = match op {
            BinOp::Add | BinOp::Sub => match (lt.dim(), rt.dim()) {
                (Some(a), Some(b)) if a == b => merge_unit_hint(&lt, &rt),
                (Some(_), Some(_)) => {
                    return Err(mismatch(if op == BinOp::Add { "add" } else { "subtract" })
                        .label("the units differ")
                        .help("only quantities of the same kind add up: convert one side with a parameter (a rate, an overhead) first"))
                }
                _ => return Err(mismatch(if op == BinOp::Add { "add" } else { "subtract" }).help("use `~` to join text")),
            },
            BinOp::Mul | BinOp::Div => match (lt.dim(), rt.dim()) {
                (Some(a), Some(b)) => Ty::Num(if op == BinOp::Mul { a.times(b) } else { a.per(b) }, None),
                _ => return Err(mismatch(if op == BinOp::Mul { "multiply" } else { "divide" })),
            },
            BinOp::Concat => match (&lt, &rt) {
                (Ty::Text | Ty::Date, Ty::Text | Ty::Date) => Ty::Text,
                _ => {
                    return Err(mismatch("join")
                        .help("`~` joins text; numbers are formatted in the article, with their unit and precision"))
                }
            },
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                let ok = match (&lt, &rt) {
                    (Ty::Num(a, _), Ty::Num(b, _)) => a == b,
                    (Ty::Text, Ty::Text) | (Ty::Date, Ty::Date) => true,
                    (Ty::Row(a), Ty::Row(b)) => a == b && matches!(op, BinOp::Eq | BinOp::Ne),
                    (Ty::Bool, Ty::Bool) => matches!(op, BinOp::Eq | BinOp::Ne),
                    _ => false,
                };
                if !ok {
                    let mut e = mismatch("compare").label("not comparable");
                    // A reference against text that is not a key in quotes: compare the keys.
                    if let (Ty::Row(ds), Ty::Text) | (Ty::Text, Ty::Row(ds)) = (&lt, &rt) {
                        let d = &data.datasets[*ds];
                        e = e.help(format!(
                            "a reference is a row of `{}`: compare its key, `{}`, with the text",
                            d.name,
                            d.columns[d.key].field.name
                        ));
                    }
                    return Err(e);
                }
                Ty::Bool
            }
            BinOp::And | BinOp::Or => {
                if lt != Ty::Bool || rt != Ty::Bool {
                    return Err(mismatch(if op == BinOp::And { "combine with `and`" } else { "combine with `or`" })
                        .help("`and` and `or` take true/false on both sides"));
                }
                Ty::Bool
            }
            BinOp::Pow => unreachable!("handled above"),
        };
        Ok((Ir::Bin(op, Box::new(li), Box::new(ri), span), ty))
    }

    fn power(&mut self, li: Ir, lt: Ty, r: &Expr, span: Span) -> Result<(Ir, Ty), CompileError> {
        let Some(dim) = lt.dim() else {
            return Err(CompileError::new(
                format!("cannot raise {} to a power", lt.describe(self.data)),
                span,
            ));
        };
        let exponent = match &r.kind {
            ExprKind::Num(n) => Some(*n),
            ExprKind::Unary(UnOp::Neg, inner) => match inner.kind {
                ExprKind::Num(n) => Some(-n),
                _ => None,
            },
            _ => None,
        };
        match exponent {
            Some(n) if dim.is_none() || n.fract() == 0.0 => {
                let ty = Ty::Num(
                    if dim.is_none() {
                        dim
                    } else {
                        dim.powi(n as i32)
                    },
                    None,
                );
                Ok((
                    Ir::Bin(
                        BinOp::Pow,
                        Box::new(li),
                        Box::new(Ir::Const(V::Num(n))),
                        span,
                    ),
                    ty,
                ))
            }
            Some(_) => Err(CompileError::new(
                "a quantity with a unit can only be raised to a whole power",
                r.span,
            )),
            None if dim.is_none() => {
                let (ri, rt) = self.expr(r, None)?;
                if rt.dim() != Some(Dim::NONE) {
                    return Err(CompileError::new(
                        "the exponent must be a plain number",
                        r.span,
                    ));
                }
                Ok((
                    Ir::Bin(BinOp::Pow, Box::new(li), Box::new(ri), span),
                    Ty::Num(Dim::NONE, None),
                ))
            }
            None => Err(CompileError::new(
                "the exponent of a quantity with a unit must be a written number",
                r.span,
            )),
        }
    }

    fn call(
        &mut self,
        name: &str,
        args: &[Expr],
        kwargs: &[(String, Expr)],
        span: Span,
        scope: Option<usize>,
    ) -> Result<(Ir, Ty), CompileError> {
        let agg = match name {
            "sum" => Some(AggKind::Sum),
            "mean" => Some(AggKind::Mean),
            "count" => Some(AggKind::Count),
            "all" => Some(AggKind::All),
            "any" => Some(AggKind::Any),
            "min" | "max" if args.len() == 1 => Some(if name == "min" {
                AggKind::Min
            } else {
                AggKind::Max
            }),
            _ => None,
        };
        if let Some(kind) = agg {
            return self.aggregate(kind, name, args, kwargs, span, scope);
        }
        if let Some((k, e)) = kwargs.first() {
            return Err(CompileError::new(
                format!("`{name}` takes no argument `{k}`"),
                e.span,
            ));
        }
        if name == "present" {
            let [arg] = args else {
                return Err(CompileError::new("`present` takes one column", span));
            };
            let (ir, _) = self.expr(arg, scope)?;
            if !matches!(ir, Ir::Col(..) | Ir::Global(..) | Ir::Field { .. }) {
                return Err(CompileError::new(
                    "`present` takes a column or a parameter",
                    arg.span,
                ));
            }
            return Ok((Ir::Present(Box::new(ir)), Ty::Bool));
        }
        let func = match name {
            "min" => Func::Min,
            "max" => Func::Max,
            "abs" => Func::Abs,
            "floor" => Func::Floor,
            "ceil" => Func::Ceil,
            "round" => Func::Round,
            "sqrt" => Func::Sqrt,
            "log2" => Func::Log2,
            "log10" => Func::Log10,
            "ln" => Func::Ln,
            _ => {
                return Err(
                    CompileError::new(format!("unknown function `{name}`"), span)
                        .help(did_you_mean(name, "function", FUNCTIONS.iter().copied())),
                )
            }
        };
        let mut irs = Vec::new();
        let mut tys = Vec::new();
        for a in args {
            let (i, t) = self.expr(a, scope)?;
            if t.dim().is_none() {
                return Err(CompileError::new(
                    format!("`{name}` takes numbers, found {}", t.describe(self.data)),
                    a.span,
                ));
            }
            irs.push(i);
            tys.push(t);
        }
        let arity_ok = match func {
            Func::Min | Func::Max => irs.len() >= 2,
            Func::Round => irs.len() == 1 || irs.len() == 2,
            _ => irs.len() == 1,
        };
        if !arity_ok {
            return Err(
                CompileError::new(format!("wrong number of arguments for `{name}`"), span).help(
                    match func {
                        Func::Min | Func::Max => format!(
                        "`{name}(a, b, ...)` compares values; `{name}(dataset.column)` aggregates"
                    ),
                        Func::Round => "`round(x)` or `round(x, decimals)`".into(),
                        _ => format!("`{name}(x)` takes one number"),
                    },
                ),
            );
        }
        let ty = match func {
            Func::Min | Func::Max => {
                if let Some(bad) = tys.iter().position(|t| t.dim() != tys[0].dim()) {
                    return Err(CompileError::new(
                        format!(
                            "`{name}` compares values of one kind: {} and {}",
                            tys[0].describe(self.data),
                            tys[bad].describe(self.data)
                        ),
                        args[bad].span,
                    ));
                }
                tys[0].clone()
            }
            Func::Abs => tys[0].clone(),
            Func::Floor
            | Func::Ceil
            | Func::Round
            | Func::Sqrt
            | Func::Log2
            | Func::Log10
            | Func::Ln => {
                if let Some(bad) = tys.iter().position(|t| t.dim() != Some(Dim::NONE)) {
                    return Err(CompileError::new(
                        format!("`{name}` works on plain numbers, found {}", tys[bad].describe(self.data)),
                        args[bad].span,
                    )
                    .help("rounding for display is the column's `precision`; to round a quantity, divide it by its unit first, e.g. `round(x / 1[GB])`"));
                }
                Ty::Num(Dim::NONE, None)
            }
        };
        Ok((Ir::Func(func, irs, span), ty))
    }

    fn aggregate(
        &mut self,
        kind: AggKind,
        name: &str,
        args: &[Expr],
        kwargs: &[(String, Expr)],
        span: Span,
        scope: Option<usize>,
    ) -> Result<(Ir, Ty), CompileError> {
        let usage = match kind {
            AggKind::Count => "count(dataset, where=condition)",
            AggKind::All | AggKind::Any => "all(dataset, condition)",
            _ => "max(dataset.column, where=condition)",
        };
        let Some(first) = args.first() else {
            return Err(CompileError::new(format!("`{name}` needs a dataset"), span)
                .help(format!("write `{usage}`")));
        };
        let (_, fty) = self.expr(first, scope)?;
        let (ds, value_col) = match (kind, fty) {
            (AggKind::Count | AggKind::All | AggKind::Any, Ty::Dataset(ds)) => (ds, None),
            (AggKind::Min | AggKind::Max | AggKind::Sum | AggKind::Mean, Ty::ColumnOf(ds, c)) => {
                (ds, Some(c))
            }
            (_, other) => {
                return Err(CompileError::new(
                    format!(
                        "`{name}` aggregates over a dataset, but this is {}",
                        other.describe(self.data)
                    ),
                    first.span,
                )
                .help(format!("write `{usage}`")))
            }
        };
        let mut value = None;
        let mut ty = Ty::Num(Dim::NONE, None);
        if let Some(c) = value_col {
            let field = &self.data.datasets[ds].columns[c].field;
            ty = field_ty(field, self.data);
            if ty.dim().is_none() {
                return Err(CompileError::new(
                    format!(
                        "`{name}` needs a numeric column, `{}` is {}",
                        field.name,
                        ty.describe(self.data)
                    ),
                    first.span,
                ));
            }
            self.deps.insert(Dep::Column(ds, c));
            value = Some(Box::new(Ir::Col(c, first.span)));
        }
        if matches!(kind, AggKind::All | AggKind::Any) {
            let Some(pred) = args.get(1) else {
                return Err(
                    CompileError::new(format!("`{name}` needs a condition"), span)
                        .help(format!("write `{usage}`")),
                );
            };
            let (pi, pt) = self.expr(pred, Some(ds))?;
            if pt != Ty::Bool {
                return Err(CompileError::new(
                    format!(
                        "the condition must be true/false, found {}",
                        pt.describe(self.data)
                    ),
                    pred.span,
                ));
            }
            value = Some(Box::new(pi));
            ty = Ty::Bool;
        } else if args.len() > 1 {
            return Err(CompileError::new(
                format!("`{name}` takes one dataset argument; filter with `where=`"),
                args[1].span,
            ));
        }
        if kind == AggKind::Count {
            ty = Ty::Num(Dim::NONE, None);
        }
        let mut filter = None;
        for (k, e) in kwargs {
            if k != "where" {
                return Err(
                    CompileError::new(format!("`{name}` takes no argument `{k}`"), e.span)
                        .help("the filter is `where=`"),
                );
            }
            let (fi, ft) = self.expr(e, Some(ds))?;
            if ft != Ty::Bool {
                return Err(CompileError::new(
                    format!(
                        "`where=` must be true/false, found {}",
                        ft.describe(self.data)
                    ),
                    e.span,
                ));
            }
            filter = Some(Box::new(fi));
        }
        Ok((
            Ir::Agg {
                kind,
                ds,
                value,
                filter,
                span,
            },
            ty,
        ))
    }
}

/// A bare number literal, read in the unit of the other side of a comparison.
fn literal_in_unit_of(literal: &Ir, literal_ty: &Ty, other: &Ty) -> Option<(Ir, Ty)> {
    let Ir::Const(V::Num(n)) = literal else {
        return None;
    };
    if *literal_ty != Ty::Num(Dim::NONE, None) {
        return None;
    }
    let Ty::Num(dim, Some(symbol)) = other else {
        return None;
    };
    if dim.is_none() {
        return None;
    }
    let unit = Unit::parse(symbol).ok()?;
    Some((Ir::Const(V::Num(n * unit.factor)), other.clone()))
}

fn merge_unit_hint(a: &Ty, b: &Ty) -> Ty {
    match (a, b) {
        (Ty::Num(d, Some(u)), Ty::Num(_, Some(v))) if u == v => Ty::Num(*d, Some(u.clone())),
        (Ty::Num(d, _), _) => Ty::Num(*d, None),
        _ => a.clone(),
    }
}

/// Whether two types are interchangeable (numbers of the same dimension, whatever their unit).
pub fn same_type(a: &Ty, b: &Ty) -> bool {
    match (a, b) {
        (Ty::Num(x, _), Ty::Num(y, _)) => x == y,
        _ => a == b,
    }
}
