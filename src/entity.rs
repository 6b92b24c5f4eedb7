//! Pages made from data: one per dataset (`data/<name>/`: every row, derived columns marked
//! with their formula, sources, downloads) and one per row of a dataset with `pages:` (an
//! entity page: every value of the row with its unit, source and as-of date, the rows of other
//! datasets that refer to it, the articles that show one of its values, what links to it).

use std::collections::{BTreeSet, HashMap};

use rayon::prelude::*;
use serde_json::json;

use crate::content::Article;
use crate::data::{ColType, Dataset, Value};
use crate::diag::{Diagnostic, Diagnostics};
use crate::layout::{PageInfo, PageLink, Shared};
use crate::model::{Input, Model, ValueRef};
use crate::site::PageRecord;
use crate::source::SourceMap;
use crate::wiki::Backlinks;

/// A dataset page lists at most this many rows; the CSV and JSON downloads hold them all.
pub const DATASET_PAGE_ROWS: usize = 1000;

/// Where the pages made from data are published.
#[derive(Debug, Default)]
pub struct Addresses {
    /// Per dataset: `data/<name>`.
    datasets: Vec<String>,
    /// Per dataset: the address of each row's page, or nothing when it has no `pages:`.
    rows: Vec<Vec<String>>,
}

impl Addresses {
    /// The address of a dataset's page (no slashes at the ends).
    pub fn dataset(&self, ds: usize) -> &str {
        &self.datasets[ds]
    }

    /// The address of a row's page, if its dataset gives rows pages.
    pub fn row(&self, ds: usize, row: usize) -> Option<&str> {
        self.rows.get(ds)?.get(row).map(String::as_str)
    }

    /// The title of a row's page: its `pages: { title: }` column, its label, or its key.
    pub fn row_title(&self, model: &Model, ds: usize, row: usize) -> String {
        let d = &model.data.datasets[ds];
        match d.pages.as_ref().and_then(|p| p.title) {
            Some(c) => match &d.columns[c].cells[row] {
                Value::Text(t) => t.to_string(),
                Value::Missing => d.row_label(row),
                other => model.display(&d.columns[c].field, other),
            },
            None => d.row_label(row),
        }
    }

    /// How many pages are made from data.
    pub fn count(&self) -> usize {
        self.datasets.len() + self.rows.iter().map(Vec::len).sum::<usize>()
    }
}

/// Gives every dataset and every row with a page its address; an address taken twice (by an
/// article, or by two rows whose keys read the same as an address) is an error naming both.
pub fn plan(
    model: &Model,
    articles: &[Article],
    sources: &SourceMap,
) -> Result<Addresses, Diagnostics> {
    let mut diags = Diagnostics::default();
    let mut taken: HashMap<String, String> = articles
        .iter()
        .map(|a| (a.slug.to_lowercase(), a.path.display().to_string()))
        .collect();
    let mut out = Addresses::default();
    for d in &model.data.datasets {
        out.datasets.push(format!("data/{}", d.name));
        let Some(pages) = &d.pages else {
            out.rows.push(Vec::new());
            continue;
        };
        let mut rows = Vec::with_capacity(d.len());
        for (row, key) in d.row_keys.iter().enumerate() {
            let slug = pages.path.replace("{key}", &crate::markdown::slugify(key));
            let what = format!("the page of row `{key}` of `{}`", d.name);
            if let Some(first) = taken.get(&slug.to_lowercase()) {
                diags.push(
                    Diagnostic::error(format!(
                        "{what} would be published at `{slug}/`, which is already the address of {first}"
                    ))
                    .at(sources, pages.pos)
                    .note(format!("the row is at line {} of {}", d.row_line[row], d.csv_file.as_ref().unwrap_or(&d.file).display()))
                    .help("change `path:` under `pages:`, rename the row's key, or give the article another `slug:`"),
                );
            } else {
                taken.insert(slug.to_lowercase(), what);
            }
            rows.push(slug);
        }
        out.rows.push(rows);
    }
    diags.into_result(out)
}

/// Everything the pages made from data need from the rest of the build.
pub struct Inputs<'a> {
    pub model: &'a Model,
    pub addresses: &'a Addresses,
    pub articles: &'a [Article],
    pub pages: &'a [std::sync::Arc<PageRecord>],
    pub backlinks: &'a Backlinks,
    /// Pages made from data by the previous build, by path: the digest of what each showed,
    /// and its bytes. A page whose digest is unchanged is not rendered again.
    pub previous: Option<&'a Reused>,
    /// The digest of what every page shows besides its own content (see `pipeline::site_key`).
    pub site_key: u64,
    /// Per dataset, the digest of all of it (its downloads are reused while it is unchanged).
    pub dataset_keys: Vec<u64>,
}

