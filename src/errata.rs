//! The errata: every figure the source printed (a `printed:` column or a figure's `printed:`
//! number) compared with the value the build computes from the same inputs. A disagreement beyond
//! the tolerance is an erratum; for each, the build also works out what each input of the
//! formula would have to be for the printed figure to come out.

use std::fmt::Write as _;

use crate::data::Field;
use crate::formula::compile::{Ir, RowSel};
use crate::formula::{Ctx, Dep, Override, V};
use crate::markdown::escape_html;
use crate::model::{Model, ValueRef};

/// One printed figure that the data does not reproduce.
#[derive(Debug, Clone)]
pub struct Erratum {
    /// The recomputed value.
    pub value: ValueRef,
    /// Where the figure is printed in the source.
    pub location: String,
    pub printed: String,
    pub recomputed: String,
    /// Recomputed relative to printed, in percent.
    pub difference: f64,
    /// "input = value (now value)" for each input that alone would explain the printed figure.
    pub would_need: Vec<String>,
    pub class: Class,
    /// For a convention: the one that reconciles the printed figure with the recomputed one.
    pub convention: Option<String>,
}

/// What a disagreement says about the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Class {
    /// The source's own inputs, under its own conventions, give another value.
    Error,
    /// No input of the formula alone explains the printed figure.
    Unexplained,
    /// The printed figure matches under a convention the source plausibly used (the other end
    /// of a range, binary instead of decimal prefixes).
    Convention,
}

impl Class {
    pub fn name(self) -> &'static str {
        match self {
            Class::Error => "error",
            Class::Unexplained => "unexplained",
            Class::Convention => "convention",
        }
    }
}

/// Finds every erratum of the model. `tolerance_percent` absorbs rounding in the source;
/// `approximate_percent` is what a figure printed as approximate (`~40`) is allowed.
pub fn find(model: &Model, config: &crate::project::ErrataConfig) -> Vec<Erratum> {
    let tolerance_percent = config.tolerance_percent;
    let data = &model.data;
    let mut out = Vec::new();
    for (g, gl) in data.globals.iter().enumerate() {
        let (Some(printed), Some(value)) = (gl.printed, gl.value.number()) else {
            continue;
        };
        let printed_base = printed * gl.field.unit.factor;
        if agrees(value, printed_base, &gl.field, tolerance_percent) {
            continue;
        }
        let location = gl.origin.clone().unwrap_or_else(|| gl.field.title.clone());
        out.push(erratum(
            model,
            ValueRef::Global(g),
            location,
            (printed_base, &gl.field),
            value,
            tolerance_percent,
        ));
    }
    for (ds, d) in data.datasets.iter().enumerate() {
        for (col, c) in d.columns.iter().enumerate() {
            let Some((pname, _)) = &c.field.printed else {
                continue;
            };
            let Some(pcol) = d.column(pname) else {
                continue;
            };
            let pfield = &d.columns[pcol].field;
            for row in 0..d.len() {
                let (Some(printed), Some(value)) =
                    (d.columns[pcol].cells[row].number(), c.cells[row].number())
                else {
                    continue;
                };
                if !pfield.unit.is_compatible(&c.field.unit) {
                    continue;
                }
                if agrees(value, printed, pfield, tolerance_percent) {
                    continue;
                }
                let origin = d
                    .meta
                    .origin
                    .clone()
                    .unwrap_or_else(|| d.meta.title.clone());
                let location = format!(
                    "{origin}, row \"{}\", column \"{}\"",
                    d.row_label(row),
                    c.field.title
                );
                let mut e = erratum(
                    model,
                    ValueRef::Cell { ds, row, col },
                    location,
                    (printed, pfield),
                    value,
                    tolerance_percent,
                );
                let approximate = d.columns[pcol]
                    .approximate
                    .binary_search(&(row as u32))
                    .is_ok();
                if approximate && e.class != Class::Convention {
                    e.printed = format!("~{}", e.printed);
                    if agrees(value, printed, pfield, config.approximate_percent) {
                        e.class = Class::Convention;
                        e.convention = Some(format!(
                            "an approximate figure: the source prints {}, and the recomputed figure is within the {}% such a figure allows (errata.approximate_percent)",
                            e.printed,
                            crate::format::format_plain(config.approximate_percent)
                        ));
                    }
                }
                out.push(e);
            }
        }
    }
    // Errors first, then what the inputs do not explain, then conventions; each in data order.
    out.sort_by_key(|e| e.class);
    out
}

