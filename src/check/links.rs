//! Link checking of the generated site with lychee-lib, the only user of it. The site is written
//! to a temporary folder and checked offline (`file://` links and `#fragments`); `--external`
//! also checks http(s) links, with timeouts, retries, a per-host rate limit, exclusions from
//! `driftless.yaml` and a cache file so that repeated runs do not hammer hosts. Findings point at
//! the Markdown source when the link comes from an article.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::StreamExt;
use lychee_lib::ratelimit::RateLimitConfig;
use lychee_lib::{
    BaseInfo, ClientBuilder, Collector, FileType, FragmentCheckerOptions, Input, InputSource,
    ResolvedInputSource,
};

use crate::diag::{Diagnostic, Diagnostics};
use crate::pipeline::Build;
use crate::project::Project;
use crate::source::SourceMap;

/// How many links were checked.
#[derive(Debug, Default)]
pub struct Checked {
    pub internal: usize,
    pub external: usize,
}

/// A link lychee could not follow.
struct Broken {
    /// The page, relative to the site root.
    page: String,
    uri: String,
    reason: String,
    /// Not a definite failure (rate limit, bot wall, timeout): reported as a warning.
    uncertain: bool,
}

/// Writes the site to a temporary folder and checks its links.
pub fn check_site(
    project: &Project,
    build: &Build,
    sources: &SourceMap,
    external: bool,
) -> Result<(Checked, Diagnostics), String> {
    let tmp = tempfile::Builder::new()
        .prefix("driftless-check-")
        .tempdir()
        .map_err(|e| format!("cannot create a temporary folder: {e}"))?;
    let site = tmp.path().join("site");
    crate::publish::publish(&build.output, &site, None)?;
    let site = site
        .canonicalize()
        .map_err(|e| format!("cannot resolve {}: {e}", site.display()))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the link checker: {e}"))?;
    let mut checked = Checked::default();
    let mut broken = runtime.block_on(offline(&site, &mut checked))?;
    if external {
        broken.extend(runtime.block_on(online(project, &site, &mut checked))?);
    }
    let mut diags = Diagnostics::default();
    for b in broken {
        diags.push(to_diagnostic(&b, build, sources));
    }
    Ok((checked, diags))
}

async fn collect(site: &Path) -> Result<Vec<lychee_lib::Request>, String> {
    let inputs = HashSet::from([Input::from_input_source(InputSource::FsPath(
        site.to_path_buf(),
    ))]);
    let collector = Collector::new(Some(site.to_path_buf()), BaseInfo::none())
        .map_err(|e| format!("cannot start the link collector: {e}"))?
        .skip_ignored(false)
        .skip_hidden(false);
    let mut stream =
        std::pin::pin!(collector.collect_links_from_file_types(inputs, FileType::Html.into()));
    let mut out = Vec::new();
    while let Some(r) = stream.next().await {
        match r {
            Ok(req) => out.push(req),
            Err(e) => return Err(format!("cannot read a link of the generated site: {e}")),
        }
    }
    // Deterministic order of findings, whatever the walk order.
    out.sort_by(|a, b| {
        (a.source.to_string(), a.uri.to_string()).cmp(&(b.source.to_string(), b.uri.to_string()))
    });
    Ok(out)
}

fn page_of(req: &lychee_lib::Request, site: &Path) -> String {
    match &req.source {
        ResolvedInputSource::FsPath(p) => p
            .strip_prefix(site)
            .unwrap_or(p)
            .to_string_lossy()
            .replace('\\', "/"),
        other => other.to_string(),
    }
}

async fn offline(site: &Path, checked: &mut Checked) -> Result<Vec<Broken>, String> {
    let client = ClientBuilder::builder()
        .schemes(HashSet::from(["file".to_string()]))
        .index_files(Some(vec!["index.html".to_string()]))
        .fragment_checker_options(FragmentCheckerOptions {
            check_anchor_fragments: true,
            check_text_fragments: false,
        })
        .build()
        .client()
        .map_err(|e| format!("cannot start the link checker: {e}"))?;
    let requests = collect(site).await?;
    let mut broken = Vec::new();
    for req in requests {
        if !req.uri.is_file() {
            continue;
        }
        checked.internal += 1;
        let page = page_of(&req, site);
        let uri = req.uri.to_string();
        // lychee accepts `../x.html` leaving the root if the file exists there.
        let outside = url::Url::parse(&uri)
            .ok()
            .and_then(|u| u.to_file_path().ok())
            .is_some_and(|p| !p.starts_with(site));
        if outside {
            broken.push(Broken {
                page,
                uri,
                reason: "the link leaves the site".into(),
                uncertain: false,
            });
            continue;
        }
        let response = client
            .check(req)
            .await
            .map_err(|e| format!("the link checker failed: {e}"))?;
        let status = response.status();
        if status.is_error() || status.is_timeout() {
            broken.push(Broken {
                page,
                uri,
                reason: status.to_string(),
                uncertain: false,
            });
        }
    }
    if checked.internal == 0 {
        return Err("the link checker found no links in the generated site".into());
    }
    Ok(broken)
}

/// One cached result of an external link.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct CacheEntry {
    ok: bool,
    uncertain: bool,
    reason: String,
    checked_at: u64,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