/// Pages of a previous build by path: the digest of what each showed, and its bytes.
pub type Reused = HashMap<String, (u64, Vec<u8>)>;

/// A page made from data, as (path in the site, bytes, digest of what it shows), or the
/// layout's error and its name.
pub type Rendered = Result<(String, Vec<u8>, u64), (minijinja::Error, String)>;

/// Renders every dataset page and entity page.
pub fn render(inputs: &Inputs, layouts: &crate::jinja::Layouts, shared: &Shared) -> Vec<Rendered> {
    let model = inputs.model;
    let shown_in = shown_in(inputs);
    let referenced_by = referenced_by(model);
    let mut jobs: Vec<(usize, Option<usize>)> = Vec::new();
    for (ds, d) in model.data.datasets.iter().enumerate() {
        jobs.push((ds, None));
        if d.pages.is_some() {
            jobs.extend((0..d.len()).map(|row| (ds, Some(row))));
        }
    }
    jobs.par_iter()
        .map(|&(ds, row)| {
            let d = &model.data.datasets[ds];
            let (slug, info, name, value, layout) = match row {
                None => {
                    let slug = inputs.addresses.dataset(ds).to_string();
                    let info = page_info(
                        &d.meta.title,
                        d.meta.description.clone(),
                        &slug,
                        "dataset",
                        inputs,
                    );
                    (
                        slug,
                        info,
                        "dataset",
                        dataset_value(inputs, ds),
                        "dataset.html".to_string(),
                    )
                }
                Some(row) => {
                    let slug = inputs
                        .addresses
                        .row(ds, row)
                        .unwrap_or_default()
                        .to_string();
                    let title = inputs.addresses.row_title(model, ds, row);
                    let info = page_info(&title, None, &slug, "entity", inputs);
                    let value = entity_value(inputs, ds, row, &shown_in, &referenced_by);
                    let layout = d
                        .pages
                        .as_ref()
                        .map_or("entity.html".to_string(), |p| p.layout.clone());
                    (slug, info, "entity", value, layout)
                }
            };
            let path = format!("{slug}/index.html");
            // Everything the page shows is in its layout's context.
            let key = crate::deps::Digest::new()
                .add(&inputs.site_key)
                .add(&layout)
                .add(&format!("{info:?}"))
                .add(&value.to_string())
                .finish();
            if let Some((k, bytes)) = inputs.previous.and_then(|p| p.get(&path)) {
                if *k == key {
                    return Ok((path, bytes.clone(), key));
                }
            }
            let extra = minijinja::Value::from(std::collections::BTreeMap::from([(
                name,
                minijinja::Value::from(minijinja::value::Serde(value)),
            )]));
            crate::layout::render_page(layouts, &layout, shared, &info, Some(extra))
                .map(|html| (path, html.into_bytes(), key))
                .map_err(|e| (e, layout))
        })
        .collect()
}

fn page_info(
    title: &str,
    description: Option<String>,
    slug: &str,
    kind: &'static str,
    inputs: &Inputs,
) -> PageInfo {
    PageInfo {
        title: title.to_string(),
        description,
        url: format!("{slug}/"),
        kind,
        content: String::new(),
        toc: Vec::new(),
        updated_from: Vec::new(),
        draft: false,
        backlinks: inputs.backlinks.of(slug),
    }
}

/// For every row: the articles that show one of its values, in title order.
fn shown_in(inputs: &Inputs) -> HashMap<(usize, usize), Vec<PageLink>> {
    // Only rows with a page list them; each article once per row.
    let with_pages: Vec<bool> = inputs
        .model
        .data
        .datasets
        .iter()
        .map(|d| d.pages.is_some())
        .collect();
    let mut per_row: HashMap<(usize, usize), BTreeSet<usize>> = HashMap::new();
    for (i, p) in inputs.pages.iter().enumerate() {
        for v in &p.values {
            if let ValueRef::Cell { ds, row, .. } = *v {
                if with_pages[ds] {
                    per_row.entry((ds, row)).or_default().insert(i);
                }
            }
        }
    }
    let out: HashMap<(usize, usize), BTreeSet<(String, String)>> = per_row
        .into_iter()
        .map(|(k, set)| {
            let a = inputs.articles;
            (
                k,
                set.into_iter()
                    .map(|i| (a[i].front.title.clone(), a[i].url()))
                    .collect(),
            )
        })
        .collect();
    out.into_iter()
        .map(|(k, set)| {
            let links = set
                .into_iter()
                .map(|(title, url)| PageLink {
                    title,
                    description: None,
                    url,
                })
                .collect();
            (k, links)
        })
        .collect()
}

