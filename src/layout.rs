//! Stage 7: layouts. Puts a rendered page body into its template from `templates/`, with the
//! context every layout gets: `site`, `root`, `page`, `pages` and `nav`.

use serde::Serialize;

use crate::content::Article;
use crate::diag::{Diagnostic, Diagnostics};
use crate::jinja::Layouts;
use crate::markdown::Heading;
use crate::source::SourceMap;

/// What a layout knows about the site.
#[derive(Debug, Clone, Serialize)]
pub struct SiteInfo {
    pub title: String,
    pub description: Option<String>,
    pub base_url: Option<String>,
    /// Whether the site has a search page (and every page a search box).
    pub search: bool,
}

/// A link in the navigation or the list of articles.
#[derive(Debug, Clone, Serialize)]
pub struct PageLink {
    pub title: String,
    pub description: Option<String>,
    pub url: String,
}

/// What a layout knows about the page it renders.
#[derive(Debug, Clone, Serialize)]
pub struct PageInfo {
    pub title: String,
    pub description: Option<String>,
    pub url: String,
    pub kind: &'static str,
    #[serde(skip)]
    pub content: String,
    pub toc: Vec<Heading>,
    pub updated_from: Vec<String>,
    /// A draft shown by `serve`.
    pub draft: bool,
    /// The pages that link to this one ("What links here").
    pub backlinks: Vec<PageLink>,
}

/// What every page of a site shares, converted to template values once per build (a site of
/// 10,000 pages would otherwise convert its list of pages 10,000 times).
pub struct Shared {
    site: minijinja::Value,
    pages: minijinja::Value,
    nav: minijinja::Value,
}

impl Shared {
    /// Converts the site's shared context.
    pub fn new(site: &SiteInfo, pages: &[PageLink], nav: &[PageLink]) -> Shared {
        Shared {
            site: minijinja::Value::from(minijinja::value::Serde(site)),
            pages: minijinja::Value::from(minijinja::value::Serde(pages)),
            nav: minijinja::Value::from(minijinja::value::Serde(nav)),
        }
    }
}

/// Renders a page through a layout.
pub fn render_page(
    layouts: &Layouts,
    template: &str,
    shared: &Shared,
    page: &PageInfo,
    extra: Option<minijinja::Value>,
) -> Result<String, minijinja::Error> {
    let tmpl = layouts.env.get_template(template)?;
    let mut page_value = minijinja::Value::from(minijinja::value::Serde(page));
    // `content` is HTML the build produced: mark it safe so the layout does not escape it.
    let content = minijinja::Value::from_safe_string(page.content.clone());
    page_value = merge(page_value, "content", content);
    // The 404 page is served at any address: its links start from the site's own path.
    let root = if page.kind == "not-found" {
        page.url.clone()
    } else {
        crate::markdown::root_prefix(page.url.trim_end_matches('/'))
    };
    let ctx = minijinja::context! {
        site => shared.site.clone(),
        root => root,
        page => page_value,
        pages => shared.pages.clone(),
        nav => shared.nav.clone(),
        ..extra.unwrap_or_else(|| minijinja::context! {})
    };
    tmpl.render(ctx)
}

fn merge(base: minijinja::Value, key: &str, value: minijinja::Value) -> minijinja::Value {
    let mut map = std::collections::BTreeMap::new();
    if let Ok(iter) = base.try_iter() {
        for k in iter {
            if let Ok(v) = base.get_item(&k) {
                map.insert(k.to_string(), v);
            }
        }
    }
    map.insert(key.to_string(), value);
    minijinja::Value::from(map)
}

/// Every layout an article names must exist (the built-in theme provides the ones the build
/// itself uses: `article.html`, `index.html`, `data.html`, `base.html`).
pub fn check_layouts(
    articles: &[Article],
    model: &crate::model::Model,
    layouts: &crate::jinja::Layouts,
    sources: &SourceMap,
) -> Result<(), Diagnostics> {
    let mut diags = Diagnostics::default();
    let has = |n: &str| layouts.names.iter().any(|x| x == n);
    for d in &model.data.datasets {
        if let Some(p) = d.pages.as_ref().filter(|p| !has(&p.layout)) {
            diags.push(
                Diagnostic::error(format!(
                    "the layout `{}` of `pages:` does not exist",
                    p.layout
                ))
                .at(sources, p.pos)
                .help(format!(
                    "add templates/{}, or leave `layout:` out for the built-in entity.html",
                    p.layout
                )),
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
