//! Charts as inline SVG: horizontal bars (one or several values per row), lines and scatter
//! plots, with an optional reference line and log scales. No script, no external file,
//! deterministic bytes; colours come from the theme's CSS variables (so dark mode works), every
//! mark carries its value in a `<title>`, and the data follows as a table for screen readers
//! and for reading exact figures.

use std::fmt::Write as _;

use crate::format::format_number;
use crate::markdown::escape_html;
use crate::model::{Model, ValueRef};
use crate::table::TableCol;

/// The kinds of chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Bar,
    Line,
    Scatter,
}

impl Kind {
    pub fn parse(name: &str) -> Option<Kind> {
        match name {
            "bar" => Some(Kind::Bar),
            "line" => Some(Kind::Line),
            "scatter" => Some(Kind::Scatter),
            _ => None,
        }
    }
}

/// What to draw.
pub struct Spec {
    pub kind: Kind,
    pub ds: usize,
    /// Names the rows: bar labels, point labels.
    pub label: Option<TableCol>,
    /// The horizontal axis of a line or scatter chart.
    pub x: Option<TableCol>,
    /// One or more values per row: grouped bars, several lines.
    pub ys: Vec<TableCol>,
    pub rows: Vec<usize>,
    pub title: String,
    pub description: Option<String>,
    /// A reference value on the value axis, in the unit of the first `y`, with its label.
    pub reference: Option<(f64, String)>,
    pub log_x: bool,
    pub log_y: bool,
}

const SERIES: usize = 4;

/// One axis: a linear or logarithmic map from values onto `[from, to]` pixels.
#[derive(Debug, Clone, Copy)]
struct Axis {
    lo: f64,
    hi: f64,
    log: bool,
    from: f64,
    to: f64,
}

impl Axis {
    /// An axis covering `values`. A linear axis of bars starts at 0 (a bar's length is its
    /// value); one of points does too when the values come near it, and otherwise spans them.
    fn new(values: impl Iterator<Item = f64>, log: bool, from: f64, to: f64) -> Axis {
        Axis::spanning(values, log, true, from, to)
    }

    fn spanning(
        values: impl Iterator<Item = f64>,
        log: bool,
        bars: bool,
        from: f64,
        to: f64,
    ) -> Axis {
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for v in values.filter(|v| v.is_finite() && (!log || *v > 0.0)) {
            lo = lo.min(v);
            hi = hi.max(v);
        }
        if !lo.is_finite() {
            (lo, hi) = if log { (1.0, 10.0) } else { (0.0, 1.0) };
        }
        if log {
            lo = 10f64.powf(lo.log10().floor());
            hi = 10f64.powf(hi.log10().ceil());
            if hi <= lo {
                hi = lo * 10.0;
            }
        } else {
            if bars || lo < 0.0 || lo <= 0.5 * hi {
                lo = lo.min(0.0);
                hi = hi.max(0.0);
            }
            if hi <= lo {
                hi = lo + 1.0;
            }
            let step = nice_step(hi - lo);
            lo = (lo / step).floor() * step;
            hi = (hi / step).ceil() * step;
        }
        Axis {
            lo,
            hi,
            log,
            from,
            to,
        }
    }

    fn at(&self, v: f64) -> f64 {
        let t = if self.log {
            (v.max(self.lo).log10() - self.lo.log10()) / (self.hi.log10() - self.lo.log10())
        } else {
            (v - self.lo) / (self.hi - self.lo)
        };
        self.from + t.clamp(0.0, 1.0) * (self.to - self.from)
    }

