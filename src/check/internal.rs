//! Internal links and images: every link or image an article writes must reach something the
//! site publishes (an article and, with `#id`, one of its headings; the data catalog and its
//! exports; assets), and every heading attribute must be an id or a class. Problems are
//! reported where they are written in the article's source, and fail the build.

use std::collections::{BTreeSet, HashMap, VecDeque};

use rayon::prelude::*;

use crate::content::Article;
use crate::diag::{Diagnostic, Diagnostics};
use crate::markdown::Link;
use crate::site::PageRecord;
use crate::site::SiteOutput;
use crate::source::SourceMap;

/// Checks the links and images of every page against the assembled site. Red links (a
/// `[[wiki link]]` to a page that does not exist) are warnings, returned when nothing else is
/// wrong.
///
/// `checked` says, per article, whether to check it: a rebuild skips the articles that were
/// checked before and neither changed nor link to a page that changed.
pub fn check(
    articles: &[Article],
    pages: &[std::sync::Arc<PageRecord>],
    checked: Option<&[bool]>,
    output: &SiteOutput,
    sources: &SourceMap,
) -> Result<Diagnostics, Diagnostics> {
    let ids: HashMap<&str, BTreeSet<&str>> = pages
        .iter()
        .map(|p| (p.slug.as_str(), p.rendered.headings_all().collect()))
        .collect();
    let found: Vec<Diagnostics> = articles
        .par_iter()
        .zip(pages)
        .enumerate()
        .filter(|(i, _)| checked.is_none_or(|c| c[*i]))
        .map(|(_, (a, p))| check_page(a, p, articles, &ids, output, sources))
        .collect();
    let mut diags = Diagnostics::default();
    for d in found {
        diags.extend(d);
    }
    if diags.has_errors() {
        Err(diags)
    } else {
        Ok(diags)
    }
}

fn check_page(
    a: &Article,
    p: &PageRecord,
    articles: &[Article],
    ids: &HashMap<&str, BTreeSet<&str>>,
    output: &SiteOutput,
    sources: &SourceMap,
) -> Diagnostics {
    let mut diags = Diagnostics::default();
    let scan = crate::markdown::scan_source(&a.body);
    for (range, message) in &scan.problems {
        diags.push(
            Diagnostic::error(message.clone())
                .at(sources, a.body_pos(range.clone()))
                .label("not allowed")
                .help(
                    "write `## Title {#id .class}`; any other attribute is dropped from the page",
                ),
        );
    }
    // The rendered links in order, matched to the links written in the source by destination:
    // the n-th rendered link to `x` is the n-th written link to `x`.
    let mut written: HashMap<&str, VecDeque<std::ops::Range<usize>>> = HashMap::new();
    for l in &scan.links {
        written
            .entry(&l.dest)
            .or_default()
            .push_back(l.range.clone());
    }
    for link in &p.rendered.links {
        let range = written
            .get_mut(link.dest.as_str())
            .and_then(VecDeque::pop_front);
        if link.red {
            let d = Diagnostic::warning(format!("red link: no page is called `{}`", link.dest))
                .kind(crate::diag::Kind::RedLink);
            let d = match &range {
                Some(r) => d.at(sources, a.body_pos(r.clone())).label("no such page"),
                None => d.at(sources, a.body_pos(0..0)),
            };
            diags.push(d.help(
                "name an article by its title, a row as `dataset:key` or by its title, a dataset as `data:name`; or write the page",
            ));
            continue;
        }
        let Some(problem) = problem(link, a, ids, output) else {
            continue;
        };
        let what = if link.image {
            "missing image"
        } else {
            "broken link"
        };
        let mut d = Diagnostic::error(format!("{what}: {problem}"));
        d = match &range {
            Some(r) => d.at(sources, a.body_pos(r.clone())).label("here"),
            // Not written in the source: a template expression produced it.
            None => d.at(sources, a.body_pos(0..0)).note(format!(
                "the link to `{}` comes from a template expression of this article",
                link.dest
            )),
        };
        d = help(d, link, a, articles, ids);
        diags.push(d);
    }
    diags
}

/// What is wrong with a link, if anything.
fn problem(
    link: &Link,
    a: &Article,
    ids: &HashMap<&str, BTreeSet<&str>>,
    output: &SiteOutput,
) -> Option<String> {
    if let Some(pr) = &link.problem {
        return Some(pr.clone());
    }
    if let (Some(t), Some(f)) = (&link.target, &link.fragment) {
        let known = ids.get(t.as_str()).is_some_and(|s| s.contains(f.as_str()));
        if !known && !f.is_empty() && f != "top" {
            let page = if t.is_empty() {
                "the home page".to_string()
            } else {
                format!("`{t}`")
            };
            return Some(format!("`#{f}` is not a heading of {page}"));
        }
        return None;
    }
    if link.target.is_some() || link.red {
        return None;
    }
    // As published: an article link or a file next to the article is rewritten to its address.
    let path = site_path(&a.url(), &link.href)?;
    if published(output, &path) {
        None
    } else if link.image {
        Some(format!("`{}` is not a file of this site", link.dest))
    } else {
        Some(format!(
            "`{}` is not a page or file of this site",
            link.dest
        ))
    }
}

