//! Stage 8: site assembly. Every published file (pages in their layouts, the data catalog, each
//! dataset as CSV and JSON, the theme's assets) as a sorted map from its path in the site to its
//! bytes. Nothing here writes to the disk: `check` inspects this map and `publish` writes it.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;

use rayon::prelude::*;
use serde_json::json;

use crate::data::{Dataset, Value};
use crate::diag::{Diagnostic, Diagnostics};
use crate::format::format_plain;
use crate::layout::{PageInfo, PageLink, SiteInfo};
use crate::markdown::Rendered;
use crate::model::{Model, ValueRef};
use crate::project::Project;
use crate::source::SourceMap;

/// How many articles (the first by `order:`) the header lists besides Home and Data.
pub const NAV_ARTICLES: usize = 8;

/// The published site, in memory: path (with `/`) to content.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SiteOutput {
    pub files: BTreeMap<String, Vec<u8>>,
    /// For the pages made from data: the digest of what each shows, for the next build in the
    /// same process to reuse the ones that did not change (not published).
    pub keys: HashMap<String, u64>,
}

/// A cell as plain text for CSV and the lock file: numbers in the column's unit, no grouping.
pub fn plain_value(model: &Model, dataset: &Dataset, col: usize, value: &Value) -> String {
    let field = &dataset.columns[col].field;
    match value {
        Value::Missing => String::new(),
        Value::Num(n) => format_plain(n / field.unit.factor),
        Value::Range(r) => format!(
            "{}-{}",
            format_plain(r.lo / field.unit.factor),
            format_plain(r.hi / field.unit.factor)
        ),
        Value::Text(t) | Value::Date(t) => t.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Ref(r) => match &field.ty {
            crate::data::ColType::Ref(target) => model
                .data
                .dataset(target)
                .map_or_else(String::new, |d| d.row_keys[*r as usize].to_string()),
            _ => r.to_string(),
        },
    }
}

/// A dataset with its derived columns as CSV.
pub fn dataset_csv(model: &Model, d: &Dataset) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    let _ = w.write_record(d.columns.iter().map(|c| c.field.name.as_str()));
    let _ = w.flush();
    let mut out = w.into_inner().unwrap_or_default();
    // Rows are formatted in parallel chunks, then joined in order.
    write_rows_parallel(&mut out, d.len(), |rows| {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(Vec::new());
        for row in rows {
            let _ = w.write_record(
                d.columns
                    .iter()
                    .enumerate()
                    .map(|(ci, c)| plain_value(model, d, ci, &c.cells[row])),
            );
        }
        w.into_inner().unwrap_or_default()
    });
    out
}

/// Appends the text of rows `0..len` to `out`, formatted by `f` in parallel chunks and joined in
/// order. A bounded window of chunks is formatted at a time, so the text of a large dataset is
/// held once (in `out`), not twice.
fn write_rows_parallel<F>(out: &mut Vec<u8>, len: usize, f: F)
where
    F: Fn(std::ops::Range<usize>) -> Vec<u8> + Sync,
{
    const CHUNK: usize = 4096;
    let window = CHUNK * 4 * rayon::current_num_threads().max(1);
    let mut start = 0;
    while start < len {
        let end = (start + window).min(len);
        let chunks: Vec<Vec<u8>> = (start..end)
            .step_by(CHUNK)
            .collect::<Vec<_>>()
            .into_par_iter()
            .map(|from| f(from..(from + CHUNK).min(end)))
            .collect();
        for c in chunks {
            out.extend_from_slice(&c);
        }
        start = end;
    }
}