/// For every dataset: for each `ref:` column of another dataset pointing to it, the rows that
/// point to each of its rows. `[target dataset] -> [(dataset, column, rows per target row)]`.
type Referrers = Vec<Vec<(usize, usize, Vec<Vec<u32>>)>>;

fn referenced_by(model: &Model) -> Referrers {
    let datasets = &model.data.datasets;
    let mut out: Referrers = vec![Vec::new(); datasets.len()];
    let index: HashMap<&str, usize> = datasets
        .iter()
        .enumerate()
        .map(|(i, d)| (d.name.as_str(), i))
        .collect();
    for (ds, d) in datasets.iter().enumerate() {
        for (ci, c) in d.columns.iter().enumerate() {
            let ColType::Ref(target) = &c.field.ty else {
                continue;
            };
            let Some(&t) = index.get(target.as_str()) else {
                continue;
            };
            let mut rows = vec![Vec::new(); datasets[t].len()];
            for (r, v) in c.cells.iter().enumerate() {
                if let Value::Ref(to) = v {
                    if let Some(list) = rows.get_mut(*to as usize) {
                        list.push(r as u32);
                    }
                }
            }
            out[t].push((ds, ci, rows));
        }
    }
    out
}

/// A link to a row: its page, or its line on its dataset's page.
fn row_link(inputs: &Inputs, ds: usize, row: usize) -> serde_json::Value {
    let model = inputs.model;
    let d = &model.data.datasets[ds];
    let url = match inputs.addresses.row(ds, row) {
        Some(slug) => format!("{slug}/"),
        None => format!(
            "{}/#row-{}",
            inputs.addresses.dataset(ds),
            crate::markdown::slugify(&d.row_keys[row])
        ),
    };
    json!({ "title": inputs.addresses.row_title(model, ds, row), "url": url, "key": &*d.row_keys[row] })
}

fn column_value(model: &Model, ds: usize, ci: usize) -> serde_json::Value {
    let d = &model.data.datasets[ds];
    let f = &d.columns[ci].field;
    let stale = model
        .stale
        .columns
        .get(&(ds, ci))
        .map(|s| model.stale.note(s));
    json!({
        "stale": stale,
        "name": f.name, "title": f.title, "unit": f.unit.symbol, "type": f.ty.name(),
        "description": f.description, "derived": f.is_derived(), "numeric": f.ty.is_numeric(),
        "formula": f.formula.as_ref().map(|x| x.text.trim().to_string()),
        "source": f.source.as_ref().or(d.meta.source.as_ref()),
        "source_url": f.source_url.as_ref().or(d.meta.source_url.as_ref()),
        "as_of": f.as_of.as_ref().or(d.meta.as_of.as_ref()),
    })
}

fn entity_value(
    inputs: &Inputs,
    ds: usize,
    row: usize,
    shown_in: &HashMap<(usize, usize), Vec<PageLink>>,
    referenced_by: &Referrers,
) -> serde_json::Value {
    let model = inputs.model;
    let d = &model.data.datasets[ds];
    let fields: Vec<serde_json::Value> = d
        .columns
        .iter()
        .enumerate()
        .filter(|(ci, _)| *ci != d.key)
        .map(|(ci, c)| {
            let mut v = column_value(model, ds, ci);
            let cell = &c.cells[row];
            v["value"] = json!(model.display(&c.field, cell));
            v["missing"] = json!(matches!(cell, Value::Missing));
            if c.field.is_derived() {
                v["inputs"] = json!(inputs_value(
                    model,
                    inputs.addresses,
                    ValueRef::Cell { ds, row, col: ci }
                ));
            }
            // Said once above the table when it is the dataset's.
            let f = &c.field;
            v["own_source"] = json!(
                (f.source.is_some() && f.source != d.meta.source)
                    || (f.source_url.is_some() && f.source_url != d.meta.source_url)
                    || (f.as_of.is_some() && f.as_of != d.meta.as_of)
            );
            // A `ref:` cell links to the row it names.
            if let (ColType::Ref(target), Value::Ref(to)) = (&c.field.ty, cell) {
                if let Some(t) = model.data.datasets.iter().position(|x| &x.name == target) {
                    v["link"] = row_link(inputs, t, *to as usize);
                }
            }
            v
        })
        .collect();
    let referrers: Vec<serde_json::Value> = referenced_by[ds]
        .iter()
        .filter_map(|(from, ci, rows)| {
            let list = rows.get(row).filter(|l| !l.is_empty())?;
            let f = &model.data.datasets[*from];
            Some(json!({
                "dataset": { "name": f.name, "title": f.meta.title, "url": format!("{}/", inputs.addresses.dataset(*from)) },
                "column": f.columns[*ci].field.title,
                "rows": list.iter().map(|&r| row_link(inputs, *from, r as usize)).collect::<Vec<_>>(),
            }))
        })
        .collect();
    json!({
        "key": &*d.row_keys[row],
        "dataset": { "name": d.name, "title": d.meta.title, "url": format!("{}/", inputs.addresses.dataset(ds)),
                     "source": d.meta.source, "source_url": d.meta.source_url, "as_of": d.meta.as_of },
        "fields": fields,
        "source": d.source_of(row),
        "note": d.note_of(row),
        "referenced_by": referrers,
        "shown_in": shown_in.get(&(ds, row)).cloned().unwrap_or_default(),
    })
}

