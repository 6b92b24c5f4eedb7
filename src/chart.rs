//! Bar charts as inline SVG: no script, no external file, readable on a phone, deterministic.

use std::fmt::Write as _;

use crate::markdown::escape_html;
use crate::model::Model;

const WIDTH: f64 = 480.0;
const LABEL_W: f64 = 170.0;
const VALUE_W: f64 = 90.0;
const BAR_H: f64 = 22.0;
const GAP: f64 = 8.0;

/// A horizontal bar chart of one numeric column, one bar per row.
pub fn render(
    model: &Model,
    ds: usize,
    label_col: Option<usize>,
    value_col: usize,
    rows: &[usize],
    title: Option<&str>,
) -> String {
    let d = &model.data.datasets[ds];
    let field = &d.columns[value_col].field;
    let bars: Vec<(String, f64, String)> = rows
        .iter()
        .filter_map(|&r| {
            let cell = &d.columns[value_col].cells[r];
            let v = cell.number()? / field.unit.factor;
            let label = match label_col {
                Some(c) => model.display(&d.columns[c].field, &d.columns[c].cells[r]),
                None => d.row_label(r),
            };
            // Long names would run off the left edge of the chart.
            let label = if label.chars().count() > 24 {
                label.chars().take(23).collect::<String>() + "…"
            } else {
                label
            };
            Some((label, v, model.display(field, cell)))
        })
        .collect();
    // The axis runs from the smallest value (or 0) to the largest (or 0): negative values get
    // bars to the left of a zero line, positive ones to its right.
    let max = bars.iter().map(|b| b.1).fold(0.0_f64, f64::max);
    let min = bars.iter().map(|b| b.1).fold(0.0_f64, f64::min);
    let height = bars.len() as f64 * (BAR_H + GAP) + GAP;
    let title = title.map_or_else(
        || format!("{} by {}", field.title, d.meta.title),
        str::to_string,
    );
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<figure class=\"chart\"><svg viewBox=\"0 0 {WIDTH} {height}\" role=\"img\" aria-label=\"{}\" xmlns=\"http://www.w3.org/2000/svg\">",
        escape_html(&title)
    );
    let span = WIDTH - LABEL_W - VALUE_W;
    let range = max - min;
    let scale = |v: f64| if range > 0.0 { v / range * span } else { 0.0 };
    let zero_x = LABEL_W + scale(-min);
    for (i, (label, v, shown)) in bars.iter().enumerate() {
        let y = GAP + i as f64 * (BAR_H + GAP);
        let w = if range > 0.0 {
            scale(v.abs()).max(1.0)
        } else {
            1.0
        };
        let x = if *v < 0.0 { zero_x - w } else { zero_x };
        // The value is written after the bar's end, or after the zero line for a negative bar.
        let text_x = if *v < 0.0 { zero_x + 6.0 } else { x + w + 6.0 };
        let bar_x = if min < 0.0 {
            format!("{x:.1}")
        } else {
            format!("{LABEL_W}")
        };
        let _ = write!(
            svg,
            "<text class=\"label\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" font-size=\"13\">{}</text><rect class=\"bar{}\" x=\"{bar_x}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{BAR_H}\"><title>{}: {}</title></rect><text class=\"value\" x=\"{text_x:.1}\" y=\"{:.1}\" font-size=\"13\">{}</text>",
            LABEL_W - 6.0,
            y + BAR_H * 0.7,
            escape_html(label),
            if *v < 0.0 { " negative" } else { "" },
            escape_html(label),
            escape_html(shown),
            y + BAR_H * 0.7,
            escape_html(shown)
        );
    }
    if min < 0.0 {
        let _ = write!(
            svg,
            "<line class=\"zero\" x1=\"{zero_x:.1}\" y1=\"0\" x2=\"{zero_x:.1}\" y2=\"{height}\" stroke=\"currentColor\" stroke-width=\"1\"><title>0</title></line>"
        );
    }
    let _ = write!(
        svg,
        "</svg><figcaption>{}</figcaption></figure>",
        escape_html(&title)
    );
    svg
}
