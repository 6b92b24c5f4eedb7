//! The orchestrator: runs the stages in order and nothing else. Each stage reports every
//! problem it finds; the pipeline stops after the first stage that found errors.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use rayon::prelude::*;

use crate::content::Article;
use crate::diag::{Diagnostic, Diagnostics};
use crate::errata::Erratum;
use crate::expand::Expanded;
use crate::layout::{PageInfo, PageLink, SiteInfo};
use crate::markdown::{LinkResolver, Rendered};
use crate::model::{Model, ValueRef};
use crate::project::Project;
use crate::site::SiteOutput;
use crate::source::SourceMap;

/// Everything one build produced.
pub struct Build {
    pub output: SiteOutput,
    pub model: Arc<Model>,
    pub lock: String,
    pub articles: Vec<Article>,
    pub pages: Vec<PageRecord>,
    pub errata: Arc<Vec<Erratum>>,
    /// Problems that do not fail the build.
    pub warnings: Diagnostics,
}

/// What the build knows about one published article.
pub struct PageRecord {
    pub slug: String,
    /// Every value the page shows: a change to any of them changes the page.
    pub values: BTreeSet<ValueRef>,
    pub datasets: BTreeSet<usize>,
    pub claims: Vec<crate::functions::ClaimResult>,
    pub rendered: Rendered,
}

/// Runs every stage up to and including site assembly.
pub fn run(project: &Project, sources: &SourceMap) -> Result<Build, Diagnostics> {
    let mut clock = Stopwatch::new();
    let data = crate::data::load_datasets(project, sources)?;
    clock.lap("data");
    let model = Arc::new(crate::formula::evaluate(data, sources)?);
    clock.lap("formulas");
    let errata = Arc::new(crate::errata::find(
        &model,
        project.config.errata.tolerance_percent,
    ));
    let articles = crate::content::load_articles(project, sources)?;
    clock.lap("content");
    let layouts = crate::jinja::load_layouts(&project.templates_dir, &project.root, sources)?;
    check_layouts(&articles, &layouts, project, sources)?;

    let env = crate::expand::article_environment();
    let expanded: Vec<Result<Expanded, Diagnostics>> = articles
        .par_iter()
        .map(|a| crate::expand::expand_article(a, &env, &model, &errata, sources))
        .collect();
    let mut diags = Diagnostics::default();
    let mut ok = Vec::new();
    for r in expanded {
        match r {
            Ok(e) => ok.push(e),
            Err(d) => diags.extend(d),
        }
    }
    if diags.has_errors() {
        return Err(diags);
    }
    clock.lap("expand");

    let slugs_by_path: HashMap<String, String> = articles
        .iter()
        .map(|a| {
            let p = a
                .path
                .strip_prefix("content")
                .unwrap_or(&a.path)
                .to_string_lossy()
                .replace('\\', "/");
            (crate::fsutil::nfc(&p), a.slug.clone())
        })
        .collect();
    let raw_html = project.config.markdown.raw_html;
    let pages: Vec<PageRecord> = articles
        .par_iter()
        .zip(ok.into_par_iter())
        .map(|(a, e)| {
            let dir = a
                .path
                .strip_prefix("content")
                .unwrap_or(&a.path)
                .parent()
                .map(|p| p.to_string_lossy().replace('\\', "/"))
                .unwrap_or_default();
            let resolver = LinkResolver {
                slugs_by_path: &slugs_by_path,
                dir: &dir,
                slug: &a.slug,
                raw_html,
            };
            let rendered = crate::markdown::render(&e.markdown, &e.recording.blocks, &resolver);
            PageRecord {
                slug: a.slug.clone(),
                values: e.recording.values,
                datasets: e.recording.datasets,
                claims: e.recording.claims,
                rendered,
            }
        })
        .collect();
    clock.lap("markdown");
    let output = assemble(project, &model, &articles, &pages, &layouts, sources)?;
    clock.lap("layouts");
    crate::check::internal::check(&articles, &pages, &output, sources)?;
    clock.lap("links");
    let lock = crate::site::lock_file(&model);
    Ok(Build {
        output,
        model,
        lock,
        articles,
        pages,
        errata,
        warnings: Diagnostics::default(),
    })
}

/// Prints how long each stage took when `DRIFTLESS_TIMINGS` is set: a profile of a build
/// without a profiler.
struct Stopwatch {
    enabled: bool,
    last: std::time::Instant,
}

impl Stopwatch {
    fn new() -> Stopwatch {
        Stopwatch {
            enabled: std::env::var_os("DRIFTLESS_TIMINGS").is_some(),
            last: std::time::Instant::now(),
        }
    }

    fn lap(&mut self, stage: &str) {
        if self.enabled {
            crate::tell!(
                "{stage:>10}: {:7.1} ms{}",
                self.last.elapsed().as_secs_f64() * 1000.0,
                peak_memory().map_or(String::new(), |kb| format!(
                    ", peak memory {} MB",
                    kb / 1024
                ))
            );
        }
        self.last = std::time::Instant::now();
    }
}