/// The path below the site root a relative link from the page at `page_url` reaches; `None` for
/// links that leave the site (web addresses, `mailto:`) or stay on the page (`#id`).
fn site_path(page_url: &str, dest: &str) -> Option<String> {
    let dest = dest.split(['#', '?']).next().unwrap_or("");
    if dest.is_empty() || dest.starts_with("//") || has_scheme(dest) {
        return None;
    }
    let joined = if let Some(abs) = dest.strip_prefix('/') {
        abs.to_string()
    } else {
        format!("{page_url}{dest}")
    };
    let mut parts: Vec<&str> = Vec::new();
    for part in joined.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                // Above the site root: certainly not a file of this site.
                parts.pop()?;
            }
            other => parts.push(other),
        }
    }
    let mut path = parts.join("/");
    if joined.ends_with('/') && !path.is_empty() {
        path.push('/');
    }
    Some(percent_decode(&path))
}

fn has_scheme(dest: &str) -> bool {
    match dest.split_once(':') {
        Some((scheme, _)) => {
            !scheme.is_empty()
                && !scheme.contains('/')
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '-' || c == '.')
        }
        None => false,
    }
}

/// `%20` and friends in a link name the same file as the decoded name.
fn percent_decode(path: &str) -> String {
    percent_encoding::percent_decode_str(path)
        .decode_utf8_lossy()
        .into_owned()
}

/// Whether the site publishes a file at `path` (a folder path reaches its `index.html`).
fn published(output: &SiteOutput, path: &str) -> bool {
    if path.is_empty() || path == "/" {
        return output.files.contains_key("index.html");
    }
    if let Some(dir) = path.strip_suffix('/') {
        return output.files.contains_key(&format!("{dir}/index.html"));
    }
    output.files.contains_key(path) || output.files.contains_key(&format!("{path}/index.html"))
}

/// A hint that fits the broken link.
fn help(
    mut d: Diagnostic,
    link: &Link,
    a: &Article,
    articles: &[Article],
    ids: &HashMap<&str, BTreeSet<&str>>,
) -> Diagnostic {
    let path = link.dest.split('#').next().unwrap_or_default();
    if link.image {
        return d.help(
            "put the image next to the article in content/ (it is published with it), or in templates/assets/ (published at assets/), and link to it by its path",
        );
    }
    if path.ends_with(".md") && link.target.is_none() {
        let known: Vec<String> = articles
            .iter()
            .filter(|x| x.slug != a.slug)
            .map(|x| {
                let p = x.path.strip_prefix("content").unwrap_or(&x.path);
                crate::diag::display_path(p)
            })
            .collect();
        return d.help(format!(
            "link to an article by its path from this one, e.g. `other.md#heading`; {}",
            crate::diag::did_you_mean(path, "article", known.iter().map(String::as_str))
        ));
    }
    if let (Some(t), Some(f)) = (&link.target, &link.fragment) {
        if let Some(s) = ids.get(t.as_str()) {
            return d.help(crate::diag::did_you_mean(
                f,
                "heading id",
                s.iter().copied(),
            ));
        }
    }
    if link.problem.is_some() {
        d = d.help("link to a web page (`https://...`) or to an article (`other.md`)");
    } else {
        let stem = path
            .trim_end_matches('/')
            .trim_end_matches(".html")
            .trim_end_matches("/index");
        let stem = stem.rsplit('/').next().unwrap_or(stem);
        d = d.help(format!(
            "link to an article by its file (`{}.md`), or to a web page (`https://...`)",
            if stem.is_empty() { "other" } else { stem }
        ));
    }
    d
}

#[cfg(test)]
mod tests {
    use super::site_path;

    #[test]
    fn relative_links_resolve_against_the_page_folder() {
        assert_eq!(site_path("", "faq/").as_deref(), Some("faq/"));
        assert_eq!(site_path("a/b/", "../c.png").as_deref(), Some("a/c.png"));
        assert_eq!(
            site_path("a/", "/data/gpus.csv").as_deref(),
            Some("data/gpus.csv")
        );
        assert_eq!(site_path("", "../../x").as_deref(), None);
        assert_eq!(site_path("", "https://example.org/").as_deref(), None);
        assert_eq!(site_path("", "mailto:a@b.c").as_deref(), None);
        assert_eq!(site_path("", "#top").as_deref(), None);
        assert_eq!(
            site_path("", "my%20file.pdf").as_deref(),
            Some("my file.pdf")
        );
    }
}