/// A dataset with its schema, sources and derived columns as JSON.
pub fn dataset_json(model: &Model, d: &Dataset) -> Vec<u8> {
    let columns: Vec<serde_json::Value> = d
        .columns
        .iter()
        .map(|c| {
            json!({
                "name": c.field.name,
                "title": c.field.title,
                "type": c.field.ty.name(),
                "unit": c.field.unit.symbol,
                "description": c.field.description,
                "formula": c.field.formula.as_ref().map(|f| f.text.trim().to_string()),
                "basis": if c.field.basis_printed { Some("printed") } else { None },
            })
        })
        .collect();
    let doc = json!({
        "name": d.name,
        "title": d.meta.title,
        "description": d.meta.description,
        "source": d.meta.source,
        "source_url": d.meta.source_url,
        "as_of": d.meta.as_of,
        "key": d.columns[d.key].field.name,
        "columns": columns,
        "rows": ROWS_SLOT,
    });
    let head = serde_json::to_string_pretty(&doc).unwrap_or_default();
    // The rows are written straight to text, in parallel chunks, where the slot stands: laid out
    // exactly as the pretty printer would, without a JSON object in memory per row.
    let slot = serde_json::to_string(ROWS_SLOT).unwrap_or_default();
    let (before, after) = head.split_once(&slot).unwrap_or((&head, ""));
    let mut out = Vec::new();
    out.extend_from_slice(before.as_bytes());
    if d.is_empty() {
        out.extend_from_slice(b"[]");
    } else {
        out.extend_from_slice(b"[\n");
        // Keys in the order the pretty printer sorts them.
        let mut by_name: Vec<(usize, String)> = d
            .columns
            .iter()
            .enumerate()
            .map(|(ci, c)| (ci, serde_json::to_string(&c.field.name).unwrap_or_default()))
            .collect();
        by_name.sort_by(|a, b| d.columns[a.0].field.name.cmp(&d.columns[b.0].field.name));
        write_rows_parallel(&mut out, d.len(), |rows| {
            let mut w = Vec::with_capacity(rows.len() * 16 * by_name.len());
            for row in rows {
                if row > 0 {
                    w.extend_from_slice(b",\n");
                }
                w.extend_from_slice(b"    {\n");
                for (i, (ci, key)) in by_name.iter().enumerate() {
                    if i > 0 {
                        w.extend_from_slice(b",\n");
                    }
                    w.extend_from_slice(b"      ");
                    w.extend_from_slice(key.as_bytes());
                    w.extend_from_slice(b": ");
                    write_cell_json(&mut w, model, d, *ci, row);
                }
                w.extend_from_slice(b"\n    }");
            }
            w
        });
        out.extend_from_slice(b"\n  ]");
    }
    out.extend_from_slice(after.as_bytes());
    out.push(b'\n');
    out
}

/// Stands for the rows in the pretty-printed head of a dataset's JSON (a NUL is never in data).
const ROWS_SLOT: &str = "\u{0}rows";

/// One cell of a dataset's JSON, as the pretty printer lays it out at the depth of a row's key.
fn write_cell_json(w: &mut Vec<u8>, model: &Model, d: &Dataset, ci: usize, row: usize) {
    let c = &d.columns[ci];
    let f = c.field.unit.factor;
    let v = match &c.cells[row] {
        Value::Missing => serde_json::Value::Null,
        Value::Num(n) => json_number(n / f),
        Value::Range(r) => {
            let obj = json!({"low": json_number(r.lo / f), "high": json_number(r.hi / f), "used": json_number(r.rep / f)});
            let text = serde_json::to_string_pretty(&obj).unwrap_or_default();
            w.extend_from_slice(text.replace('\n', "\n      ").as_bytes());
            return;
        }
        Value::Bool(b) => json!(b),
        other => json!(plain_value(model, d, ci, other)),
    };
    let _ = serde_json::to_writer(&mut *w, &v);
}

/// A number for JSON, rounded like the lock file so that exports are stable across platforms.
fn json_number(n: f64) -> serde_json::Value {
    format_plain(n)
        .parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
        .map_or(serde_json::Value::Null, serde_json::Value::Number)
}

/// The lock file: every derived value, one per line, sorted.
pub fn lock_file(model: &Model) -> String {
    let mut out = String::from(
        "# values.lock: every value driftless derives from data/, recomputed by each build.\n\
         # `driftless check` fails when this file disagrees with a fresh computation.\n\
         # Commit it: its diff shows the ripple of every data edit.\n",
    );
    for r in model.derived_values() {
        let (field, value) = model.get(r);
        let shown = match value {
            Value::Num(n) => {
                let v = format_plain(n / field.unit.factor);
                if field.unit.symbol.is_empty() {
                    v
                } else {
                    format!("{v} {}", field.unit.symbol)
                }
            }
            Value::Text(t) => serde_json::to_string(&t.to_string()).unwrap_or_default(),
            other => model.display(field, other),
        };
        let _ = writeln!(out, "{} = {shown}", model.name_of(r));
    }
    out
}

/// What the build knows about one published article.
#[derive(Debug, Clone)]
pub struct PageRecord {
    pub slug: String,
    /// Every value the page shows: a change to any of them changes the page.
    pub values: BTreeSet<ValueRef>,
    pub datasets: BTreeSet<usize>,
    pub claims: Vec<crate::functions::ClaimResult>,
    pub rendered: Rendered,
}