fn dataset_value(inputs: &Inputs, ds: usize) -> serde_json::Value {
    let model = inputs.model;
    let d = &model.data.datasets[ds];
    let columns: Vec<serde_json::Value> = (0..d.columns.len())
        .map(|ci| column_value(model, ds, ci))
        .collect();
    let shown = d.len().min(DATASET_PAGE_ROWS);
    let rows: Vec<serde_json::Value> = (0..shown)
        .map(|row| {
            // The unit is in the column's header.
            let cells: Vec<String> = d
                .columns
                .iter()
                .map(|c| {
                    if c.field.ty.is_numeric() {
                        model.display_number(&c.field, &c.cells[row], None, None)
                    } else {
                        model.display(&c.field, &c.cells[row])
                    }
                })
                .collect();
            json!({
                "id": format!("row-{}", crate::markdown::slugify(&d.row_keys[row])),
                "url": inputs.addresses.row(ds, row).map(|s| format!("{s}/")),
                "cells": cells,
                "source": d.source_of(row),
                "note": d.note_of(row),
            })
        })
        .collect();
    json!({
        "name": d.name, "title": d.meta.title, "description": d.meta.description,
        "source": d.meta.source, "source_url": d.meta.source_url, "as_of": d.meta.as_of,
        "key": d.columns[d.key].field.name,
        "csv_url": format!("data/{}.csv", d.name), "json_url": format!("data/{}.json", d.name),
        "columns": columns, "rows": rows, "total": d.len(), "shown": shown,
        "has_pages": d.pages.is_some(),
    })
}

/// Where a figure shown in prose comes from: the line of its entity page, of its dataset's
/// page, or of the data catalog that shows it with its formula or source.
pub struct Provenance<'a> {
    pub model: &'a Model,
    pub addresses: &'a Addresses,
    pub errata: &'a [crate::errata::Erratum],
    /// The address of the errata page, if the wiki has one.
    pub errata_page: Option<&'a str>,
}

impl Provenance<'_> {
    /// The page and anchor that explain a value (below the site root), and a short account
    /// of it for the link's title: its formula, or its source.
    pub fn of(&self, r: ValueRef) -> (String, String) {
        let mut account = account_of(self.model, r);
        let inputs = self.model.inputs_of(r);
        if !inputs.is_empty() {
            let shown: Vec<String> = inputs
                .iter()
                .take(MAX_TITLE_INPUTS)
                .map(|&i| {
                    let (name, value) = input_text(self.model, self.addresses, r, i);
                    if value.is_empty() {
                        name
                    } else {
                        format!("{name} = {value}")
                    }
                })
                .collect();
            let more = inputs.len().saturating_sub(MAX_TITLE_INPUTS);
            account = format!(
                "{account}; from {}{}",
                shown.join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            );
        }
        (place(self.model, self.addresses, r), account)
    }

    /// The errata row of a value whose printed figure disagrees, and a label saying so.
    pub fn erratum(&self, r: ValueRef) -> Option<(String, String)> {
        crate::errata::link_of(self.model, self.errata, self.errata_page, r)
    }

    /// The stale note of a value, if it is an input older than the wiki allows.
    pub fn stale(&self, r: ValueRef) -> Option<String> {
        self.model.stale(r).map(|s| self.model.stale.note(s))
    }
}

/// A figure's title names at most this many of its inputs.
const MAX_TITLE_INPUTS: usize = 6;

