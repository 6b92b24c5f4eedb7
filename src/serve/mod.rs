//! `driftless serve`: the wiki built in memory and served over HTTP (loopback by default),
//! rebuilt when a source changes, with the open pages reloaded. Nothing is written: not
//! `site/`, not `values.lock`, not the build cache.
//!
//! Three parts: [`watch`] turns file events into batches of changed sources, the rebuild loop
//! here turns a batch into a new [`Served`] (the last good site, plus the errors of the last
//! build if it failed), and [`http`] answers requests from the current `Served` and tells open
//! pages to reload.

mod http;
mod watch;

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crate::cmd::Outcome;
use crate::project::Locate;
use crate::source::SourceMap;

/// What `serve` was asked for.
#[derive(Debug, Clone)]
pub struct Options {
    pub bind: IpAddr,
    pub port: u16,
    pub open: bool,
}

/// What the server answers with.
#[derive(Debug, Default)]
pub struct Served {
    /// The site of the last build that succeeded (empty if none has yet).
    pub files: BTreeMap<String, Vec<u8>>,
    /// The report of the last build, if it failed: shown over every page.
    pub error: Option<String>,
    /// Counts builds; a page knows the generation it was served from.
    pub generation: u64,
}

/// Shared between the rebuild loop and the request handlers.
pub struct State {
    pub served: RwLock<Arc<Served>>,
    /// Sends the new generation after every build.
    pub reload: tokio::sync::broadcast::Sender<u64>,
    /// The `Host` header values answered; `None` when serving beyond loopback.
    pub hosts: Option<Vec<String>>,
    /// Becomes true when the server stops: open event streams end.
    pub stopping: tokio::sync::watch::Receiver<bool>,
}