/// Whether a recomputed value matches a printed one within rounding and tolerance.
fn agrees(value: f64, printed: f64, printed_field: &Field, tolerance_percent: f64) -> bool {
    let diff = (value - printed).abs();
    let shown = printed / printed_field.unit.factor;
    let decimals = printed_field
        .precision
        .unwrap_or_else(|| crate::format::default_decimals(shown));
    let rounding = 0.5 * 10f64.powi(-(decimals as i32)) * printed_field.unit.factor;
    diff <= rounding * 1.000_001 || diff <= printed.abs() * tolerance_percent / 100.0
}

fn erratum(
    model: &Model,
    at: ValueRef,
    location: String,
    (printed, printed_field): (f64, &Field),
    value: f64,
    tolerance_percent: f64,
) -> Erratum {
    let (field, _) = model.get(at);
    let fits = |x: f64| agrees(x, printed, printed_field, tolerance_percent);
    // A unit convention must explain the figure to its last printed digit, not within the
    // tolerance: a 2.4% factor tried with a 2% tolerance would explain almost anything.
    let fits_exactly = |x: f64| agrees(x, printed, printed_field, 0.0);
    let convention = prefix_convention(field, value, &fits_exactly)
        .or_else(|| range_convention(model, at, &fits));
    let would_need = would_need(model, at, printed);
    let class = if convention.is_some() {
        Class::Convention
    } else if would_need.is_empty() {
        Class::Unexplained
    } else {
        Class::Error
    };
    let show = |n: f64| model.display(field, &crate::data::Value::Num(n));
    let difference = if printed != 0.0 {
        (value - printed) / printed.abs() * 100.0
    } else {
        0.0
    };
    Erratum {
        value: at,
        location,
        printed: show(printed),
        recomputed: show(value),
        difference,
        would_need,
        class,
        convention,
    }
}

/// Binary instead of decimal prefixes: a figure in bytes or tokens that matches, to its last
/// printed digit, once its unit's prefixes count 1,024 instead of 1,000 (`GB` as GiB,
/// `MB/Ktok` as MiB per 1,024 tokens, `Ktok` as 1,024 tokens).
fn prefix_convention(field: &Field, value: f64, fits: &dyn Fn(f64) -> bool) -> Option<String> {
    // Money per token is never counted in binary tokens; memory per token and context are.
    let dim = &field.unit.dim.0;
    let k = binary_power(&field.unit.symbol);
    if k == 0 || dim[5] != 0 || dim[6] != 0 {
        return None;
    }
    let f = 1.024f64.powi(k);
    // In binary units the same quantity is a smaller number (128 MiB is 134.2 MB).
    fits(value / f).then(|| {
        format!(
            "binary prefixes: {} read with 1 K = 1,024 instead of 1,000 ({:+.1}%)",
            binary_name(&field.unit.symbol),
            (1.0 / f - 1.0) * 100.0
        )
    })
}

/// The net power of the decimal prefixes on bytes and tokens in a unit: 3 for `GB`, 1 for
/// `MB/Ktok`, -2 for `EUR/MTok`, 0 for `tok/s`.
fn binary_power(symbol: &str) -> i32 {
    let mut total = 0;
    for (i, part) in symbol.split('/').enumerate() {
        for factor in part.split('*') {
            let factor = factor.trim();
            let base = ["B", "tok", "Tok"]
                .iter()
                .find_map(|b| factor.strip_suffix(b));
            let power = match base {
                Some("k" | "K") => 1,
                Some("M") => 2,
                Some("G") => 3,
                Some("T") => 4,
                _ => 0,
            };
            total += if i == 0 { power } else { -power };
        }
    }
    total
}