/// Puts every page into its layout and gathers every published file: articles, the home
/// page, the data catalog, each dataset as CSV and JSON, and the theme's assets.
///
/// `reuse` holds, per article, its page as the previous build laid it out when nothing that
/// page shows has changed since; those are not laid out again.
pub fn assemble(
    project: &Project,
    inputs: &crate::entity::Inputs,
    layouts: &crate::jinja::Layouts,
    reuse: &[Option<&[u8]>],
    sources: &SourceMap,
) -> Result<SiteOutput, Diagnostics> {
    let (model, articles, pages) = (inputs.model, inputs.articles, inputs.pages);
    let config = &project.config;
    let site = SiteInfo {
        title: config.title.clone(),
        description: config.description.clone(),
        base_url: config.base_url.clone(),
        search: config.search,
    };
    let mut order: Vec<usize> = (0..articles.len())
        .filter(|&i| !articles[i].is_home())
        .collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (&articles[a].front, &articles[b].front);
        x.order
            .unwrap_or(f64::MAX)
            .total_cmp(&y.order.unwrap_or(f64::MAX))
            .then_with(|| x.title.cmp(&y.title))
    });
    let links: Vec<PageLink> = order
        .iter()
        .map(|&i| PageLink {
            title: articles[i].front.title.clone(),
            description: articles[i].front.description.clone(),
            url: articles[i].url(),
        })
        .collect();
    let mut nav = vec![PageLink {
        title: "Home".into(),
        description: None,
        url: String::new(),
    }];
    nav.push(PageLink {
        title: "Data".into(),
        description: None,
        url: "data/".into(),
    });
    // The header lists the first articles that ask for a place (`order:`); every article is on
    // the home page. A header of 10,000 links would weigh on every page.
    nav.extend(
        order
            .iter()
            .filter(|&&i| articles[i].front.order.is_some())
            .take(NAV_ARTICLES)
            .map(|&i| PageLink {
                title: articles[i].front.title.clone(),
                description: None,
                url: articles[i].url(),
            }),
    );
    let shared = crate::layout::Shared::new(&site, &links, &nav);

    let rendered: Vec<Result<(String, Vec<u8>), Diagnostic>> = articles
        .par_iter()
        .zip(pages.par_iter())
        .enumerate()
        .map(|(i, (a, p))| {
            let path = if a.is_home() {
                "index.html".to_string()
            } else {
                format!("{}/index.html", a.slug)
            };
            if let Some(Some(bytes)) = reuse.get(i) {
                return Ok((path, bytes.to_vec()));
            }
            let datasets: Vec<String> = p
                .datasets
                .iter()
                .map(|&d| model.data.datasets[d].name.clone())
                .collect();
            let info = PageInfo {
                title: a.front.title.clone(),
                description: a.front.description.clone(),
                url: a.url(),
                kind: if a.is_home() { "index" } else { "article" },
                content: p.rendered.html.clone(),
                toc: p.rendered.headings.clone(),
                updated_from: datasets,
                draft: a.front.draft,
                backlinks: inputs.backlinks.of(&a.slug),
            };
            let template = a.front.template.clone().unwrap_or_else(|| {
                if a.is_home() {
                    "index.html".into()
                } else {
                    "article.html".into()
                }
            });
            let html = crate::layout::render_page(layouts, &template, &shared, &info, None)
                .map_err(|e| layout_error(&e, &template, layouts, sources))?;
            Ok((path, html.into_bytes()))
        })
        .collect();
    let mut out = SiteOutput::default();
    let mut diags = Diagnostics::default();
    for r in rendered {
        match r {
            Ok((p, b)) => {
                out.files.insert(p, b);
            }
            Err(d) => diags.push(d),
        }
    }
    if !out.files.contains_key("index.html") {
        let info = PageInfo {
            title: site.title.clone(),
            description: site.description.clone(),
            url: String::new(),
            kind: "index",
            content: String::new(),
            toc: Vec::new(),
            updated_from: Vec::new(),
            draft: false,
            backlinks: Vec::new(),
        };
        match crate::layout::render_page(layouts, "index.html", &shared, &info, None) {
            Ok(html) => {
                out.files.insert("index.html".into(), html.into_bytes());
            }
            Err(e) => diags.push(layout_error(&e, "index.html", layouts, sources)),
        }
    }
    for r in crate::entity::render(inputs, layouts, &shared) {
        match r {
            Ok((path, bytes, key)) => {
                out.keys.insert(path.clone(), key);
                out.files.insert(path, bytes);
            }
            Err((e, layout)) => diags.push(layout_error(&e, &layout, layouts, sources)),
        }
    }
    match data_catalog(model, inputs.addresses, layouts, &shared) {
        Ok(html) => {
            out.files
                .insert("data/index.html".into(), html.into_bytes());
        }
        Err(e) => diags.push(layout_error(&e, "data.html", layouts, sources)),
    }
    // (CSV path, CSV, JSON path, JSON, digest of the dataset)
    type Export = (String, Vec<u8>, String, Vec<u8>, u64);
    let exports: Vec<Export> = model
        .data
        .datasets
        .par_iter()
        .enumerate()
        .map(|(ds, d)| {
            let (csv_path, json_path) = (
                format!("data/{}.csv", d.name),
                format!("data/{}.json", d.name),
            );
            let key = inputs.dataset_keys.get(ds).copied().unwrap_or_default();
            let previous = |path: &str| {
                let (k, bytes) = inputs.previous?.get(path)?;
                (*k == key).then(|| bytes.clone())
            };
            let csv = previous(&csv_path).unwrap_or_else(|| dataset_csv(model, d));
            let json = previous(&json_path).unwrap_or_else(|| dataset_json(model, d));
            (csv_path, csv, json_path, json, key)
        })
        .collect();
    for (csv_path, csv, json_path, json, key) in exports {
        out.keys.insert(csv_path.clone(), key);
        out.keys.insert(json_path.clone(), key);
        out.files.insert(csv_path, csv);
        out.files.insert(json_path, json);
    }
    match not_found_page(&site, &shared, layouts) {
        Ok(html) => {
            out.files.insert("404.html".into(), html.into_bytes());
        }
        Err(e) => diags.push(layout_error(&e, "404.html", layouts, sources)),
    }
    if site.search {
        match search_page(&shared, layouts) {
            Ok(html) => {
                out.files
                    .insert("search/index.html".into(), html.into_bytes());
            }
            Err(e) => diags.push(layout_error(&e, "search.html", layouts, sources)),
        }
    }
    copy_assets(project, &mut out, &mut diags);
    if let Some(base) = &site.base_url {
        let sitemap = sitemap(base, &out);
        out.files.insert("sitemap.xml".into(), sitemap.into_bytes());
    }
    diags.into_result(out)
}

