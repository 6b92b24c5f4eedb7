//! The orchestrator: runs the stages in order and nothing else. Each stage reports every
//! problem it finds; the pipeline stops after the first stage that found errors.

use std::collections::HashMap;
use std::sync::Arc;

use rayon::prelude::*;

use crate::content::Article;
use crate::diag::Diagnostics;
use crate::errata::Erratum;
use crate::expand::Expanded;
use crate::markdown::LinkResolver;
use crate::model::Model;
use crate::project::Project;
use crate::site::SiteOutput;
use crate::source::SourceMap;

pub use crate::site::PageRecord;

/// Everything one build produced.
pub struct Build {
    pub output: SiteOutput,
    pub model: Arc<Model>,
    pub lock: String,
    pub articles: Vec<Article>,
    pub pages: Vec<PageRecord>,
    pub errata: Arc<Vec<Erratum>>,
    /// Problems that do not fail the build (red links).
    pub warnings: Diagnostics,
    /// How many pages were made from data (dataset and entity pages).
    pub data_pages: usize,
}

/// Runs every stage up to and including site assembly.
pub fn run(project: &Project, sources: &SourceMap) -> Result<Build, Diagnostics> {
    let mut clock = Stopwatch::new();
    let data = crate::data::load_datasets(project, sources)?;
    clock.lap("data");
    let mut model = crate::formula::evaluate(data, sources)?;
    let (stale, problems) = crate::stale::assess(
        &model.data,
        project.config.today(),
        project.config.stale_after_months(),
        sources,
    );
    if problems.has_errors() {
        return Err(problems);
    }
    model.stale = stale;
    let model = Arc::new(model);
    clock.lap("formulas");
    let errata = Arc::new(crate::errata::find(&model, &project.config.errata));
    let mut articles = crate::content::load_articles(project, sources)?;
    // Drafts are left out of a published build; links to them are errors that say so.
    let mut drafts: Vec<String> = Vec::new();
    if !project.drafts {
        articles.retain(|a| {
            if a.front.draft {
                drafts.push(source_path(a));
            }
            !a.front.draft
        });
    }
    let statics = crate::content::static_files(project)?;
    let static_paths: std::collections::HashSet<String> =
        statics.iter().map(|s| s.site_path.clone()).collect();
    clock.lap("content");
    let addresses = crate::entity::plan(&model, &articles, sources)?;
    let wiki = crate::wiki::WikiIndex::new(&articles, &model, &addresses);
    let layouts = crate::jinja::load_layouts(&project.templates_dir, &project.root, sources)?;
    crate::layout::check_layouts(&articles, &model, &layouts, sources)?;

    let env = crate::expand::article_environment();
    // Figures the source printed otherwise link to their row on the page that shows `errata()`.
    let errata_page: Option<Arc<str>> = articles
        .iter()
        .find(|a| a.body.contains("errata()"))
        .map(|a| Arc::from(a.url()));
    let expanded: Vec<Result<Expanded, Diagnostics>> = articles
        .par_iter()
        .map(|a| crate::expand::expand_article(a, &env, &model, &errata, &errata_page, sources))
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
        .map(|a| (source_path(a), a.slug.clone()))
        .collect();
    let raw_html = project.config.markdown.raw_html;
    let provenance = crate::entity::Provenance {
        model: &model,
        addresses: &addresses,
        errata: &errata,
        errata_page: errata_page.as_deref(),
    };
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
                drafts: &drafts,
                static_files: &static_paths,
                wiki: &wiki,
                figures: &e.recording.figures,
                provenance: Some(&provenance),
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
    let mut backlinks = crate::wiki::Backlinks::default();
    for (a, p) in articles.iter().zip(&pages) {
        for page in p.rendered.links.iter().filter_map(|l| l.page.as_deref()) {
            backlinks.add(page, &a.front.title, &a.url());
        }
    }
    let inputs = crate::entity::Inputs {
        model: &model,
        addresses: &addresses,
        articles: &articles,
        pages: &pages,
        backlinks: &backlinks,
    };
    let mut output = crate::site::assemble(project, &inputs, &layouts, sources)?;
    crate::site::add_static_files(&mut output, &statics)?;
    clock.lap("layouts");
    let warnings = crate::check::internal::check(&articles, &pages, &output, sources)?;
    clock.lap("links");
    if project.index_search {
        let index = crate::search::index(&output.files)
            .map_err(|e| Diagnostics::from(crate::diag::Diagnostic::error(e)))?;
        output.files.extend(index);
        clock.lap("search");
    }
    let lock = crate::site::lock_file(&model);
    Ok(Build {
        output,
        model,
        lock,
        articles,
        pages,
        errata,
        warnings,
        data_pages: addresses.count(),
    })
}

/// An article's file below `content/`, as links name it (`gpus/rtx.md`).
fn source_path(a: &Article) -> String {
    let p = a
        .path
        .strip_prefix("content")
        .unwrap_or(&a.path)
        .to_string_lossy()
        .replace('\\', "/");
    crate::fsutil::nfc(&p)
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