async fn online(
    project: &Project,
    site: &Path,
    checked: &mut Checked,
) -> Result<Vec<Broken>, String> {
    let cfg = &project.config.links;
    let excludes = regex::RegexSet::new(&cfg.exclude)
        .map_err(|e| format!("invalid link exclusion in driftless.yaml: {e}"))?;
    let client = ClientBuilder::builder()
        .schemes(HashSet::from(["http".to_string(), "https".to_string()]))
        .excludes(Some(excludes.clone()))
        .timeout(Some(Duration::from_secs(cfg.timeout.max(1))))
        .max_retries(cfg.retries)
        .retry_wait_time(Duration::from_millis(500))
        .rate_limit_config(RateLimitConfig {
            concurrency: cfg.host_concurrency.max(1),
            request_interval: Duration::from_millis(cfg.host_interval_ms),
        })
        .build()
        .client()
        .map_err(|e| format!("cannot start the link checker: {e}"))?;
    let cache_path = project.root.join(&cfg.cache_file);
    let mut cache: BTreeMap<String, CacheEntry> = std::fs::read_to_string(&cache_path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    let fresh_for = cfg.cache_hours * 3600;
    let mut by_uri: BTreeMap<String, (Vec<String>, lychee_lib::Request)> = BTreeMap::new();
    for req in collect(site).await? {
        let scheme = req.uri.scheme().to_string();
        if scheme != "http" && scheme != "https" {
            continue;
        }
        let page = page_of(&req, site);
        let uri = req.uri.to_string();
        if excludes.is_match(&uri) {
            continue;
        }
        by_uri
            .entry(uri)
            .or_insert_with(|| (Vec::new(), req))
            .0
            .push(page);
    }
    checked.external = by_uri.len();
    let pending: Vec<(String, Vec<String>, lychee_lib::Request)> = by_uri
        .into_iter()
        .filter(|(uri, _)| {
            cache
                .get(uri)
                .is_none_or(|c| now().saturating_sub(c.checked_at) >= fresh_for)
        })
        .map(|(uri, (pages, req))| (uri, pages, req))
        .collect();
    let results: Vec<(String, CacheEntry)> =
        futures::stream::iter(pending.into_iter().map(|(uri, _, req)| {
            let client = client.clone();
            async move {
                let entry = match client.check(req).await {
                    Ok(resp) => {
                        let status = resp.status();
                        let code = status.code().map(|c| c.as_u16());
                        let uncertain = status.is_timeout()
                            || matches!(code, Some(403 | 429 | 999))
                            || status.is_unsupported();
                        CacheEntry {
                            ok: status.is_success() || status.is_excluded(),
                            uncertain,
                            reason: status.to_string(),
                            checked_at: now(),
                        }
                    }
                    Err(e) => CacheEntry {
                        ok: false,
                        uncertain: true,
                        reason: e.to_string(),
                        checked_at: now(),
                    },
                };
                (uri, entry)
            }
        }))
        .buffer_unordered(16)
        .collect()
        .await;
    for (uri, entry) in results {
        cache.insert(uri, entry);
    }
    if let Ok(text) = serde_json::to_string_pretty(&cache) {
        let _ = std::fs::write(&cache_path, text);
    }
    let mut broken = Vec::new();
    for req in collect(site).await? {
        let uri = req.uri.to_string();
        if excludes.is_match(&uri) {
            continue;
        }
        if let Some(c) = cache.get(&uri) {
            if !c.ok {
                broken.push(Broken {
                    page: page_of(&req, site),
                    uri,
                    reason: c.reason.clone(),
                    uncertain: c.uncertain,
                });
            }
        }
    }
    broken.dedup_by(|a, b| a.page == b.page && a.uri == b.uri);
    Ok(broken)
}

/// Places a finding at the article's link when the page comes from an article.
fn to_diagnostic(b: &Broken, build: &Build, sources: &SourceMap) -> Diagnostic {
    let message = format!("broken link `{}`: {}", display_uri(&b.uri), b.reason);
    let mut d = if b.uncertain {
        Diagnostic::warning(message)
    } else {
        Diagnostic::error(message)
    };
    let source = super::article_of(build, &b.page).and_then(|i| {
        let article = &build.articles[i];
        let page = &build.pages[i];
        let fragment = b.uri.split_once('#').map(|(_, f)| f.to_string());
        let link = page.rendered.links.iter().find(|l| {
            let same_fragment =
                l.fragment == fragment || (fragment.is_none() && l.fragment.is_none());
            (l.href == b.uri)
                || (same_fragment
                    && !l.href.contains("://")
                    && b.uri.contains(
                        l.href
                            .split('#')
                            .next()
                            .unwrap_or("\u{0}")
                            .trim_start_matches("../")
                            .trim_end_matches('/'),
                    ))
        })?;
        Some(crate::expand::locate(
            &article.body,
            &link.dest,
            article,
            sources,
        ))
    });
    d = match source {
        Some(pos) => d.at(sources, pos),
        None => d.in_file(&PathBuf::from("site").join(&b.page)),
    };
    if b.uncertain {
        d = d.help("the host did not give a definite answer (rate limit, bot wall or timeout); exclude it in driftless.yaml `links: exclude:` if it keeps failing");
    }
    d
}

fn display_uri(uri: &str) -> String {
    match uri.find("/site/") {
        Some(i) if uri.starts_with("file://") => uri[i + 6..].to_string(),
        _ => uri.to_string(),
    }
}