/// `GB` as `GiB`, `MB/Ktok` as `MiB per 1,024 tokens`.
fn binary_name(symbol: &str) -> String {
    let binary: Vec<String> = symbol
        .split('/')
        .map(|part| {
            for (dec, bin) in [
                ("kB", "KiB"),
                ("KB", "KiB"),
                ("MB", "MiB"),
                ("GB", "GiB"),
                ("TB", "TiB"),
            ] {
                if part == dec {
                    return bin.to_string();
                }
            }
            match part {
                "Ktok" | "KTok" | "ktok" => "1,024 tokens".to_string(),
                "Mtok" | "MTok" => "1,048,576 tokens".to_string(),
                other => other.to_string(),
            }
        })
        .collect();
    format!("`{symbol}` as {}", binary.join(" per "))
}

/// The other end of a range: an input written as a range (`1,600-2,200`) that gives the printed
/// figure at its low or high end, where the formula uses another.
fn range_convention(model: &Model, at: ValueRef, fits: &dyn Fn(f64) -> bool) -> Option<String> {
    let (compiled, ctx, inputs) = formula_inputs(model, at)?;
    for (ov, r) in inputs {
        let (field, value) = model.get(r);
        let crate::data::Value::Range(range) = value else {
            continue;
        };
        for (end, x) in [("low", range.lo), ("high", range.hi)] {
            if eval_with(compiled, ctx, ov, x).is_some_and(fits) {
                return Some(format!(
                    "the {end} end of {} ({}), where the wiki uses {}",
                    input_name(model, at, r, field),
                    model.display(field, value),
                    model.display(field, &crate::data::Value::Num(range.rep))
                ));
            }
        }
    }
    None
}

/// A derived value's formula, the context it is evaluated in, and its numeric inputs (each with
/// the override that replaces it).
type FormulaInputs<'m> = (
    &'m crate::formula::Compiled,
    Ctx<'m>,
    Vec<(Override, ValueRef)>,
);

/// The formula of a derived value, the context it is evaluated in, and its numeric inputs.
fn formula_inputs(model: &Model, at: ValueRef) -> Option<FormulaInputs<'_>> {
    let data = &model.data;
    let (dep, ctx) = match at {
        ValueRef::Global(g) => (Dep::Global(g), Ctx::global(data)),
        ValueRef::Cell { ds, row, col } => (Dep::Column(ds, col), Ctx::row(data, ds, row)),
    };
    let compiled = model.formulas.get(&dep)?;
    let mut inputs: Vec<(Override, ValueRef)> = Vec::new();
    crate::claims::visit(&compiled.ir, &mut |n| {
        let found = match (n, at) {
            (Ir::Col(c, _), ValueRef::Cell { ds, row, .. }) => {
                Some((Override::Col(*c, 0.0), ValueRef::Cell { ds, row, col: *c }))
            }
            (Ir::Global(g, _), _) => Some((Override::Global(*g, 0.0), ValueRef::Global(*g))),
            (Ir::Field { ds, row, col, .. }, _) => {
                // A fixed row (`gpus["rtx-4090"].vram`), or the row a `ref:` cell names here.
                let r = match row {
                    RowSel::Fixed(r) => Some(*r as usize),
                    RowSel::Via(inner) => match crate::formula::eval::eval(inner, ctx) {
                        Ok(V::Row(r)) => Some(r as usize),
                        _ => None,
                    },
                };
                r.map(|row| {
                    (
                        Override::Cell {
                            ds: *ds,
                            row,
                            col: *col,
                            value: 0.0,
                        },
                        ValueRef::Cell {
                            ds: *ds,
                            row,
                            col: *col,
                        },
                    )
                })
            }
            _ => None,
        };
        if let Some(f) = found {
            if !inputs.iter().any(|(_, r)| *r == f.1) {
                inputs.push(f);
            }
        }
    });
    Some((compiled, ctx, inputs))
}

/// The formula's value with one input replaced by `x` (in base units).
fn eval_with(
    compiled: &crate::formula::Compiled,
    ctx: Ctx<'_>,
    ov: Override,
    x: f64,
) -> Option<f64> {
    let o = match ov {
        Override::Col(c, _) => Override::Col(c, x),
        Override::Global(g, _) => Override::Global(g, x),
        Override::Cell { ds, row, col, .. } => Override::Cell {
            ds,
            row,
            col,
            value: x,
        },
    };
    match crate::formula::eval::eval(
        &compiled.ir,
        Ctx {
            overriding: Some(o),
            ..ctx
        },
    ) {
        Ok(V::Num(n)) => Some(n),
        _ => None,
    }
}