    /// Tick values and their labels.
    fn ticks(&self) -> Vec<(f64, String)> {
        if self.log {
            let (a, b) = (
                self.lo.log10().round() as i32,
                self.hi.log10().round() as i32,
            );
            let few = b - a <= 2;
            let mut out = Vec::new();
            for e in a..=b {
                let p = 10f64.powi(e);
                let dec = (-e).max(0) as usize;
                out.push((p, format_number(p, dec)));
                if few && e < b {
                    for m in [2.0, 5.0] {
                        out.push((m * p, format_number(m * p, dec)));
                    }
                }
            }
            return out;
        }
        let step = nice_step(self.hi - self.lo);
        let dec = (-step.log10().floor()).max(0.0) as usize;
        let n = ((self.hi - self.lo) / step).round() as i64;
        (0..=n)
            .map(|i| {
                let v = self.lo + i as f64 * step;
                (v, format_number(v, dec))
            })
            .collect()
    }
}

/// A step of 1, 2 or 5 times a power of ten giving about five intervals over `range`.
fn nice_step(range: f64) -> f64 {
    let raw = range / 5.0;
    let p = 10f64.powf(raw.log10().floor());
    let m = raw / p;
    p * if m <= 1.0 {
        1.0
    } else if m <= 2.0 {
        2.0
    } else if m <= 5.0 {
        5.0
    } else {
        10.0
    }
}

/// The number of a column for a row, in the column's unit, if it has one.
fn number(model: &Model, spec: &Spec, c: &TableCol, row: usize) -> Option<f64> {
    let at = c.value_ref(model, spec.ds, row)?;
    let (field, value) = model.get(at);
    value.number().map(|n| n / field.unit.factor)
}

fn shown(model: &Model, spec: &Spec, c: &TableCol, row: usize) -> String {
    match c.value_ref(model, spec.ds, row) {
        Some(at) => {
            let (field, value) = model.get(at);
            model.display(field, value)
        }
        None => crate::format::MISSING.to_string(),
    }
}

fn label(model: &Model, spec: &Spec, row: usize) -> String {
    let text = match &spec.label {
        Some(c) => shown(model, spec, c, row),
        None => model.data.datasets[spec.ds].row_label(row),
    };
    // Long names would run off the edge of the chart.
    if text.chars().count() > 24 {
        text.chars().take(23).collect::<String>() + "…"
    } else {
        text
    }
}

/// The title of an axis: the column's title, with its unit unless the title says it.
fn axis_title(model: &Model, c: &TableCol) -> String {
    let f = c.field(model);
    let unit = crate::model::styled_unit(f, None).symbol;
    if unit.is_empty() || unit == "x" || f.title.contains(&unit) {
        f.title.clone()
    } else {
        format!("{} ({unit})", f.title)
    }
}

/// Every value a chart shows, for the page's dependencies.
pub fn values(model: &Model, spec: &Spec) -> Vec<ValueRef> {
    let mut out = Vec::new();
    for &row in &spec.rows {
        for c in spec.ys.iter().chain(&spec.x).chain(&spec.label) {
            out.extend(c.value_ref(model, spec.ds, row));
        }
    }
    out
}

/// Renders a chart.
pub fn render(model: &Model, spec: &Spec) -> String {
    let mut svg = String::new();
    let (w, h) = match spec.kind {
        Kind::Bar => bars(model, spec, &mut svg),
        Kind::Line | Kind::Scatter => plot(model, spec, &mut svg),
    };
    let name = match &spec.description {
        Some(d) => format!("{}. {d}", spec.title),
        None => spec.title.clone(),
    };
    let mut out = String::new();
    let _ = write!(
        out,
        "<figure class=\"chart\"><svg viewBox=\"0 0 {w} {h:.0}\" role=\"img\" aria-label=\"{}\" xmlns=\"http://www.w3.org/2000/svg\">{svg}</svg>",
        escape_html(&name),
    );
    // The caption closes the figure (HTML allows it first or last only).
    data_table(model, spec, &mut out);
    let _ = write!(out, "<figcaption>{}", escape_html(&spec.title));
    if let Some(d) = &spec.description {
        let _ = write!(
            out,
            "<span class=\"chart-description\">{}</span>",
            escape_html(d)
        );
    }
    out.push_str("</figcaption></figure>");
    out
}