/// The process's peak resident memory so far, in KiB (Linux only).
fn peak_memory() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Every layout an article names must exist, and so must the built-in ones.
fn check_layouts(
    articles: &[Article],
    layouts: &crate::jinja::Layouts,
    project: &Project,
    sources: &SourceMap,
) -> Result<(), Diagnostics> {
    let mut diags = Diagnostics::default();
    let has = |n: &str| layouts.names.iter().any(|x| x == n);
    for required in ["article.html", "index.html", "data.html"] {
        if !has(required) {
            diags.push(
                Diagnostic::error(format!("the layout templates/{required} is missing"))
                    .in_file(
                        &project
                            .templates_dir
                            .strip_prefix(&project.root)
                            .unwrap_or(&project.templates_dir)
                            .join(required),
                    )
                    .help("copy the default theme's templates/ folder into the wiki"),
            );
        }
    }
    for a in articles {
        if let Some(t) = &a.front.template {
            if !crate::fsutil::is_contained(t) {
                diags.push(
                    Diagnostic::error(format!("`template: {t}` leaves the templates/ folder"))
                        .at(sources, a.front_pos("template", sources))
                        .help("name a layout inside templates/, such as `article.html`"),
                );
            } else if !has(t) {
                diags.push(
                    Diagnostic::error(format!("the layout `{t}` does not exist"))
                        .at(sources, a.front_pos("template", sources))
                        .label("not in templates/")
                        .help({
                            // Compare names without `.html`, which every layout shares.
                            let stem = |n: &str| n.trim_end_matches(".html").to_string();
                            let stems: Vec<String> =
                                layouts.names.iter().map(|n| stem(n)).collect();
                            match crate::diag::suggest(&stem(t), stems.iter().map(String::as_str)) {
                                Some(s) => format!("did you mean `{s}.html`?"),
                                None => format!(
                                    "the layouts are {}; or add templates/{t}",
                                    layouts
                                        .names
                                        .iter()
                                        .map(|n| format!("`{n}`"))
                                        .collect::<Vec<_>>()
                                        .join(", ")
                                ),
                            }
                        }),
                );
            }
        }
    }
    diags.into_result(())
}

fn assemble(
    project: &Project,
    model: &Arc<Model>,
    articles: &[Article],
    pages: &[PageRecord],
    layouts: &crate::jinja::Layouts,
    sources: &SourceMap,
) -> Result<SiteOutput, Diagnostics> {
    let config = &project.config;
    let site = SiteInfo {
        title: config.title.clone(),
        description: config.description.clone(),
        base_url: config.base_url.clone(),
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
    // The header lists the articles that ask for a place (`order:`); every article is on the
    // home page. A header of 10,000 links would weigh on every page.
    nav.extend(
        order
            .iter()
            .filter(|&&i| articles[i].front.order.is_some())
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
        .map(|(a, p)| {
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
            };
            let template = a.front.template.clone().unwrap_or_else(|| {
                if a.is_home() {
                    "index.html".into()
                } else {
                    "article.html".into()
                }
            });
            let html = crate::layout::render_page(layouts, &template, &shared, &info, None)
                .map_err(|e| layout_error(&e, &template, project, sources))?;
            let path = if a.is_home() {
                "index.html".to_string()
            } else {
                format!("{}/index.html", a.slug)
            };
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
        };
        match crate::layout::render_page(layouts, "index.html", &shared, &info, None) {
            Ok(html) => {
                out.files.insert("index.html".into(), html.into_bytes());
            }
            Err(e) => diags.push(layout_error(&e, "index.html", project, sources)),
        }
    }
    match data_catalog(model, layouts, &shared) {
        Ok(html) => {
            out.files
                .insert("data/index.html".into(), html.into_bytes());
        }
        Err(e) => diags.push(layout_error(&e, "data.html", project, sources)),
    }
    let exports: Vec<(String, Vec<u8>, String, Vec<u8>)> = model
        .data
        .datasets
        .par_iter()
        .map(|d| {
            (
                format!("data/{}.csv", d.name),
                crate::site::dataset_csv(model, d),
                format!("data/{}.json", d.name),
                crate::site::dataset_json(model, d),
            )
        })
        .collect();
    for (csv_path, csv, json_path, json) in exports {
        out.files.insert(csv_path, csv);
        out.files.insert(json_path, json);
    }
    copy_assets(project, &mut out, &mut diags);
    diags.into_result(out)
}

fn layout_error(
    e: &minijinja::Error,
    template: &str,
    project: &Project,
    sources: &SourceMap,
) -> Diagnostic {
    let rel = std::path::Path::new("templates").join(e.name().unwrap_or(template));
    let text = std::fs::read_to_string(project.root.join(&rel)).unwrap_or_default();
    let file = sources.add(&rel, text.clone().into());
    crate::jinja::template_error(e, file, &text, sources)
}

fn data_catalog(
    model: &Model,
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
                "csv_url": format!("data/{}.csv", d.name), "json_url": format!("data/{}.json", d.name), "columns": columns,
            })
        })
        .collect();
    let params: Vec<serde_json::Value> = model
        .data
        .globals
        .iter()
        .map(|g| {
            serde_json::json!({
                "name": g.field.name, "title": g.field.title, "value": model.display(&g.field, &g.value),
                "formula": g.field.formula.as_ref().map(|f| f.text.trim().to_string()), "derived": g.field.is_derived(),
                "description": g.field.description, "source": g.field.source,
            })
        })
        .collect();
    let info = PageInfo { title: "Data".into(), description: Some("Every dataset, parameter and figure of this wiki, with its source, and each dataset as CSV and JSON.".into()), url: "data/".into(), kind: "data", content: String::new(), toc: Vec::new(), updated_from: Vec::new() };
    let extra = minijinja::context! { datasets => minijinja::Value::from(minijinja::value::Serde(&datasets)), params => minijinja::Value::from(minijinja::value::Serde(&params)) };
    crate::layout::render_page(layouts, "data.html", shared, &info, Some(extra))
}

fn copy_assets(project: &Project, out: &mut SiteOutput, diags: &mut Diagnostics) {
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