/// The page web servers show for an address the site does not have (`404.html`, the name
/// GitHub Pages, Netlify and most servers look for). It may be served at any depth, so its
/// links start from the path of `base_url` (`/` without one).
fn not_found_page(
    site: &SiteInfo,
    shared: &crate::layout::Shared,
    layouts: &crate::jinja::Layouts,
) -> Result<String, minijinja::Error> {
    let root = site
        .base_url
        .as_deref()
        .and_then(|b| url::Url::parse(b).ok())
        .map_or_else(
            || "/".to_string(),
            |u| {
                let p = u.path().trim_end_matches('/').to_string();
                format!("{p}/")
            },
        );
    let info = PageInfo {
        title: "Page not found".into(),
        description: None,
        url: root,
        kind: "not-found",
        content: String::new(),
        toc: Vec::new(),
        updated_from: Vec::new(),
        draft: false,
        backlinks: Vec::new(),
    };
    crate::layout::render_page(layouts, "404.html", shared, &info, None)
}

/// The search page: a form that works without script (it comes back to this page with `?q=`)
/// and the theme's `search.js`, which asks the index in `pagefind/`.
fn search_page(
    shared: &crate::layout::Shared,
    layouts: &crate::jinja::Layouts,
) -> Result<String, minijinja::Error> {
    let info = PageInfo {
        title: "Search".into(),
        description: None,
        url: "search/".into(),
        kind: "search",
        content: String::new(),
        toc: Vec::new(),
        updated_from: Vec::new(),
        draft: false,
        backlinks: Vec::new(),
    };
    crate::layout::render_page(layouts, "search.html", shared, &info, None)
}