/// The chart's data as a table, folded away under "The data".
fn data_table(model: &Model, spec: &Spec, out: &mut String) {
    out.push_str("<details class=\"chart-data\"><summary>The data</summary><div class=\"table-wrap\" tabindex=\"0\" role=\"region\" aria-label=\"The data of the chart\"><table class=\"data\"><thead><tr><th scope=\"col\">");
    out.push_str(&escape_html(
        &spec
            .label
            .as_ref()
            .map_or_else(|| "Row".to_string(), |c| c.field(model).title.clone()),
    ));
    out.push_str("</th>");
    for c in spec.x.iter().chain(&spec.ys) {
        let _ = write!(
            out,
            "<th scope=\"col\" class=\"num\">{}</th>",
            escape_html(&c.field(model).title)
        );
    }
    out.push_str("</tr></thead><tbody>");
    for &row in &spec.rows {
        let _ = write!(
            out,
            "<tr><th scope=\"row\">{}</th>",
            escape_html(&label(model, spec, row))
        );
        for c in spec.x.iter().chain(&spec.ys) {
            let _ = write!(
                out,
                "<td class=\"num\">{}</td>",
                escape_html(&shown(model, spec, c, row))
            );
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></div></details>");
}

fn legend(model: &Model, spec: &Spec, x: f64, y: f64, svg: &mut String) -> f64 {
    if spec.ys.len() < 2 {
        return y;
    }
    let mut y = y;
    for (i, c) in spec.ys.iter().enumerate() {
        let _ = write!(
            svg,
            "<rect class=\"s{}\" x=\"{x:.1}\" y=\"{:.1}\" width=\"12\" height=\"12\"/><text class=\"label\" x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\">{}</text>",
            i % SERIES,
            y,
            x + 18.0,
            y + 10.5,
            escape_html(&c.field(model).title)
        );
        y += 18.0;
    }
    y + 6.0
}

const WIDTH: f64 = 560.0;

/// Horizontal bars, one group per row; returns the size.
fn bars(model: &Model, spec: &Spec, svg: &mut String) -> (f64, f64) {
    const LABEL_W: f64 = 170.0;
    const VALUE_W: f64 = 100.0;
    const BAR_H: f64 = 22.0;
    const GAP: f64 = 10.0;
    let n = spec.ys.len().max(1);
    let bar_h = if n == 1 { BAR_H } else { 16.0 };
    let group_h = n as f64 * bar_h + GAP;
    let top = legend(model, spec, LABEL_W, 4.0, svg).max(if spec.reference.is_some() {
        20.0
    } else {
        GAP
    });
    let values = spec
        .rows
        .iter()
        .flat_map(|&r| spec.ys.iter().map(move |c| (r, c)))
        .filter_map(|(r, c)| number(model, spec, c, r))
        .chain(spec.reference.as_ref().map(|r| r.0));
    let axis = Axis::new(values, spec.log_x, LABEL_W, WIDTH - VALUE_W);
    let body = spec.rows.len() as f64 * group_h;
    let ticks = spec.log_x;
    let height = top + body + if ticks { 24.0 } else { 0.0 };
    if ticks {
        for (v, text) in axis.ticks() {
            let x = axis.at(v);
            let _ = write!(
                svg,
                "<line class=\"grid\" x1=\"{x:.1}\" y1=\"{top:.1}\" x2=\"{x:.1}\" y2=\"{:.1}\"/><text class=\"tick\" x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"11\">{}</text>",
                top + body,
                top + body + 16.0,
                escape_html(&text)
            );
        }
    }
    let zero = if axis.log { axis.from } else { axis.at(0.0) };
    for (i, &row) in spec.rows.iter().enumerate() {
        let gy = top + i as f64 * group_h;
        let _ = write!(
            svg,
            "<text class=\"label\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" font-size=\"13\">{}</text>",
            LABEL_W - 6.0,
            gy + n as f64 * bar_h / 2.0 + 4.5,
            escape_html(&label(model, spec, row))
        );
        for (s, c) in spec.ys.iter().enumerate() {
            let Some(v) = number(model, spec, c, row) else {
                continue;
            };
            let y = gy + s as f64 * bar_h;
            let end = axis.at(v);
            let (x, w) = if end < zero {
                (end, zero - end)
            } else {
                (zero, (end - zero).max(1.0))
            };
            let text = shown(model, spec, c, row);
            let text_x = if end < zero { zero + 6.0 } else { x + w + 6.0 };
            let what = if n > 1 {
                format!("{} {}", label(model, spec, row), c.field(model).title)
            } else {
                label(model, spec, row)
            };
            let _ = write!(
                svg,
                "<rect class=\"bar s{}{}\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{:.1}\"><title>{}: {}</title></rect><text class=\"value\" x=\"{text_x:.1}\" y=\"{:.1}\" font-size=\"12\">{}</text>",
                s % SERIES,
                if v < 0.0 { " negative" } else { "" },
                bar_h - 2.0,
                escape_html(&what),
                escape_html(&text),
                y + bar_h * 0.68,
                escape_html(&text)
            );
        }
    }
    if !axis.log && axis.lo < 0.0 {
        let _ = write!(
            svg,
            "<line class=\"zero\" x1=\"{zero:.1}\" y1=\"{top:.1}\" x2=\"{zero:.1}\" y2=\"{:.1}\"><title>0</title></line>",
            top + body
        );
    }
    if let Some((v, name)) = &spec.reference {
        let x = axis.at(*v);
        let _ = write!(
            svg,
            "<line class=\"reference\" x1=\"{x:.1}\" y1=\"{:.1}\" x2=\"{x:.1}\" y2=\"{:.1}\"><title>{}</title></line><text class=\"reference-label\" x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"11\">{}</text>",
            top - 4.0,
            top + body,
            escape_html(name),
            top - 8.0,
            escape_html(name)
        );
    }
    (WIDTH, height)
}

/// Lines (one per `y`, points in row order) or a scatter plot; returns the size.
fn plot(model: &Model, spec: &Spec, svg: &mut String) -> (f64, f64) {
    const LEFT: f64 = 64.0;
    const RIGHT: f64 = 24.0;
    const TOP: f64 = 16.0;
    const PLOT_H: f64 = 240.0;
    let xcol = spec.x.as_ref().expect("line and scatter charts have an x");
    let top = legend(model, spec, LEFT + 8.0, TOP, svg);
    let bottom = top + PLOT_H;
    let height = bottom + 48.0;
    let xs = spec
        .rows
        .iter()
        .filter_map(|&r| number(model, spec, xcol, r));
    let xa = Axis::spanning(xs, spec.log_x, false, LEFT, WIDTH - RIGHT);
    let ys = spec
        .rows
        .iter()
        .flat_map(|&r| spec.ys.iter().map(move |c| (r, c)))
        .filter_map(|(r, c)| number(model, spec, c, r))
        .chain(spec.reference.as_ref().map(|r| r.0));
    let ya = Axis::spanning(ys, spec.log_y, false, bottom, top);
    for (v, text) in xa.ticks() {
        let x = xa.at(v);
        let _ = write!(
            svg,
            "<line class=\"grid\" x1=\"{x:.1}\" y1=\"{top:.1}\" x2=\"{x:.1}\" y2=\"{bottom:.1}\"/><text class=\"tick\" x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"11\">{}</text>",
            bottom + 16.0,
            escape_html(&text)
        );
    }
    for (v, text) in ya.ticks() {
        let y = ya.at(v);
        let _ = write!(
            svg,
            "<line class=\"grid\" x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\"/><text class=\"tick\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" font-size=\"11\">{}</text>",
            WIDTH - RIGHT,
            LEFT - 6.0,
            y + 4.0,
            escape_html(&text)
        );
    }
    let _ = write!(
        svg,
        "<text class=\"axis-title\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"12\">{}</text>",
        (LEFT + WIDTH - RIGHT) / 2.0,
        bottom + 36.0,
        escape_html(&format!("{}{}", axis_title(model, xcol), if spec.log_x { ", log scale" } else { "" }))
    );
    if spec.ys.len() == 1 {
        let _ = write!(
            svg,
            "<text class=\"axis-title\" x=\"{LEFT}\" y=\"{:.1}\" font-size=\"12\">{}</text>",
            top - 6.0,
            escape_html(&format!(
                "{}{}",
                axis_title(model, &spec.ys[0]),
                if spec.log_y { ", log scale" } else { "" }
            ))
        );
    }
    if let Some((v, name)) = &spec.reference {
        let y = ya.at(*v);
        let _ = write!(
            svg,
            "<line class=\"reference\" x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\"><title>{}</title></line><text class=\"reference-label\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" font-size=\"11\">{}</text>",
            WIDTH - RIGHT,
            escape_html(name),
            WIDTH - RIGHT,
            y - 5.0,
            escape_html(name)
        );
    }
    // Point labels of a scatter plot, skipped where one would cover another.
    let mut placed: Vec<(f64, f64)> = Vec::new();
    for (s, c) in spec.ys.iter().enumerate() {
        let points: Vec<(usize, f64, f64)> = spec
            .rows
            .iter()
            .filter_map(|&r| {
                Some((
                    r,
                    xa.at(number(model, spec, xcol, r)?),
                    ya.at(number(model, spec, c, r)?),
                ))
            })
            .collect();
        if spec.kind == Kind::Line && points.len() > 1 {
            let path: Vec<String> = points
                .iter()
                .map(|(_, x, y)| format!("{x:.1},{y:.1}"))
                .collect();
            let _ = write!(
                svg,
                "<polyline class=\"line s{}\" fill=\"none\" points=\"{}\"/>",
                s % SERIES,
                path.join(" ")
            );
        }
        for &(r, x, y) in &points {
            let what = format!(
                "{}: {}, {}",
                label(model, spec, r),
                shown(model, spec, xcol, r),
                shown(model, spec, c, r)
            );
            let _ = write!(
                svg,
                "<circle class=\"point s{}\" cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"4\"><title>{}</title></circle>",
                s % SERIES,
                escape_html(&what)
            );
            if spec.kind == Kind::Scatter {
                let free = placed
                    .iter()
                    .all(|(px, py)| (px - x).abs() > 70.0 || (py - y).abs() > 13.0);
                if free {
                    placed.push((x, y));
                    let (anchor, tx) = if x > WIDTH - 150.0 {
                        ("end", x - 7.0)
                    } else {
                        ("start", x + 7.0)
                    };
                    let _ = write!(
                        svg,
                        "<text class=\"point-label\" x=\"{tx:.1}\" y=\"{:.1}\" text-anchor=\"{anchor}\" font-size=\"11\">{}</text>",
                        y + 4.0,
                        escape_html(&label(model, spec, r))
                    );
                }
            }
        }
    }
    (WIDTH, height)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_have_round_ticks() {
        let a = Axis::new([3.6, 6.8].into_iter(), false, 0.0, 100.0);
        assert_eq!((a.lo, a.hi), (0.0, 8.0));
        let t: Vec<String> = a.ticks().into_iter().map(|t| t.1).collect();
        assert_eq!(t, ["0", "2", "4", "6", "8"]);
        let l = Axis::new([0.02, 75.0].into_iter(), true, 0.0, 100.0);
        assert_eq!((l.lo, l.hi), (0.01, 100.0));
        let t: Vec<String> = l.ticks().into_iter().map(|t| t.1).collect();
        assert_eq!(t, ["0.01", "0.1", "1", "10", "100"]);
        assert_eq!(l.at(1.0), 50.0);
        let few = Axis::new([2.0, 40.0].into_iter(), true, 0.0, 1.0);
        let t: Vec<String> = few.ticks().into_iter().map(|t| t.1).collect();
        assert_eq!(t, ["1", "2", "5", "10", "20", "50", "100"]);
    }
}
