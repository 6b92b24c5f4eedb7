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
}

/// Finds every erratum of the model. `tolerance_percent` absorbs rounding in the source.
pub fn find(model: &Model, tolerance_percent: f64) -> Vec<Erratum> {
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
            printed_base,
            value,
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
                out.push(erratum(
                    model,
                    ValueRef::Cell { ds, row, col },
                    location,
                    printed,
                    value,
                ));
            }
        }
    }
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

fn erratum(model: &Model, at: ValueRef, location: String, printed: f64, value: f64) -> Erratum {
    let (field, _) = model.get(at);
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
        would_need: would_need(model, at, printed),
    }
}

/// For each numeric input of the formula, the value that would make it give `target`.
fn would_need(model: &Model, at: ValueRef, target: f64) -> Vec<String> {
    let data = &model.data;
    let (dep, ctx) = match at {
        ValueRef::Global(g) => (Dep::Global(g), Ctx::global(data)),
        ValueRef::Cell { ds, row, col } => (Dep::Column(ds, col), Ctx::row(data, ds, row)),
    };
    let Some(compiled) = model.formulas.get(&dep) else {
        return Vec::new();
    };
    let mut inputs: Vec<(Override, ValueRef)> = Vec::new();
    crate::claims::visit(&compiled.ir, &mut |n| {
        let found = match (n, at) {
            (Ir::Col(c, _), ValueRef::Cell { ds, row, .. }) => {
                Some((Override::Col(*c, 0.0), ValueRef::Cell { ds, row, col: *c }))
            }
            (Ir::Global(g, _), _) => Some((Override::Global(*g, 0.0), ValueRef::Global(*g))),
            (
                Ir::Field {
                    ds,
                    row: RowSel::Fixed(r),
                    col,
                    ..
                },
                _,
            ) => Some((
                Override::Cell {
                    ds: *ds,
                    row: *r as usize,
                    col: *col,
                    value: 0.0,
                },
                ValueRef::Cell {
                    ds: *ds,
                    row: *r as usize,
                    col: *col,
                },
            )),
            _ => None,
        };
        if let Some(f) = found {
            if !inputs.iter().any(|(_, r)| *r == f.1) {
                inputs.push(f);
            }
        }
    });
    let mut out = Vec::new();
    for (ov, r) in inputs {
        let (field, value) = model.get(r);
        let Some(current) = value.number() else {
            continue;
        };
        let eval_with = |x: f64| -> Option<f64> {
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
        };
        if let Some(x) = solve(eval_with, current, target) {
            if x.is_finite()
                && (current <= 0.0 || x > 0.0)
                && (x - current).abs() > current.abs() * 1e-9
            {
                let name = match r {
                    ValueRef::Global(_) => field.name.clone(),
                    ValueRef::Cell { ds, row, .. } => {
                        let d = &data.datasets[ds];
                        if matches!(at, ValueRef::Cell { ds: a, row: b, .. } if a == ds && b == row)
                        {
                            field.title.clone()
                        } else {
                            format!("{} of {}", field.title, d.row_label(row))
                        }
                    }
                };
                let shown_field = Field {
                    precision: field.precision.map(|p| p + 1),
                    ..field.clone()
                };
                out.push(format!(
                    "{name} = {} (data: {})",
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

/// The errata table, and the list of figures kept as printed.
pub fn render(model: &Model, errata: &[Erratum], root: &str) -> String {
    let mut out = String::new();
    out.push_str("<div class=\"table-wrap\"><table class=\"data errata\"><thead><tr>");
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
    for e in errata {
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
            "<tr><td>{}</td><td class=\"num printed\">{}</td><td class=\"num derived\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            escape_html(&e.location),
            escape_html(&e.printed),
            escape_html(&e.recomputed),
            escape_html(&format!("{:+.1}%", e.difference)),
            need
        );
    }
    if errata.is_empty() {
        out.push_str("<tr><td colspan=\"5\">Every printed figure agrees with its recomputed value.</td></tr>");
    }
    let _ = write!(
        out,
        "</tbody></table><p class=\"table-note\">{} printed figures differ from the value the build computes from the same inputs. <a href=\"{root}data/\">Data</a>.</p></div>",
        errata.len()
    );
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
