//! Project discovery: where the wiki's folders are and what its `driftless.yaml` says.
//!
//! Input: the command-line options. Output: a [`Project`] with resolved paths and the parsed
//! [`SiteConfig`]. No other stage looks at the command line or guesses paths.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::diag::{Diagnostic, Diagnostics};
use crate::source::SourceMap;
use crate::yaml;

/// The name of the site configuration file at the wiki root.
pub const CONFIG_FILE: &str = "driftless.yaml";
/// The folder, at the wiki root, of what the build remembers between runs.
pub const CACHE_DIR: &str = ".driftless-cache";
/// The name of the lock file of derived values at the wiki root.
pub const LOCK_FILE: &str = "values.lock";

/// A wiki on disk, with its settings.
#[derive(Debug, Clone)]
pub struct Project {
    /// The wiki's root folder (absolute).
    pub root: PathBuf,
    pub content_dir: PathBuf,
    pub data_dir: PathBuf,
    pub templates_dir: PathBuf,
    /// Where `build` publishes the site.
    pub out_dir: PathBuf,
    pub config: SiteConfig,
    /// Whether articles with `draft: true` are built (`serve`) or left out (`build`, `check`).
    pub drafts: bool,
    /// Whether the build indexes the site for search now (`serve` indexes after each reload,
    /// off the path of the rebuild).
    pub index_search: bool,
}

/// Settings from `driftless.yaml`. Every key is optional; unknown keys are errors.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SiteConfig {
    pub title: String,
    pub description: Option<String>,
    /// The address the site is served from, used to check absolute links to it offline.
    pub base_url: Option<String>,
    pub markdown: MarkdownConfig,
    pub links: LinksConfig,
    pub errata: ErrataConfig,
    pub lint: LintConfig,
    /// The date the wiki is judged at (`2026-12`): input ages are measured against it, never
    /// against the clock. Without it, `SOURCE_DATE_EPOCH` is used if set.
    pub as_of: Option<String>,
    /// The most an input's as-of date may lag behind `as_of` (`12 months`) before pages and
    /// `check` flag it as stale; a dataset may set its own.
    pub stale_after: Option<String>,
    /// Publish a full-text search index (`pagefind/`) and the search page.
    pub search: bool,
}

impl Default for SiteConfig {
    fn default() -> Self {
        SiteConfig {
            title: "Wiki".to_string(),
            description: None,
            base_url: None,
            markdown: MarkdownConfig::default(),
            links: LinksConfig::default(),
            errata: ErrataConfig::default(),
            lint: LintConfig::default(),
            as_of: None,
            stale_after: None,
            search: true,
        }
    }
}

/// How Markdown is rendered.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MarkdownConfig {
    /// Pass raw HTML in articles through to the page. Off by default: raw HTML is shown as
    /// text, so an article cannot inject scripts or markup.
    pub raw_html: bool,
}

/// Link checking settings (`driftless check`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LinksConfig {
    /// Regular expressions of URLs never checked (bot walls, rate-limited hosts).
    pub exclude: Vec<String>,
    /// Seconds before an external request gives up.
    pub timeout: u64,
    /// Attempts after the first failure.
    pub retries: u64,
    /// Minimum milliseconds between two requests to the same host.
    pub host_interval_ms: u64,
    /// Concurrent requests per host.
    pub host_concurrency: usize,
    /// Cache of external results, relative to the wiki root.
    pub cache_file: String,
    /// How long a cached result is trusted.
    pub cache_hours: u64,
    /// What `check` makes of a red link (a `[[wiki link]]` to a page that does not exist yet):
    /// `error` (the default) or `warning`. `build` always warns.
    pub red_links: Severity,
}

impl Default for LinksConfig {
    fn default() -> Self {
        LinksConfig {
            exclude: Vec::new(),
            timeout: 20,
            retries: 2,
            host_interval_ms: 500,
            host_concurrency: 2,
            cache_file: ".driftless-links.cache".to_string(),
            cache_hours: 24,
            red_links: Severity::Error,
        }
    }
}