/// The page and anchor (below the site root) that explain a value: the line of its entity
/// page, of its dataset's page, or of the data catalog.
fn place(model: &Model, addresses: &Addresses, r: ValueRef) -> String {
    match r {
        ValueRef::Global(g) => format!("data/#param-{}", model.data.globals[g].field.name),
        ValueRef::Cell { ds, row, col } => {
            let d = &model.data.datasets[ds];
            match addresses.row(ds, row) {
                Some(slug) if col == d.key => format!("{slug}/"),
                Some(slug) => format!("{slug}/#value-{}", d.columns[col].field.name),
                None => format!(
                    "{}/#row-{}",
                    addresses.dataset(ds),
                    crate::markdown::slugify(&d.row_keys[row])
                ),
            }
        }
    }
}

/// `Cost: = price / savings`, or `Price: Eurostat, as of 2026-04`.
fn account_of(model: &Model, r: ValueRef) -> String {
    match r {
        ValueRef::Global(g) => account(&model.data.globals[g].field, None),
        ValueRef::Cell { ds, col, .. } => {
            let d = &model.data.datasets[ds];
            account(&d.columns[col].field, Some(d))
        }
    }
}

/// An input of the formula of `of` as a reader reads it: its name (with its row when it is
/// another row's), and its value (empty for a whole column).
fn input_text(
    model: &Model,
    addresses: &Addresses,
    of: ValueRef,
    input: Input,
) -> (String, String) {
    match input {
        Input::Value(r @ ValueRef::Global(_)) => {
            let (field, value) = model.get(r);
            (field.title.clone(), model.display(field, value))
        }
        Input::Value(r @ ValueRef::Cell { ds, row, .. }) => {
            let (field, value) = model.get(r);
            let same_row =
                matches!(of, ValueRef::Cell { ds: d, row: w, .. } if (d, w) == (ds, row));
            let title = if same_row {
                field.title.clone()
            } else {
                format!("{} of {}", field.title, addresses.row_title(model, ds, row))
            };
            (title, model.display(field, value))
        }
        Input::Column { ds, col } => {
            let d = &model.data.datasets[ds];
            (
                format!(
                    "{} of every row of {}",
                    d.columns[col].field.title, d.meta.title
                ),
                String::new(),
            )
        }
    }
}

/// The values a derived value is computed from, one level down, for its page: each with its
/// name, value, the page that explains it, and its own formula or source.
pub fn inputs_value(model: &Model, addresses: &Addresses, r: ValueRef) -> Vec<serde_json::Value> {
    model
        .inputs_of(r)
        .into_iter()
        .map(|i| {
            let (name, value) = input_text(model, addresses, r, i);
            match i {
                Input::Value(v) => {
                    let (field, _) = model.get(v);
                    let stale = model.stale(v).map(|s| model.stale.note(s));
                    json!({
                        "name": name, "value": value, "url": place(model, addresses, v),
                        "derived": field.is_derived(),
                        "formula": field.formula.as_ref().map(|f| f.text.trim().to_string()),
                        "source": source_of(model, v), "stale": stale,
                    })
                }
                Input::Column { ds, .. } => json!({
                    "name": name, "value": value, "url": format!("{}/", addresses.dataset(ds)),
                    "derived": false, "formula": null, "source": null, "stale": null,
                }),
            }
        })
        .collect()
}

/// `Eurostat, as of 2026-04` for an input, from its field or its dataset.
fn source_of(model: &Model, r: ValueRef) -> Option<String> {
    let (field, d) = match r {
        ValueRef::Global(g) => (&model.data.globals[g].field, None),
        ValueRef::Cell { ds, col, .. } => {
            let d = &model.data.datasets[ds];
            (&d.columns[col].field, Some(d))
        }
    };
    if field.is_derived() {
        return None;
    }
    source_text(field, d)
}

/// A field's source and as-of date (or its dataset's): `Eurostat, as of 2026-04`.
fn source_text(field: &crate::data::Field, d: Option<&Dataset>) -> Option<String> {
    let source = field
        .source
        .as_ref()
        .or(d.and_then(|d| d.meta.source.as_ref()));
    let as_of = field
        .as_of
        .as_ref()
        .or(d.and_then(|d| d.meta.as_of.as_ref()));
    match (source, as_of) {
        (Some(s), Some(a)) => Some(format!("{s}, as of {a}")),
        (Some(s), None) => Some(s.clone()),
        (None, Some(a)) => Some(format!("as of {a}")),
        (None, None) => None,
    }
}

/// `= price / savings`, or `Source: Eurostat, as of 2026-04`.
fn account(field: &crate::data::Field, d: Option<&Dataset>) -> String {
    if let Some(f) = &field.formula {
        return format!("{}: = {}", field.title, f.text.trim());
    }
    match source_text(field, d) {
        Some(s) => format!("{}: {s}", field.title),
        None => field.title.clone(),
    }
}
