//! The orchestrator: runs the stages in order and nothing else. Each stage reports every
//! problem it finds; the pipeline stops after the first stage that found errors.

use std::collections::HashMap;
use std::sync::Arc;

use rayon::prelude::*;

use crate::content::Article;
use crate::deps::{Digest, Digests, Reads};
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
    pub pages: Vec<Arc<PageRecord>>,
    pub errata: Arc<Vec<Erratum>>,
    /// Problems that do not fail the build (red links).
    pub warnings: Diagnostics,
    /// How many pages were made from data (dataset and entity pages).
    pub data_pages: usize,
    /// How many articles were rendered (the others were taken from the cache unchanged), and
    /// how many were laid out.
    pub rerendered: usize,
    pub relaid: usize,
}

/// Runs every stage up to and including site assembly.
pub fn run(project: &Project, sources: &SourceMap) -> Result<Build, Diagnostics> {
    run_cached(project, sources, None)
}

/// What one build leaves for the next in the same process (`serve`): for each article, what it
/// read from the model and what it rendered. Safe to drop: a build without it renders
/// everything, and a build with it writes the same bytes.
#[derive(Default)]
pub struct Cache {
    articles: HashMap<std::path::PathBuf, CachedArticle>,
    data_pages: crate::entity::Reused,
    loaded: crate::content::Loaded,
}

struct CachedArticle {
    /// The digest of the article's source and of everything every page shows (layouts, the list
    /// of pages, settings).
    key: u64,
    reads: Arc<Reads>,
    /// The digest of what `reads` named when it was rendered.
    digest: u64,
    record: Arc<PageRecord>,
    /// `key`, `digest` and the page's backlinks.
    layout_key: u64,
    html: Vec<u8>,
}