/// How seriously a finding is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// How the errata page compares printed figures with recomputed ones.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ErrataConfig {
    /// A printed figure within this many percent of the recomputed value is only rounding.
    pub tolerance_percent: f64,
    /// A figure the source printed as approximate (`~40`) agrees within this many percent.
    pub approximate_percent: f64,
}

impl Default for ErrataConfig {
    fn default() -> Self {
        ErrataConfig {
            tolerance_percent: 2.0,
            approximate_percent: 10.0,
        }
    }
}

/// The drift lint: numbers typed in prose that equal a derived value.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LintConfig {
    pub drift: bool,
    /// One measured number stored as an input in two datasets (see `check::facts`).
    pub duplicated_facts: bool,
    /// Literal numbers with fewer significant digits than this are never reported.
    pub min_digits: usize,
}

impl Default for LintConfig {
    fn default() -> Self {
        LintConfig {
            drift: true,
            duplicated_facts: true,
            min_digits: 2,
        }
    }
}

impl SiteConfig {
    /// The date input ages are measured against: `as_of:`, or else `SOURCE_DATE_EPOCH`.
    pub fn today(&self) -> Option<crate::stale::Month> {
        match &self.as_of {
            Some(date) => crate::stale::Month::parse(date),
            None => std::env::var("SOURCE_DATE_EPOCH")
                .ok()
                .and_then(|s| s.trim().parse::<i64>().ok())
                .map(crate::stale::Month::from_unix),
        }
    }

    /// `stale_after:` in months, once validated.
    pub fn stale_after_months(&self) -> Option<u32> {
        self.stale_after
            .as_deref()
            .and_then(|a| crate::stale::parse_age(a).ok())
    }
}

impl Project {
    /// The folder of files the build keeps between runs (never published, never committed).
    pub fn cache_dir(&self) -> PathBuf {
        self.root.join(CACHE_DIR)
    }
}

/// Options from the command line that locate the wiki.
#[derive(Debug, Clone, Default)]
pub struct Locate {
    pub root: Option<PathBuf>,
    pub out: Option<PathBuf>,
}

/// An I/O or usage problem: exit code 2.
#[derive(Debug)]
pub struct UsageError(pub String);

/// Finds the wiki and reads its configuration.
pub fn discover(
    locate: &Locate,
    sources: &SourceMap,
) -> Result<Result<Project, Diagnostics>, UsageError> {
    let root = match &locate.root {
        Some(r) => r.clone(),
        None => std::env::current_dir()
            .map_err(|e| UsageError(format!("cannot read the current folder: {e}")))?,
    };
    let root = std::path::absolute(&root)
        .map_err(|e| UsageError(format!("cannot resolve {}: {e}", root.display())))?;
    if !root.is_dir() {
        return Err(UsageError(format!("{} is not a folder", root.display())));
    }
    let content_dir = root.join("content");
    if !content_dir.is_dir() {
        return Err(UsageError(format!(
            "{} has no content/ folder: is this a driftless wiki? (use --root to point at one)",
            root.display()
        )));
    }
    let out_dir = match &locate.out {
        Some(o) if o.is_absolute() => o.clone(),
        Some(o) => std::env::current_dir()
            .map(|d| d.join(o))
            .unwrap_or_else(|_| o.clone()),
        None => root.join("site"),
    };
    let config = match read_config(&root, sources) {
        Ok(c) => c,
        Err(d) => return Ok(Err(d)),
    };
    Ok(Ok(Project {
        data_dir: root.join("data"),
        templates_dir: root.join("templates"),
        content_dir,
        out_dir,
        root,
        index_search: config.search,
        config,
        drafts: false,
    }))
}