/// `sitemap.xml`: every page of the site at its address below `base_url`, in address order.
fn sitemap(base: &str, out: &SiteOutput) -> String {
    let base = base.trim_end_matches('/');
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    let mut dirs: Vec<&str> = out
        .files
        .keys()
        .filter_map(|p| p.strip_suffix("index.html"))
        .filter(|d| *d != "search/")
        .collect();
    dirs.sort_unstable();
    for dir in dirs {
        let loc = format!("{base}/{dir}");
        xml.push_str(&format!(
            "  <url><loc>{}</loc></url>\n",
            crate::markdown::escape_html(&loc)
        ));
    }
    xml.push_str("</urlset>\n");
    xml
}

/// A layout's error while rendering a page, in the layout file (as read by `load_layouts`).
fn layout_error(
    e: &minijinja::Error,
    template: &str,
    layouts: &crate::jinja::Layouts,
    sources: &SourceMap,
) -> Diagnostic {
    let name = e.name().unwrap_or(template);
    match layouts.files.get(name) {
        Some(&file) => crate::jinja::template_error(e, file, &sources.get(file).text, sources),
        None => {
            let rel = std::path::Path::new("templates").join(name);
            let file = sources.add(&rel, std::sync::Arc::from(""));
            crate::jinja::template_error(e, file, "", sources)
        }
    }
}

fn data_catalog(
    model: &Model,
    addresses: &crate::entity::Addresses,
    layouts: &crate::jinja::Layouts,
    shared: &crate::layout::Shared,
) -> Result<String, minijinja::Error> {
    let datasets: Vec<serde_json::Value> = model
        .data
        .datasets
        .iter()
        .map(|d| {
            let columns: Vec<serde_json::Value> = d
                .columns
                .iter()
                .map(|c| {
                    serde_json::json!({
                        "name": c.field.name, "title": c.field.title, "unit": c.field.unit.symbol, "type": c.field.ty.name(),
                        "description": c.field.description, "formula": c.field.formula.as_ref().map(|f| f.text.trim().to_string()),
                        "derived": c.field.is_derived(),
                    })
                })
                .collect();
            serde_json::json!({
                "name": d.name, "title": d.meta.title, "description": d.meta.description, "source": d.meta.source,
                "source_url": d.meta.source_url, "as_of": d.meta.as_of, "rows": d.len(),
                "page_url": format!("data/{}/", d.name), "csv_url": format!("data/{}.csv", d.name), "json_url": format!("data/{}.json", d.name), "columns": columns,
            })
        })
        .collect();
    let params: Vec<serde_json::Value> = model
        .data
        .globals
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let inputs = crate::entity::inputs_value(model, addresses, crate::model::ValueRef::Global(i));
            serde_json::json!({
                "inputs": inputs,
                "name": g.field.name, "title": g.field.title, "value": model.display(&g.field, &g.value),
                "formula": g.field.formula.as_ref().map(|f| f.text.trim().to_string()), "derived": g.field.is_derived(),
                "description": g.field.description, "source": g.field.source,
            })
        })
        .collect();
    let info = PageInfo { title: "Data".into(), description: Some("Every dataset, parameter and figure of this wiki, with its source, and each dataset as CSV and JSON.".into()), url: "data/".into(), kind: "data", content: String::new(), toc: Vec::new(), updated_from: Vec::new(), draft: false, backlinks: Vec::new() };
    let extra = minijinja::context! { datasets => minijinja::Value::from(minijinja::value::Serde(&datasets)), params => minijinja::Value::from(minijinja::value::Serde(&params)) };
    crate::layout::render_page(layouts, "data.html", shared, &info, Some(extra))
}

/// Publishes the static files of `content/` at their paths; one that would replace a page or
/// a file the build writes (the data catalog's exports, the theme's assets) is an error.
pub fn add_static_files(
    out: &mut SiteOutput,
    files: &[crate::content::StaticFile],
) -> Result<(), Diagnostics> {
    let mut diags = Diagnostics::default();
    for f in files {
        if out.files.contains_key(&f.site_path) {
            diags.push(
                Diagnostic::error(format!(
                    "{} would be published at `{}`, where the site already has a file",
                    f.rel.display(),
                    f.site_path
                ))
                .in_file(&f.rel)
                .help("rename the file or move it into another folder"),
            );
            continue;
        }
        match std::fs::read(&f.abs) {
            Ok(bytes) => {
                out.files.insert(f.site_path.clone(), bytes);
            }
            Err(e) => diags.push(
                Diagnostic::error(format!("cannot read {}: {e}", f.rel.display())).in_file(&f.rel),
            ),
        }
    }
    diags.into_result(())
}