/// Like [`run`], taking from `cache` the articles that read nothing that changed, and leaving
/// this build's articles in it for the next.
pub fn run_cached(
    project: &Project,
    sources: &SourceMap,
    cache: Option<&mut Cache>,
) -> Result<Build, Diagnostics> {
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
    let (mut articles, loaded) =
        crate::content::load_articles_since(project, sources, cache.as_deref().map(|c| &c.loaded))?;
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
    let digests = Digests::new(&model);
    let site_key = site_key(
        project,
        &articles,
        &drafts,
        &static_paths,
        &layouts,
        &addresses,
        &model,
        &digests,
        sources,
    );
    // Articles mark the figures the source printed otherwise, and one shows the errata.
    let errata_key = Digest::new()
        .add(&format!("{errata:?}"))
        .add(&errata_page)
        .finish();
    let keys: Vec<u64> = articles
        .par_iter()
        .map(|a| {
            Digest::new()
                .add(&site_key)
                .add(&errata_key)
                .add(&a.path)
                .add(&a.slug)
                .add(&a.digest)
                .finish()
        })
        .collect();
    clock.lap("keys");
    // An article whose source, site and every value it read are as the previous build saw
    // them renders the same: it is taken from the cache.
    let cached: Vec<Option<&CachedArticle>> = articles
        .iter()
        .zip(&keys)
        .map(|(a, &key)| {
            let c = cache.as_deref()?.articles.get(&a.path)?;
            (c.key == key && digests.of(&model, &c.reads) == Some(c.digest)).then_some(c)
        })
        .collect();
    let expanded: Vec<Option<Result<Expanded, Diagnostics>>> = articles
        .par_iter()
        .zip(&cached)
        .map(|(a, c)| match c {
            Some(_) => None,
            None => Some(crate::expand::expand_article(
                a,
                &env,
                &model,
                &errata,
                &errata_page,
                sources,
            )),
        })
        .collect();
    let mut diags = Diagnostics::default();
    let mut ok = Vec::new();
    for r in expanded {
        match r {
            Some(Ok(e)) => ok.push(Some(e)),
            Some(Err(d)) => diags.extend(d),
            None => ok.push(None),
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
    let rendered: Vec<(Arc<PageRecord>, Arc<Reads>, u64)> = articles
        .par_iter()
        .zip(ok.into_par_iter())
        .zip(cached.par_iter())
        .map(|((a, e), c)| {
            let Some(e) = e else {
                let c = c.expect("an article not expanded is cached");
                return (c.record.clone(), c.reads.clone(), c.digest);
            };
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
            let mut reads = e.recording.reads;
            reads.add_provenance(&model, &e.recording.figures);
            // Every read is of this model, so it has a digest.
            let digest = digests.of(&model, &reads).unwrap_or_default();
            let record = PageRecord {
                slug: a.slug.clone(),
                values: e.recording.values,
                datasets: e.recording.datasets,
                claims: e.recording.claims,
                rendered,
            };
            (Arc::new(record), Arc::new(reads), digest)
        })
        .collect();
    let rerendered = cached.iter().filter(|c| c.is_none()).count();
    type Read = (Arc<Reads>, u64);
    let (pages, reads): (Vec<Arc<PageRecord>>, Vec<Read>) =
        rendered.into_iter().map(|(p, r, d)| (p, (r, d))).unzip();
    // A page taken from the cache was checked when it was rendered; it is checked again when
    // it links to a page rendered anew (whose headings may have changed).
    let checked: Option<Vec<bool>> = cache.is_some().then(|| {
        let changed: std::collections::HashSet<&str> = articles
            .iter()
            .zip(&cached)
            .filter(|(_, c)| c.is_none())
            .map(|(a, _)| a.slug.as_str())
            .collect();
        pages
            .iter()
            .zip(&cached)
            .map(|(p, c)| {
                c.is_none()
                    || p.rendered
                        .links
                        .iter()
                        .any(|l| l.page.as_deref().is_some_and(|t| changed.contains(t)))
            })
            .collect()
    });
    clock.lap("markdown");
    let mut backlinks = crate::wiki::Backlinks::default();
    for (a, p) in articles.iter().zip(&pages) {
        let from = backlinks.page(&a.front.title, &a.url());
        for page in p.rendered.links.iter().filter_map(|l| l.page.as_deref()) {
            backlinks.add(page, from);
        }
    }
    clock.lap("backlinks");
    // A page is laid out again when its body or its backlinks changed.
    let layout_keys: Vec<u64> = articles
        .iter()
        .zip(&keys)
        .zip(&reads)
        .map(|((a, key), (_, digest))| {
            let mut d = Digest::new();
            d.add(key).add(digest);
            for l in backlinks.of(&a.slug) {
                d.add(&l.title).add(&l.url);
            }
            d.finish()
        })
        .collect();
    let reuse: Vec<Option<&[u8]>> = articles
        .iter()
        .zip(&layout_keys)
        .map(|(a, lk)| {
            let c = cache.as_deref()?.articles.get(&a.path)?;
            (c.layout_key == *lk).then_some(c.html.as_slice())
        })
        .collect();
    let laid_out: Vec<bool> = reuse.iter().map(Option::is_none).collect();
    let relaid = laid_out.iter().filter(|&&l| l).count();
    let inputs = crate::entity::Inputs {
        model: &model,
        addresses: &addresses,
        articles: &articles,
        pages: &pages,
        backlinks: &backlinks,
        previous: cache.as_deref().map(|c| &c.data_pages),
        site_key,
        dataset_keys: (0..model.data.datasets.len())
            .map(|ds| digests.whole_of(ds))
            .collect(),
    };
    let mut output = crate::site::assemble(project, &inputs, &layouts, &reuse, sources)?;
    drop(reuse);
    if let Some(cache) = cache {
        // A page not laid out again keeps the cache's copy of its bytes.
        let mut old = std::mem::take(&mut cache.articles);
        let mut next = HashMap::with_capacity(articles.len());
        for (i, a) in articles.iter().enumerate() {
            let kept = if laid_out[i] {
                None
            } else {
                old.remove(&a.path).map(|c| c.html)
            };
            let html = match kept {
                Some(html) => html,
                None => {
                    let path = if a.is_home() {
                        "index.html".to_string()
                    } else {
                        format!("{}/index.html", a.slug)
                    };
                    let Some(html) = output.files.get(&path) else {
                        continue;
                    };
                    html.clone()
                }
            };
            next.insert(
                a.path.clone(),
                CachedArticle {
                    key: keys[i],
                    reads: reads[i].0.clone(),
                    digest: reads[i].1,
                    record: pages[i].clone(),
                    layout_key: layout_keys[i],
                    html,
                },
            );
        }
        cache.articles = next;
        drop(old);
        cache.loaded = loaded;
        cache.data_pages = output
            .keys
            .iter()
            .filter_map(|(path, &key)| Some((path.clone(), (key, output.files.get(path)?.clone()))))
            .collect();
    }
    crate::site::add_static_files(&mut output, &statics)?;
    clock.lap("layouts");
    let warnings =
        crate::check::internal::check(&articles, &pages, checked.as_deref(), &output, sources)?;
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
        rerendered,
        relaid,
    })
}

/// The digest of what every page depends on besides its own content: the settings, the
/// layouts, the list of pages (titles, addresses, order), drafts, static files, the addresses
/// and titles of pages made from data.
#[allow(clippy::too_many_arguments)]
fn site_key(
    project: &Project,
    articles: &[Article],
    drafts: &[String],
    static_paths: &std::collections::HashSet<String>,
    layouts: &crate::jinja::Layouts,
    addresses: &crate::entity::Addresses,
    model: &Model,
    digests: &Digests,
    sources: &SourceMap,
) -> u64 {
    let mut d = Digest::new();
    d.add(&format!("{:?}", project.config))
        .add(&project.drafts)
        .add(&project.index_search);
    for (name, &file) in &layouts.files {
        d.add(name).add(&*sources.get(file).text);
    }
    d.add(&layouts.names);
    for a in articles {
        d.add(&a.path).add(&a.slug).add(&format!("{:?}", a.front));
    }
    d.add(drafts);
    let mut statics: Vec<&String> = static_paths.iter().collect();
    statics.sort();
    d.add(&statics);
    d.add(&format!("{addresses:?}"));
    for (ds, data) in model.data.datasets.iter().enumerate() {
        if let Some(pages) = &data.pages {
            d.add(&digests.names_of(ds, pages.title));
        }
    }
    d.finish()
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