fn read_config(root: &Path, sources: &SourceMap) -> Result<SiteConfig, Diagnostics> {
    let path = root.join(CONFIG_FILE);
    if !path.exists() {
        return Ok(SiteConfig::default());
    }
    let rel = Path::new(CONFIG_FILE);
    let text = crate::fsutil::read_text(&path, rel)?;
    let file = sources.add(rel, text.clone());
    let config: SiteConfig = yaml::from_str_typed(&text, file, sources)?;
    validate(&config, &text, file, sources)?;
    Ok(config)
}

/// Checks the settings serde cannot: the form of `base_url` and the link exclusion patterns.
/// Each problem is reported at the value that has it.
fn validate(
    config: &SiteConfig,
    text: &str,
    file: crate::source::FileId,
    sources: &SourceMap,
) -> Result<(), Diagnostics> {
    let tree = yaml::parse(text, file, sources)?;
    let at = |keys: &[&str], index: Option<usize>| -> Option<crate::source::Pos> {
        let mut node = &tree;
        for key in keys {
            node = &node
                .as_map()?
                .iter()
                .find(|(k, _)| k.key_str() == Some(key))?
                .1;
        }
        match (index, &node.kind) {
            (Some(i), yaml::Kind::Seq(items)) => items.get(i).map(|n| n.pos),
            _ => Some(node.pos),
        }
    };
    let mut diags = Diagnostics::default();
    let rel = Path::new(CONFIG_FILE);
    let place = |d: Diagnostic, pos: Option<crate::source::Pos>| match pos {
        Some(pos) => d.at(sources, pos),
        None => d.in_file(rel),
    };
    if let Some(url) = &config.base_url {
        if let Err(why) = check_base_url(url) {
            diags.push(place(
                Diagnostic::error(format!("`base_url: {url}` {why}"))
                    .help("write the address the site is served from, such as `https://wiki.example.org/`"),
                at(&["base_url"], None),
            ));
        }
    }
    if let Some(date) = &config.as_of {
        if crate::stale::Month::parse(date).is_none() {
            diags.push(place(
                Diagnostic::error(format!("`as_of: {date}` is not a date driftless can read"))
                    .help(
                        "write the date the wiki is judged at, such as `2026-12` or `2026-12-02`",
                    ),
                at(&["as_of"], None),
            ));
        }
    }
    if let Some(age) = &config.stale_after {
        if let Err(why) = crate::stale::parse_age(age) {
            diags.push(place(Diagnostic::error(why), at(&["stale_after"], None)));
        }
    }
    for (i, pattern) in config.links.exclude.iter().enumerate() {
        let problem = if pattern.trim().is_empty() {
            Some("the pattern is empty".to_string())
        } else {
            regex::Regex::new(pattern).err().map(|e| match e {
                regex::Error::Syntax(s) => s
                    .lines()
                    .last()
                    .unwrap_or("")
                    .trim()
                    .trim_start_matches("error: ")
                    .to_string(),
                other => other.to_string(),
            })
        };
        if let Some(why) = problem {
            diags.push(place(
                Diagnostic::error(format!(
                    "invalid link exclusion pattern `{pattern}`: {why}"
                ))
                .help("patterns are regular expressions: escape `.`, `(`, `[` and `?` with `\\` to match them literally, e.g. `^https://example\\.com/`"),
                at(&["links", "exclude"], Some(i)),
            ));
        }
    }
    if diags.0.is_empty() {
        Ok(())
    } else {
        Err(diags)
    }
}

/// `base_url` must be an absolute http(s) address: it lands in every page's canonical link.
fn check_base_url(url: &str) -> Result<(), &'static str> {
    match url::Url::parse(url.trim()) {
        Ok(u) if (u.scheme() == "http" || u.scheme() == "https") && u.host().is_some() => Ok(()),
        Ok(_) => Err("is not a web address: it must start with `https://` or `http://`"),
        Err(_) => Err("is not a web address"),
    }
}
