//! Stage 4: content loading.
//!
//! Input: the Markdown files under `content/`. Output: [`Article`]s, sorted by slug, each with
//! its front matter and its body. The front matter is replaced by as many empty lines in the
//! body, so that line numbers of later errors are those of the file. Files and folders whose
//! names start with `_` are not published.

mod front_matter;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use rayon::prelude::*;

pub use front_matter::FrontMatter;

use crate::diag::{Diagnostic, Diagnostics};
use crate::project::Project;
use crate::source::{FileId, Pos, SourceMap};

/// One article, read but not yet expanded.
#[derive(Debug, Clone)]
pub struct Article {
    /// The page's path below the site root without slashes at the ends: `a/b`; "" for the home page.
    pub slug: String,
    /// The source file, relative to the wiki root.
    pub path: PathBuf,
    pub file: FileId,
    pub front: FrontMatter,
    /// The body, with the front matter blanked out (same line numbers as the file).
    pub body: Arc<str>,
    /// The digest of the file's text.
    pub digest: u64,
}

impl Article {
    /// The page's URL relative to the site root: `a/b/`, or "" for the home page.
    pub fn url(&self) -> String {
        if self.slug.is_empty() {
            String::new()
        } else {
            format!("{}/", self.slug)
        }
    }

    /// The position of a byte range of the body (which keeps the file's line numbers).
    pub fn body_pos(&self, range: std::ops::Range<usize>) -> Pos {
        Pos::in_text(&self.body, self.file, range)
    }

    /// Whether this is the home page (`content/index.md`).
    pub fn is_home(&self) -> bool {
        self.slug.is_empty()
    }

    /// The position of a front matter setting's value (`nope.html` in `template: nope.html`),
    /// or of the opening `---` when the setting is not written on a line of its own.
    pub fn front_pos(&self, key: &str, sources: &SourceMap) -> Pos {
        Self::front_pos_in(self.file, key, sources)
    }

    fn front_pos_in(id: FileId, key: &str, sources: &SourceMap) -> Pos {
        let file = sources.get(id);
        let prefix = format!("{key}:");
        for (i, line) in file.text.lines().enumerate().skip(1) {
            if line.trim_end() == "---" {
                break;
            }
            if let Some(rest) = line.strip_prefix(&prefix) {
                let value = rest.trim();
                let at = line.len() - rest.trim_start().len();
                return Pos {
                    file: id,
                    line: i as u32 + 1,
                    col: line[..at].chars().count() as u32 + 1,
                    len: value.chars().count().max(1) as u32,
                };
            }
        }
        Pos {
            file: id,
            line: 1,
            col: 1,
            len: 3,
        }
    }
}

/// The kinds of files next to articles that are published as they are (images, documents,
/// media, data a reader downloads).
pub const STATIC_EXTENSIONS: &[&str] = &[
    "png", "jpg", "jpeg", "gif", "webp", "avif", "svg", "ico", "pdf", "txt", "csv", "json", "mp3",
    "mp4", "webm", "zip",
];

/// A file of `content/` that is not an article, published at the same path below the site.
#[derive(Debug, Clone)]
pub struct StaticFile {
    /// The path below `content/` and below the site (`solar/panel.png`), NFC.
    pub site_path: String,
    pub abs: PathBuf,
    /// Relative to the wiki root, for messages.
    pub rel: PathBuf,
}

/// Every static file of `content/` (those in `_`-prefixed folders and hidden ones excepted, as
/// for articles).
pub fn static_files(project: &Project) -> Result<Vec<StaticFile>, Diagnostics> {
    let files = crate::fsutil::walk(&project.content_dir, &project.root, STATIC_EXTENSIONS)?;
    Ok(files
        .into_iter()
        .filter_map(|(abs, rel)| {
            let below = rel.strip_prefix("content").unwrap_or(&rel).to_path_buf();
            let skipped = below
                .components()
                .any(|c| c.as_os_str().to_string_lossy().starts_with('_'));
            (!skipped).then(|| StaticFile {
                site_path: crate::fsutil::nfc(&below.to_string_lossy().replace('\\', "/")),
                abs,
                rel,
            })
        })
        .collect())
}

/// Articles read by an earlier build, by their file: the file's stamp when it was read, the
/// article, and its source.
pub type Loaded = HashMap<
    PathBuf,
    (
        crate::fsutil::Stamp,
        Article,
        Arc<crate::source::SourceFile>,
    ),
>;

/// Reads every article.
pub fn load_articles(project: &Project, sources: &SourceMap) -> Result<Vec<Article>, Diagnostics> {
    load_articles_since(project, sources, None).map(|(a, _)| a)
}

