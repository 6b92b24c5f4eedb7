//! The wiki between pages: what a `[[wiki link]]` can name, and which pages link to which
//! ("What links here").

use std::collections::{BTreeSet, HashMap};

use crate::content::Article;
use crate::entity::Addresses;
use crate::layout::PageLink;
use crate::model::Model;

/// A page a wiki link can reach.
#[derive(Debug, Clone)]
pub struct WikiTarget {
    /// The page's address without slashes at the ends ("" for the home page).
    pub slug: String,
    pub title: String,
    /// An article (its headings are known), rather than a page made from data.
    pub article: bool,
}

/// Names to pages: article titles, file paths and addresses; `dataset:key` for rows; row titles;
/// `data:name` and titles for dataset pages. Names compare without case, with `_` as a space.
/// When two pages share a name the first one added keeps it: articles, then rows by dataset
/// name, then dataset pages.
#[derive(Debug, Default)]
pub struct WikiIndex {
    targets: Vec<WikiTarget>,
    by_name: HashMap<String, usize>,
}

impl WikiIndex {
    /// The index of a site's articles and data pages.
    pub fn new(articles: &[Article], model: &Model, addresses: &Addresses) -> WikiIndex {
        let mut index = WikiIndex::default();
        for a in articles {
            let t = index.add(WikiTarget {
                slug: a.slug.clone(),
                title: a.front.title.clone(),
                article: true,
            });
            let file = a
                .path
                .strip_prefix("content")
                .unwrap_or(&a.path)
                .with_extension("");
            index.name(&a.front.title, t);
            index.name(&file.to_string_lossy().replace('\\', "/"), t);
            if !a.slug.is_empty() {
                index.name(&a.slug, t);
            }
        }
        let mut by_name: Vec<usize> = (0..model.data.datasets.len()).collect();
        by_name.sort_by(|&a, &b| {
            model.data.datasets[a]
                .name
                .cmp(&model.data.datasets[b].name)
        });
        let mut titled = Vec::new();
        for &ds in &by_name {
            let d = &model.data.datasets[ds];
            for row in 0..d.len() {
                let (slug, title) = match addresses.row(ds, row) {
                    Some(slug) => (slug.to_string(), addresses.row_title(model, ds, row)),
                    // A row without a page of its own is a row of its dataset's page.
                    None => (
                        format!(
                            "{}#row-{}",
                            addresses.dataset(ds),
                            crate::markdown::slugify(&d.row_keys[row])
                        ),
                        d.row_label(row),
                    ),
                };
                let t = index.add(WikiTarget {
                    slug,
                    title: title.clone(),
                    article: false,
                });
                index.name(&format!("{}:{}", d.name, d.row_keys[row]), t);
                if addresses.row(ds, row).is_some() {
                    titled.push((title, t));
                }
            }
        }
        for (title, t) in titled {
            index.name(&title, t);
        }
        for &ds in &by_name {
            let d = &model.data.datasets[ds];
            let t = index.add(WikiTarget {
                slug: addresses.dataset(ds).to_string(),
                title: d.meta.title.clone(),
                article: false,
            });
            index.name(&format!("data:{}", d.name), t);
            index.name(&d.meta.title, t);
        }
        index
    }

    fn add(&mut self, target: WikiTarget) -> usize {
        self.targets.push(target);
        self.targets.len() - 1
    }

    fn name(&mut self, name: &str, target: usize) {
        self.by_name.entry(normalize(name)).or_insert(target);
    }

    /// The page a wiki link names.
    pub fn get(&self, name: &str) -> Option<&WikiTarget> {
        self.by_name
            .get(&normalize(name))
            .map(|&t| &self.targets[t])
    }
}

/// `RTX_4090`, ` rtx  4090 ` and `RTX 4090` are one name.
fn normalize(name: &str) -> String {
    crate::fsutil::nfc(name)
        .replace('_', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Which pages link to each page: address to the linking pages, by title, then address.
#[derive(Debug, Default)]
pub struct Backlinks {
    to: HashMap<String, BTreeSet<(String, String)>>,
}

impl Backlinks {
    /// Records that the page `from` (title, address) links to the page at `to`.
    pub fn add(&mut self, to: &str, from_title: &str, from_url: &str) {
        let to = to
            .split('#')
            .next()
            .unwrap_or("")
            .trim_matches('/')
            .to_string();
        let from = from_url.trim_matches('/');
        if to == from {
            return;
        }
        self.to
            .entry(to)
            .or_default()
            .insert((from_title.to_string(), from_url.to_string()));
    }

    /// The pages that link to the page at `slug`.
    pub fn of(&self, slug: &str) -> Vec<PageLink> {
        self.to
            .get(slug.trim_matches('/'))
            .map_or_else(Vec::new, |set| {
                set.iter()
                    .map(|(title, url)| PageLink {
                        title: title.clone(),
                        description: None,
                        url: url.clone(),
                    })
                    .collect()
            })
    }
}