/// How an input is named in the errata: its title in its own row, else with its row.
fn input_name(model: &Model, at: ValueRef, r: ValueRef, field: &Field) -> String {
    match r {
        ValueRef::Global(_) => field.name.clone(),
        ValueRef::Cell { ds, row, .. } => {
            if matches!(at, ValueRef::Cell { ds: a, row: b, .. } if a == ds && b == row) {
                field.title.clone()
            } else {
                format!(
                    "{} of {}",
                    field.title,
                    model.data.datasets[ds].row_label(row)
                )
            }
        }
    }
}

/// For each numeric input of the formula, the value that would make it give `target`.
fn would_need(model: &Model, at: ValueRef, target: f64) -> Vec<String> {
    let Some((compiled, ctx, inputs)) = formula_inputs(model, at) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (ov, r) in inputs {
        let (field, value) = model.get(r);
        let Some(current) = value.number() else {
            continue;
        };
        if let Some(x) = solve(|x| eval_with(compiled, ctx, ov, x), current, target) {
            if x.is_finite()
                && (current <= 0.0 || x > 0.0)
                && (x - current).abs() > current.abs() * 1e-9
            {
                let shown_field = Field {
                    precision: field.precision.map(|p| p + 1),
                    ..field.clone()
                };
                out.push(format!(
                    "{} = {} (data: {})",
                    input_name(model, at, r, field),
                    model.display(&shown_field, &crate::data::Value::Num(x)),
                    model.display(field, value)
                ));
            }
        }
    }
    out
}

/// Solves `f(x) = target` near `x0` with the secant method.
fn solve(f: impl Fn(f64) -> Option<f64>, x0: f64, target: f64) -> Option<f64> {
    let g = |x: f64| f(x).map(|y| y - target);
    let mut a = x0;
    let mut b = if x0 == 0.0 { 1.0 } else { x0 * 1.1 };
    let mut ga = g(a)?;
    let mut gb = g(b)?;
    for _ in 0..60 {
        if gb.abs() <= target.abs() * 1e-10 {
            return Some(b);
        }
        let denom = gb - ga;
        if denom == 0.0 || !denom.is_finite() {
            return None;
        }
        let c = b - gb * (b - a) / denom;
        a = b;
        ga = gb;
        b = c;
        gb = g(b)?;
    }
    (gb.abs() <= target.abs() * 1e-6).then_some(b)
}

/// The errata: a table of the source's errors (and of what the inputs do not explain), then a
/// table of the disagreements a convention reconciles, then the figures kept as printed.
/// The id of a value's row on the errata page.
pub fn anchor(model: &Model, value: ValueRef) -> String {
    format!(
        "erratum-{}",
        crate::markdown::slugify(&model.name_of(value))
    )
}

/// Where the errata page (`page`, the address of the article that shows `errata()`) explains a
/// shown value whose printed figure disagrees, and a label saying so: `(errata/#erratum-..,
/// "printed as 0.041; see the errata")`.
pub fn link_of(
    model: &Model,
    errata: &[Erratum],
    page: Option<&str>,
    value: ValueRef,
) -> Option<(String, String)> {
    let page = page?;
    let e = errata.iter().find(|e| e.value == value)?;
    Some((
        format!("{page}#{}", anchor(model, value)),
        format!("the source printed {}; see the errata", e.printed),
    ))
}

/// The link that marks a figure the source printed otherwise (`≠`, named for screen readers).
pub fn mark(root: &str, href: &str, label: &str) -> String {
    format!(
        "<a class=\"erratum-mark\" href=\"{root}{}\" title=\"{}\" aria-label=\"{}\">≠</a>",
        escape_html(href),
        escape_html(label),
        escape_html(label)
    )
}