/// Reads every article, taking from `previous` the files whose stamp has not changed; also
/// returns what the next build can take from this one.
pub fn load_articles_since(
    project: &Project,
    sources: &SourceMap,
    previous: Option<&Loaded>,
) -> Result<(Vec<Article>, Loaded), Diagnostics> {
    let files = crate::fsutil::walk(&project.content_dir, &project.root, &["md"])?;
    let files: Vec<_> = files
        .into_iter()
        .filter(|(_, rel)| {
            let below = rel.strip_prefix("content").unwrap_or(rel);
            !below
                .components()
                .any(|c| c.as_os_str().to_string_lossy().starts_with('_'))
        })
        .collect();
    let results: Vec<Result<(Article, Option<crate::fsutil::Stamp>), Diagnostics>> = files
        .par_iter()
        .map(|(abs, rel)| {
            // Stamped before it is read: a save during the build is read by the next one.
            let now = std::fs::metadata(abs)
                .ok()
                .map(|m| crate::fsutil::Stamp::of(&m));
            if let Some((stamp, article, file)) = previous.and_then(|p| p.get(rel)) {
                if now.as_ref() == Some(stamp) {
                    let mut a = article.clone();
                    a.file = sources.add_shared(file.clone());
                    return Ok((a, now));
                }
            }
            load_article(abs, rel, project, sources).map(|a| (a, now))
        })
        .collect();
    let mut diags = Diagnostics::default();
    let mut articles = Vec::new();
    let mut loaded = Loaded::with_capacity(results.len());
    for r in results {
        match r {
            Ok((a, stamp)) => {
                if let Some(stamp) = stamp {
                    loaded.insert(a.path.clone(), (stamp, a.clone(), sources.get(a.file)));
                }
                articles.push(a);
            }
            Err(d) => diags.extend(d),
        }
    }
    articles.sort_by(|a, b| a.slug.cmp(&b.slug).then(a.path.cmp(&b.path)));
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (i, a) in articles.iter().enumerate() {
        // Case-insensitive: `A.md` and `a.md` would overwrite each other on some file systems.
        let key = a.slug.to_lowercase();
        if let Some(&prev) = seen.get(&key) {
            let first = &articles[prev];
            diags.push(
                Diagnostic::error(format!(
                    "{} and {} would both be published at `{}/`",
                    first.path.display(),
                    a.path.display(),
                    a.slug
                ))
                .at(
                    sources,
                    if a.front.slug.is_some() {
                        a.front_pos("slug", sources)
                    } else {
                        Pos {
                            file: a.file,
                            line: 1,
                            col: 1,
                            len: 1,
                        }
                    },
                )
                .help(
                    "give one of them another file name or a different `slug:` in its front matter",
                ),
            );
        } else {
            seen.insert(key, i);
        }
    }
    diags.into_result((articles, loaded))
}

fn load_article(
    abs: &std::path::Path,
    rel: &std::path::Path,
    project: &Project,
    sources: &SourceMap,
) -> Result<Article, Diagnostics> {
    let text = crate::fsutil::read_text(abs, rel)?;
    let file = sources.add(rel, text.clone());
    crate::fsutil::refuse_nul(&text, file, sources)?;
    let (front, body) = front_matter::split(&text, file, sources)?;
    let below = abs
        .strip_prefix(&project.content_dir)
        .unwrap_or(abs)
        .with_extension("");
    let mut slug = crate::fsutil::nfc(&below.to_string_lossy().replace('\\', "/"));
    if slug == "index" {
        slug.clear();
    } else if let Some(s) = slug.strip_suffix("/index") {
        slug = s.to_string();
    }
    if let Some(s) = &front.slug {
        slug = crate::fsutil::nfc(s.trim_matches('/'));
    }
    let pos = if front.slug.is_some() {
        Article::front_pos_in(file, "slug", sources)
    } else {
        Pos::file_start(file, 1)
    };
    if let Some(reserved) = reserved_part(&slug) {
        let what = if front.slug.is_some() {
            "the `slug:` of this article"
        } else {
            "the file's place under content/"
        };
        return Err(Diagnostic::error(format!(
            "`{slug}/` cannot be an article's address: `{reserved}/` is where the site publishes {}",
            if reserved == "data" {
                "its data catalog and downloads"
            } else {
                "its style sheet and other assets"
            }
        ))
        .at(sources, pos)
        .help(format!(
            "change {what} so that its address does not start with or contain `{reserved}/` (for example `{reserved}-notes`)"
        ))
        .into());
    }
    if !is_valid_slug(&slug) {
        return Err(
            Diagnostic::error(format!("`{slug}` cannot be a page address"))
                .at(sources, pos)
                .help("use letters, digits, `-`, `_`, `.` and `/` between parts, without `..`")
                .into(),
        );
    }
    Ok(Article {
        slug,
        path: rel.to_path_buf(),
        file,
        digest: crate::deps::Digest::new().add(&*text).finish(),
        front,
        body: Arc::from(body),
    })
}

/// The part of an address the site itself uses (`data`, `assets`), if the address has one.
fn reserved_part(slug: &str) -> Option<&'static str> {
    slug.split('/')
        .find_map(|part| ["data", "assets"].into_iter().find(|r| *r == part))
}

fn is_valid_slug(slug: &str) -> bool {
    slug.is_empty()
        || slug.split('/').all(|part| {
            !part.is_empty()
                && part != "."
                && part != ".."
                && part
                    .chars()
                    .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
        })
}