fn copy_assets(project: &Project, out: &mut SiteOutput, diags: &mut Diagnostics) {
    // The built-in theme's assets, unless the wiki has its own of the same name (read below).
    for (name, bytes) in crate::theme::ASSETS {
        out.files.insert(format!("assets/{name}"), bytes.to_vec());
    }
    let dir = project.templates_dir.join("assets");
    let files = match crate::fsutil::walk(
        &dir,
        &project.root,
        &[
            "css", "js", "svg", "png", "jpg", "jpeg", "gif", "webp", "ico", "woff2", "txt",
        ],
    ) {
        Ok(f) => f,
        Err(d) => {
            diags.extend(d);
            return;
        }
    };
    for (abs, rel) in files {
        let name = abs
            .strip_prefix(&dir)
            .unwrap_or(&abs)
            .to_string_lossy()
            .replace('\\', "/");
        match std::fs::read(&abs) {
            Ok(bytes) => {
                out.files.insert(format!("assets/{name}"), bytes);
            }
            Err(e) => diags.push(
                Diagnostic::error(format!("cannot read {}: {e}", rel.display())).in_file(&rel),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::sync::Arc;

    use super::*;
    use crate::source::SourceMap;

    /// The JSON written row by row is byte for byte what the pretty printer makes of the whole
    /// document: texts with quotes and accents, ranges, empty cells, yes/no values, references.
    #[test]
    fn dataset_json_is_laid_out_like_the_pretty_printer() {
        let files: Vec<(PathBuf, Arc<str>)> = vec![
            (
                "data/vendors.yaml".into(),
                Arc::from("title: Vendors\nkey: id\ncolumns:\n  id: { type: text }\nrows:\n  - { id: nv }\n  - { id: amd }\n"),
            ),
            (
                "data/gpus.yaml".into(),
                Arc::from(
                    "title: GPUs\nkey: id\ncolumns:\n  id: { type: text }\n  note: { type: text }\n  vendor: { type: \"ref:vendors\" }\n  \
                     price: { unit: USD, range: mid }\n  ok: { type: bool }\n  vram: { unit: GB }\n  \
                     per_gb: { unit: USD/GB, formula: \"price / vram if present(price) and present(vram) else 0[USD/GB]\" }\n",
                ),
            ),
            (
                "data/gpus.csv".into(),
                Arc::from(
                    "id,note,vendor,price,ok,vram\na,\"say \"\"hi\"\" – café\",nv,1600-2200,true,24\nb,,amd,999,false,\nc,x\\y,nv,,,16\n",
                ),
            ),
        ];
        let sources = SourceMap::default();
        let data =
            crate::data::load_texts(files, &sources).unwrap_or_else(|e| panic!("{}", e.render()));
        let model =
            crate::formula::evaluate(data, &sources).unwrap_or_else(|e| panic!("{}", e.render()));
        for d in &model.data.datasets {
            let written = dataset_json(&model, d);
            let mut doc: serde_json::Value =
                serde_json::from_slice(&written).expect("the JSON parses");
            // Rebuild the document through serde_json's own pretty printer.
            let rows: Vec<serde_json::Value> = (0..d.len())
                .map(|row| {
                    let mut m = serde_json::Map::new();
                    for (ci, c) in d.columns.iter().enumerate() {
                        let mut w = Vec::new();
                        write_cell_json(&mut w, &model, d, ci, row);
                        m.insert(
                            c.field.name.clone(),
                            serde_json::from_slice(&w).expect("a cell parses"),
                        );
                    }
                    serde_json::Value::Object(m)
                })
                .collect();
            doc["rows"] = serde_json::Value::Array(rows);
            let mut expected = serde_json::to_vec_pretty(&doc).expect("prints");
            expected.push(b'\n');
            assert_eq!(
                String::from_utf8_lossy(&written),
                String::from_utf8_lossy(&expected),
                "dataset {}",
                d.name
            );
        }
        let gpus = model.data.dataset("gpus").expect("gpus");
        let text = String::from_utf8(dataset_json(&model, gpus)).expect("UTF-8");
        assert!(
            text.contains("\"note\": \"say \\\"hi\\\" – café\""),
            "{text}"
        );
        assert!(
            text.contains("\"price\": {\n        \"high\": 2200.0,"),
            "{text}"
        );
    }
}
