//! The wiki between pages: what a `[[wiki link]]` can name, and which pages link to which
//! ("What links here").

use std::collections::HashMap;

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

/// Names to pages: article titles, file paths and addresses; row titles of datasets with
/// pages; `data:name` and titles for dataset pages; and `dataset:key` for any row, looked up in
/// the dataset itself (a 500,000-row dataset adds nothing to the index). Names compare without
/// case, with `_` as a space. When two pages share a name the first one added keeps it:
/// articles, then rows by dataset name, then dataset pages.
#[derive(Debug, Default)]
pub struct WikiIndex<'a> {
    targets: Vec<WikiTarget>,
    by_name: HashMap<String, usize>,
    datasets: HashMap<String, usize>,
    data: Option<(&'a Model, &'a Addresses)>,
}

impl<'a> WikiIndex<'a> {
    /// The index of a site's articles and data pages.
    pub fn new(articles: &[Article], model: &'a Model, addresses: &'a Addresses) -> WikiIndex<'a> {
        let mut index = WikiIndex {
            data: Some((model, addresses)),
            ..WikiIndex::default()
        };
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
        for &ds in &by_name {
            let d = &model.data.datasets[ds];
            index.datasets.insert(d.name.clone(), ds);
            if d.pages.is_none() {
                continue;
            }
            for row in 0..d.len() {
                let title = addresses.row_title(model, ds, row);
                let t = index.add(WikiTarget {
                    slug: addresses.row(ds, row).unwrap_or_default().to_string(),
                    title: title.clone(),
                    article: false,
                });
                index.name(&title, t);
            }
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
    pub fn get(&self, name: &str) -> Option<WikiTarget> {
        if let Some(&t) = self.by_name.get(&normalize(name)) {
            return Some(self.targets[t].clone());
        }
        // `dataset:key`: a row's page, or its line on its dataset's page.
        let (model, addresses) = self.data?;
        let (ds_name, key) = name.split_once(':')?;
        let &ds = self.datasets.get(ds_name.trim())?;
        let d = &model.data.datasets[ds];
        let row = d.row(key.trim())?;
        Some(match addresses.row(ds, row) {
            Some(slug) => WikiTarget {
                slug: slug.to_string(),
                title: addresses.row_title(model, ds, row),
                article: false,
            },
            None => WikiTarget {
                slug: format!(
                    "{}#row-{}",
                    addresses.dataset(ds),
                    crate::markdown::slugify(&d.row_keys[row])
                ),
                title: d.row_label(row),
                article: false,
            },
        })
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
    /// The linking pages: title and address.
    from: Vec<(String, String)>,
    /// Address linked to: indexes into `from`.
    to: HashMap<String, Vec<u32>>,
}

impl Backlinks {
    /// Adds a page that may link to others; returns its number for [`Backlinks::add`].
    pub fn page(&mut self, title: &str, url: &str) -> u32 {
        self.from.push((title.to_string(), url.to_string()));
        self.from.len() as u32 - 1
    }

    /// Records that the page `from` (see [`Backlinks::page`]) links to the page at `to`.
    pub fn add(&mut self, to: &str, from: u32) {
        let to = to.split('#').next().unwrap_or("").trim_matches('/');
        if to == self.from[from as usize].1.trim_matches('/') {
            return;
        }
        match self.to.get_mut(to) {
            Some(list) => list.push(from),
            None => {
                self.to.insert(to.to_string(), vec![from]);
            }
        }
    }

    /// The pages that link to the page at `slug`, by title, then address, each once.
    pub fn of(&self, slug: &str) -> Vec<PageLink> {
        let Some(list) = self.to.get(slug.trim_matches('/')) else {
            return Vec::new();
        };
        let mut pages: Vec<&(String, String)> =
            list.iter().map(|&i| &self.from[i as usize]).collect();
        pages.sort();
        pages.dedup();
        pages
            .into_iter()
            .map(|(title, url)| PageLink {
                title: title.clone(),
                description: None,
                url: url.clone(),
            })
            .collect()
    }
}
