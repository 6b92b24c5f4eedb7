//! HTML tables of dataset rows: headers with units, numbers right-aligned, derived cells marked
//! with their formula, figures kept as printed marked as such, and the dataset's source below.

use std::fmt::Write as _;

use crate::data::{Field, Value};
use crate::markdown::escape_html;
use crate::model::{Model, ValueRef};

/// Units shown in every cell rather than in the header: they are short and read as part of the
/// number ("2.8x", "47%").
fn unit_in_cells(field: &Field) -> bool {
    matches!(
        crate::model::styled_unit(field, None).symbol.as_str(),
        "x" | "%" | ""
    )
}

/// The header of a column: its title, with its unit unless cells show it.
pub fn default_header(field: &Field) -> String {
    if !field.ty.is_numeric() || unit_in_cells(field) || field.title.contains(&field.unit.symbol) {
        field.title.clone()
    } else {
        format!("{} ({})", field.title, field.unit.symbol)
    }
}

/// A cell as shown in a table.
fn cell_text(model: &Model, field: &Field, value: &Value) -> String {
    if field.ty.is_numeric() && !unit_in_cells(field) {
        if let Value::Missing = value {
            return crate::format::MISSING.to_string();
        }
        return model.display_number(field, value, None, None);
    }
    model.display(field, value)
}

/// A column of a table: a column of the dataset itself, or, through a `ref:` column, a column
/// of the row it points to (`gpu.vram`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableCol {
    /// The `ref:` column of the table's dataset to go through, if any.
    pub via: Option<usize>,
    /// The dataset and column shown.
    pub ds: usize,
    pub col: usize,
}

impl TableCol {
    /// The value shown for a row of the table's dataset `base`.
    pub fn value_ref(&self, model: &Model, base: usize, row: usize) -> Option<ValueRef> {
        match self.via {
            None => Some(ValueRef::Cell {
                ds: base,
                row,
                col: self.col,
            }),
            Some(via) => match model.data.datasets[base].columns[via].cells[row] {
                Value::Ref(r) => Some(ValueRef::Cell {
                    ds: self.ds,
                    row: r as usize,
                    col: self.col,
                }),
                _ => None,
            },
        }
    }

    /// The field of the column shown.
    pub fn field<'a>(&self, model: &'a Model) -> &'a Field {
        &model.data.datasets[self.ds].columns[self.col].field
    }
}

/// Where a table is shown: the page's path to the site root, and the errata its figures link to.
pub struct Page<'a> {
    pub root: &'a str,
    pub errata: &'a [crate::errata::Erratum],
    /// The address of the errata page, if the wiki has one.
    pub errata_page: Option<&'a str>,
}

/// Renders the rows and columns of a dataset as an HTML table.
pub fn render(
    model: &Model,
    ds: usize,
    cols: &[TableCol],
    rows: &[usize],
    headers: &[String],
    caption: Option<&str>,
    page: &Page,
) -> String {
    let root = page.root;
    let errata = (page.errata, page.errata_page);
    let d = &model.data.datasets[ds];
    let mut out = String::new();
    let caption = caption.unwrap_or(&d.meta.title);
    // A table wider than the screen scrolls within its frame, which keyboards reach too.
    let _ = write!(
        out,
        "<div class=\"table-wrap\" tabindex=\"0\" role=\"region\" aria-label=\"{}\"><table class=\"data\">",
        escape_html(if caption.is_empty() { &d.meta.title } else { caption })
    );
    if !caption.is_empty() {
        let _ = write!(out, "<caption>{}</caption>", escape_html(caption));
    }
    out.push_str("<thead><tr>");
    for (c, h) in cols.iter().zip(headers) {
        let field = c.field(model);
        let class = if field.ty.is_numeric() {
            " class=\"num\""
        } else {
            ""
        };
        let title = field
            .description
            .as_deref()
            .map_or(String::new(), |t| format!(" title=\"{}\"", escape_html(t)));
        // A stale column says so in its header, in words (not only by colour).
        let stale = model
            .stale
            .columns
            .get(&(c.ds, c.col))
            .map_or(String::new(), |s| {
                format!(
                    " <span class=\"stale-mark\">(as of {})</span>",
                    escape_html(&s.as_of)
                )
            });
        let _ = write!(
            out,
            "<th scope=\"col\"{class}{title}>{}{stale}</th>",
            escape_html(h)
        );
    }
    out.push_str("</tr></thead><tbody>");
    let mut any_derived = false;
    let mut any_printed = false;
    for &r in rows {
        out.push_str("<tr>");
        for c in cols {
            let field = c.field(model);
            let mut classes = Vec::new();
            if field.ty.is_numeric() {
                classes.push("num");
            }
            let mut title = String::new();
            let stale = model.stale.columns.get(&(c.ds, c.col));
            if let Some(s) = stale {
                classes.push("stale");
                title = format!(" title=\"{}\"", escape_html(&model.stale.note(s)));
            } else if let Some(f) = &field.formula {
                classes.push("derived");
                any_derived = true;
                title = format!(" title=\"= {}\"", escape_html(f.text.trim()));
            } else if field.basis_printed {
                classes.push("printed");
                any_printed = true;
                title = " title=\"as printed by the source; its inputs do not determine it\""
                    .to_string();
            }
            let class = if classes.is_empty() {
                String::new()
            } else {
                format!(" class=\"{}\"", classes.join(" "))
            };
            let at = c.value_ref(model, ds, r);
            let text = match at {
                Some(at) => {
                    let (_, value) = model.get(at);
                    cell_text(model, field, value)
                }
                None => crate::format::MISSING.to_string(),
            };
            // A figure the source printed otherwise links to its row of the errata.
            let mark = at
                .and_then(|at| crate::errata::link_of(model, errata.0, errata.1, at))
                .map_or(String::new(), |(href, label)| {
                    format!(" {}", crate::errata::mark(root, &href, &label))
                });
            let _ = write!(out, "<td{class}{title}>{}{mark}</td>", escape_html(&text));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
    let mut note = table_note(model, ds, any_derived, any_printed, root);
    let stale: Vec<String> = cols
        .iter()
        .filter_map(|c| {
            let s = model.stale.columns.get(&(c.ds, c.col))?;
            Some(format!(
                "{} was {}.",
                escape_html(&c.field(model).title),
                escape_html(&model.stale.note(s))
            ))
        })
        .collect();
    if !stale.is_empty() {
        note = format!(
            "<span class=\"stale-key\">Stale:</span> {} {note}",
            stale.join(" ")
        );
    }
    if !note.is_empty() {
        let _ = write!(out, "<p class=\"table-note\">{note}</p>");
    }
    out.push_str("</div>");
    out
}

fn table_note(model: &Model, ds: usize, derived: bool, printed: bool, root: &str) -> String {
    let d = &model.data.datasets[ds];
    let mut parts = Vec::new();
    if let Some(src) = &d.meta.source {
        let src = match &d.meta.source_url {
            Some(url) => format!("<a href=\"{}\">{}</a>", escape_html(url), escape_html(src)),
            None => escape_html(src),
        };
        let as_of = d
            .meta
            .as_of
            .as_deref()
            .map_or(String::new(), |a| format!(", {}", escape_html(a)));
        parts.push(format!("Source: {src}{as_of}."));
    }
    if derived {
        parts.push("<span class=\"derived-key\">Computed</span> columns are derived by the build from the data.".into());
    }
    if printed {
        parts.push("Underlined figures are kept as the source printed them.".into());
    }
    parts.push(format!(
        "<a href=\"{root}data/#dataset-{}\">Data</a>.",
        escape_html(&d.name)
    ));
    parts.join(" ")
}