pub fn render(model: &Model, errata: &[Erratum], root: &str) -> String {
    let mut out = String::new();
    let (conventions, errors): (Vec<&Erratum>, Vec<&Erratum>) =
        errata.iter().partition(|e| e.class == Class::Convention);
    let count =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let _ = write!(
        out,
        "<p class=\"errata-summary\">{}: {} and {} that no single input explains; {} that a convention of the source explains.</p>",
        count(errata.len(), "printed figure disagrees", "printed figures disagree"),
        count(errors.iter().filter(|e| e.class == Class::Error).count(), "error", "errors"),
        count(errors.iter().filter(|e| e.class == Class::Unexplained).count(), "figure", "figures"),
        count(conventions.len(), "figure", "figures"),
    );
    out.push_str("<div class=\"table-wrap\" tabindex=\"0\" role=\"region\" aria-label=\"Errors\"><table class=\"data errata\"><caption>Errors</caption><thead><tr>");
    for h in [
        "Where",
        "Printed",
        "Recomputed",
        "Difference",
        "What would have to change",
    ] {
        let class = if matches!(h, "Printed" | "Recomputed" | "Difference") {
            " class=\"num\""
        } else {
            ""
        };
        let _ = write!(out, "<th scope=\"col\"{class}>{h}</th>");
    }
    out.push_str("</tr></thead><tbody>");
    for e in &errors {
        let need = if e.would_need.is_empty() {
            "the inputs given do not explain it".to_string()
        } else {
            format!(
                "any one of: {}",
                e.would_need
                    .iter()
                    .map(|n| escape_html(n))
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        };
        let _ = write!(
            out,
            "<tr class=\"{}\" id=\"{}\"><td>{}</td><td class=\"num printed\">{}</td><td class=\"num derived\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            e.class.name(),
            anchor(model, e.value),
            escape_html(&e.location),
            escape_html(&e.printed),
            escape_html(&e.recomputed),
            escape_html(&format!("{:+.1}%", e.difference)),
            need
        );
    }
    if errors.is_empty() {
        out.push_str("<tr><td colspan=\"5\">Every printed figure agrees with its recomputed value, or a convention explains it.</td></tr>");
    }
    let _ = write!(
        out,
        "</tbody></table><p class=\"table-note\">A figure is an error when the source's own inputs, under its own conventions, give another value beyond its rounding and the tolerance. <a href=\"{root}data/\">Data</a>.</p></div>"
    );
    if !conventions.is_empty() {
        out.push_str("<div class=\"table-wrap\" tabindex=\"0\" role=\"region\" aria-label=\"Conventions\"><table class=\"data errata conventions\"><caption>Explained by a convention</caption><thead><tr><th scope=\"col\">Where</th><th scope=\"col\" class=\"num\">Printed</th><th scope=\"col\" class=\"num\">Recomputed</th><th scope=\"col\">The convention that reconciles them</th></tr></thead><tbody>");
        for e in &conventions {
            let _ = write!(
                out,
                "<tr id=\"{}\"><td>{}</td><td class=\"num printed\">{}</td><td class=\"num derived\">{}</td><td>{}</td></tr>",
                anchor(model, e.value),
                escape_html(&e.location),
                escape_html(&e.printed),
                escape_html(&e.recomputed),
                escape_html(e.convention.as_deref().unwrap_or_default())
            );
        }
        out.push_str("</tbody></table><p class=\"table-note\">Not the source's mistakes: each printed figure comes out of the source's own inputs once the convention named is applied (the other end of a range the source gives, binary instead of decimal prefixes). The build tries the conventions before it calls a figure wrong.</p></div>");
    }
    let kept: Vec<String> = model
        .data
        .datasets
        .iter()
        .flat_map(|d| {
            d.columns
                .iter()
                .filter(|c| c.field.basis_printed)
                .map(move |c| {
                    let what = c
                        .field
                        .description
                        .as_deref()
                        .map_or(String::new(), |t| format!(": {}", escape_html(t)));
                    format!(
                        "<li><a href=\"{root}data/#dataset-{}\">{}</a>, column “{}”{what}</li>",
                        escape_html(&d.name),
                        escape_html(&d.meta.title),
                        escape_html(&c.field.title)
                    )
                })
        })
        .collect();
    if !kept.is_empty() {
        let _ = write!(out, "<p>Figures the source printed but whose inputs it does not give; they are kept as printed inputs:</p><ul class=\"kept-as-printed\">{}</ul>", kept.join(""));
    }
    out
}