impl State {
    fn current(&self) -> Arc<Served> {
        self.served
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

/// How long the site must stay unchanged before its search index is made.
const INDEX_AFTER: Duration = Duration::from_millis(400);

/// Runs the server until SIGINT or SIGTERM.
pub fn run(locate: &Locate, options: &Options) -> Outcome {
    let root = locate.root.clone().unwrap_or_else(|| PathBuf::from("."));
    // The wiki must at least be found; a broken build is shown in the browser.
    {
        let sources = SourceMap::default();
        if let Err(outcome) = crate::cmd::discover(locate, &sources) {
            return outcome;
        }
    }
    let started = Instant::now();
    let mut cache = crate::pipeline::Cache::default();
    let first = build(locate, &mut cache).map(|b| b.files);
    let mut served = Served {
        generation: 1,
        ..Served::default()
    };
    match first {
        Ok(files) => served.files = files,
        Err(report) => {
            crate::term::err(&report);
            served.error = Some(report);
        }
    }
    let pages = html_pages(&served.files);
    let (reload, _) = tokio::sync::broadcast::channel(16);
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let loopback = options.bind.is_loopback();
    let hosts = loopback.then(|| {
        let p = options.port;
        ["localhost", "127.0.0.1", "[::1]"]
            .iter()
            .flat_map(|h| [h.to_string(), format!("{h}:{p}")])
            .collect::<Vec<_>>()
    });
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
    {
        Ok(r) => r,
        Err(e) => return Outcome::Failure(format!("cannot start the server: {e}")),
    };
    let addr = SocketAddr::new(options.bind, options.port);
    let listener = match runtime.block_on(tokio::net::TcpListener::bind(addr)) {
        Ok(l) => l,
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
            return Outcome::Failure(format!(
                "port {} is in use (another `driftless serve`?): pass --port N, or --port 0 for any free port",
                options.port
            ))
        }
        Err(e) => return Outcome::Failure(format!("cannot listen on {addr}: {e}")),
    };
    let port = listener.local_addr().map_or(options.port, |a| a.port());
    let hosts = hosts.map(|mut h| {
        // With `--port 0` the port is known only now.
        for name in ["localhost", "127.0.0.1", "[::1]"] {
            h.push(format!("{name}:{port}"));
        }
        h
    });
    let state = Arc::new(State {
        served: RwLock::new(Arc::new(served)),
        reload,
        hosts,
        stopping,
    });
    let shown_host = match options.bind {
        IpAddr::V6(ip) => format!("[{ip}]"),
        IpAddr::V4(ip) => ip.to_string(),
    };
    let url = format!("http://{shown_host}:{port}/");
    if !loopback {
        crate::tell!(
            "warning: serving on {} makes the wiki, drafts included, reachable from other machines; \
             requests are answered whatever host name they use",
            options.bind
        );
    }
    crate::tell!(
        "serving {} at {url} ({} built in {} ms); watching content/, data/, templates/ and {}; Ctrl-C stops",
        root.display(),
        crate::cmd::count(pages, "page", "pages"),
        started.elapsed().as_millis(),
        crate::project::CONFIG_FILE,
    );
    let (changes_tx, changes_rx) = std::sync::mpsc::channel();
    let watcher = match watch::start(&root, changes_tx) {
        Ok(w) => Arc::new(w),
        Err(e) => return Outcome::Failure(format!("cannot watch {}: {e}", root.display())),
    };
    {
        let state = state.clone();
        let locate = locate.clone();
        let watcher = watcher.clone();
        // The search index is made on its own thread, for the newest build only, so that a
        // save is rebuilt and reloaded without waiting for the index of the one before.
        let (index_tx, index_rx) = std::sync::mpsc::channel::<u64>();
        let indexed = state.clone();
        std::thread::spawn(move || {
            while let Ok(mut generation) = index_rx.recv() {
                // Index once the editor pauses: a burst of saves is indexed once, after it.
                while let Ok(newer) = index_rx.recv_timeout(INDEX_AFTER) {
                    generation = newer;
                }
                add_search_index(&indexed, generation);
            }
        });
        std::thread::spawn(move || {
            let _ = index_tx.send(1);
            rebuild_loop(&locate, &state, &watcher, &changes_rx, cache, &index_tx);
        });
    }
    if options.open {
        if let Err(e) = opener::open(&url) {
            crate::tell!("warning: cannot open a browser ({e}); open {url} yourself");
        }
    }
    let served = runtime.block_on(http::serve(listener, state, async move {
        shutdown_signal().await;
        let _ = stop.send(true);
    }));
    drop(watcher);
    match served {
        Ok(()) => {
            crate::tell!("stopped serving");
            Outcome::Success
        }
        Err(e) => Outcome::Failure(format!("the server stopped: {e}")),
    }
}

/// A build in memory: the site's files, and how many of its articles were rendered.
struct Built {
    files: BTreeMap<String, Vec<u8>>,
    rendered: usize,
    articles: usize,
}

/// Builds the wiki in memory, taking from `cache` the articles that read nothing that changed:
/// the site's files, or the report of what is wrong.
fn build(locate: &Locate, cache: &mut crate::pipeline::Cache) -> Result<Built, String> {
    let sources = SourceMap::default();
    let mut project = match crate::project::discover(locate, &sources) {
        Ok(Ok(p)) => p,
        Ok(Err(d)) => return Err(d.render()),
        Err(e) => return Err(format!("error: {}\n", e.0)),
    };
    // Drafts are shown while editing, marked as such. The search index is made after the
    // pages are served (see `add_search_index`), so a save reloads without waiting for it.
    project.drafts = true;
    project.index_search = false;
    match crate::pipeline::run_cached(&project, &sources, Some(cache)) {
        Ok(b) => Ok(Built {
            rendered: b.rerendered,
            articles: b.articles.len(),
            files: b.output.files,
        }),
        Err(mut d) => {
            d.sort();
            Err(d.render())
        }
    }
}

/// Waits for changes and rebuilds, one build at a time; changes that arrive during a build
/// are taken together by the next one.
fn rebuild_loop(
    locate: &Locate,
    state: &State,
    watcher: &watch::Watch,
    changes: &std::sync::mpsc::Receiver<Vec<PathBuf>>,
    mut cache: crate::pipeline::Cache,
    index: &std::sync::mpsc::Sender<u64>,
) {
    while let Ok(mut batch) = changes.recv() {
        while let Ok(more) = changes.try_recv() {
            batch.extend(more);
        }
        batch.sort();
        batch.dedup();
        watcher.refresh(&batch);
        let started = Instant::now();
        let result = build(locate, &mut cache);
        let previous = state.current();
        let mut next = Served {
            generation: previous.generation + 1,
            ..Served::default()
        };
        let what = describe(&batch);
        let line = match result {
            Ok(Built {
                files,
                rendered,
                articles,
            }) => {
                if previous.error.is_none() && same_pages(&files, &previous.files) {
                    // A save that changed nothing the site shows: no reload.
                    crate::tell!(
                        "{what}: rebuilt in {} ms, no page changed ({} of {articles} articles rendered)",
                        started.elapsed().as_millis(),
                        rendered
                    );
                    continue;
                }
                let changed = files
                    .iter()
                    .filter(|(k, v)| k.ends_with(".html") && previous.files.get(*k) != Some(*v))
                    .count()
                    + previous
                        .files
                        .keys()
                        .filter(|k| k.ends_with(".html") && !files.contains_key(*k))
                        .count();
                let pages = html_pages(&files);
                next.files = files;
                format!(
                    "{what}: rebuilt {}, {} changed ({rendered} of {articles} articles rendered), in {} ms{}",
                    crate::cmd::count(pages, "page", "pages"),
                    changed,
                    started.elapsed().as_millis(),
                    if previous.error.is_some() {
                        "; the error is fixed"
                    } else {
                        ""
                    }
                )
            }
            Err(report) => {
                crate::term::err(&report);
                next.files = previous.files.clone();
                next.error = Some(report);
                format!(
                    "{what}: the build failed in {} ms (shown in the browser; the last good pages stay served)",
                    started.elapsed().as_millis()
                )
            }
        };
        let generation = next.generation;
        *state
            .served
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(next);
        let _ = state.reload.send(generation);
        crate::tell!("{line}");
        let _ = index.send(generation);
    }
}

/// Whether two builds publish the same files, leaving out the search index (which the served
/// site gets after each build).
fn same_pages(a: &BTreeMap<String, Vec<u8>>, b: &BTreeMap<String, Vec<u8>>) -> bool {
    let page = |(k, _): &(&String, &Vec<u8>)| !k.starts_with(crate::search::DIR);
    a.iter().filter(page).eq(b.iter().filter(page))
}

/// Indexes the served pages for search, if the site has search and no newer build replaced
/// them meanwhile. A failure leaves the site without results; the next build tries again.
fn add_search_index(state: &State, generation: u64) {
    let current = state.current();
    if current.generation != generation || !current.files.contains_key("search/index.html") {
        return;
    }
    let index = match crate::search::index(&current.files) {
        Ok(index) => index,
        Err(e) => {
            crate::tell!("search: {e}");
            return;
        }
    };
    let mut served = state
        .served
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if served.generation != generation {
        return;
    }
    let mut files = served.files.clone();
    files.retain(|k, _| !k.starts_with(crate::search::DIR));
    files.extend(index);
    *served = Arc::new(Served {
        files,
        error: served.error.clone(),
        generation,
    });
}

/// `data/gpus.csv changed`, `3 files changed`.
fn describe(paths: &[PathBuf]) -> String {
    match paths {
        [one] => format!("{} changed", one.display()),
        many => format!("{} changed", crate::cmd::count(many.len(), "file", "files")),
    }
}

fn html_pages(files: &BTreeMap<String, Vec<u8>>) -> usize {
    files.keys().filter(|k| k.ends_with(".html")).count()
}

/// SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    {
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            () = ctrl_c => {},
            () = term => {},
        }
    }
    #[cfg(not(unix))]
    ctrl_c.await;
}
