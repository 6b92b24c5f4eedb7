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
    let max = bars.iter().map(|b| b.1).fold(0.0_f64, f64::max);
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
    for (i, (label, v, shown)) in bars.iter().enumerate() {
        let y = GAP + i as f64 * (BAR_H + GAP);
        let w = if max > 0.0 {
            (v.max(0.0) / max * span).max(1.0)
        } else {
            1.0
        };
        let _ = write!(
            svg,
            "<text class=\"label\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" font-size=\"13\">{}</text><rect class=\"bar\" x=\"{LABEL_W}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{BAR_H}\"><title>{}: {}</title></rect><text class=\"value\" x=\"{:.1}\" y=\"{:.1}\" font-size=\"13\">{}</text>",
            LABEL_W - 6.0,
            y + BAR_H * 0.7,
            escape_html(label),
            escape_html(label),
            escape_html(shown),
            LABEL_W + w + 6.0,
            y + BAR_H * 0.7,
            escape_html(shown)
        );
    }
    let _ = write!(
        svg,
        "</svg><figcaption>{}</figcaption></figure>",
        escape_html(&title)
    );
    svg
}
