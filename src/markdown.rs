//! Stage 6: Markdown rendering, the only user of pulldown-cmark.
//!
//! Input: an article's expanded Markdown and the HTML blocks its functions produced. Output: a
//! [`Rendered`] page body: HTML, its headings (with unique ids, for the table of contents and
//! anchor checks) and its links (rewritten from `other.md#id` to page addresses, kept for the
//! link check). Raw HTML is shown as text unless the wiki allows it, and links with script
//! schemes are refused.

use std::collections::HashMap;

use pulldown_cmark::{CowStr, Event, HeadingLevel, LinkType, Options, Parser, Tag, TagEnd};

use crate::functions::placeholder;

/// A heading of a page.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Heading {
    pub level: u8,
    pub id: String,
    pub title: String,
}

/// A link written in an article.
#[derive(Debug, Clone)]
pub struct Link {
    /// As written.
    pub dest: String,
    /// As published (an article link rewritten to its page address).
    pub href: String,
    /// The article it points to (slug), when it is a link to another article or this one.
    pub target: Option<String>,
    pub fragment: Option<String>,
    /// Byte offset in the expanded Markdown.
    pub offset: usize,
    /// A problem found while rewriting it (unknown article, unsafe scheme).
    pub problem: Option<String>,
    /// An image (`![alt](src)`) rather than a link.
    pub image: bool,
    /// A `[[wiki link]]` to a page that does not exist: shown as a red link, reported by
    /// `build` as a warning and by `check` as an error.
    pub red: bool,
    /// The page the link reaches (its address), when it is an article or a page of the wiki.
    pub page: Option<String>,
}

/// A rendered page body.
#[derive(Debug, Clone, Default)]
pub struct Rendered {
    pub html: String,
    pub headings: Vec<Heading>,
    pub links: Vec<Link>,
    /// The ids of all headings and footnotes.
    pub all_ids: Vec<String>,
}

impl Rendered {
    /// Every id a link may point at: all headings, at every level.
    pub fn headings_all(&self) -> impl Iterator<Item = &str> {
        self.all_ids.iter().map(String::as_str)
    }
}

/// How links to articles resolve: source path (relative to `content/`) to slug.
pub struct LinkResolver<'a> {
    pub slugs_by_path: &'a HashMap<String, String>,
    /// Articles left out as drafts (paths below `content/`): linking to one is an error.
    pub drafts: &'a [String],
    /// Static files of `content/` (paths below it, which are also their site paths).
    pub static_files: &'a std::collections::HashSet<String>,
    /// What `[[wiki links]]` can name.
    pub wiki: &'a crate::wiki::WikiIndex<'a>,
    /// The figures the page's text shows, and where each comes from (no links without it).
    pub figures: &'a [(crate::model::ValueRef, String)],
    pub provenance: Option<&'a crate::entity::Provenance<'a>>,
    /// The current article's folder, relative to `content/` ("" at the top).
    pub dir: &'a str,
    pub slug: &'a str,
    pub raw_html: bool,
}

fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_HEADING_ATTRIBUTES
        | Options::ENABLE_WIKILINKS
}

/// Renders expanded Markdown to HTML.
pub fn render(markdown: &str, blocks: &[String], links: &LinkResolver) -> Rendered {
    let mut events: Vec<(Event, std::ops::Range<usize>)> = Parser::new_ext(markdown, options())
        .into_offset_iter()
        .collect();
    // Figures in headings and code are text: a heading is a link target with an id made of its
    // words, and code shows what it holds.
    let mut in_heading = false;
    for (event, _) in &mut events {
        match event {
            Event::Start(Tag::Heading { .. }) => in_heading = true,
            Event::End(TagEnd::Heading(_)) => in_heading = false,
            Event::Text(t) if in_heading && t.contains(FIGURE_OPEN) => {
                *t = CowStr::from(plain_figures(t, links.figures));
            }
            Event::Code(t) if t.contains(FIGURE_OPEN) => {
                *t = CowStr::from(plain_figures(t, links.figures));
            }
            _ => {}
        }
    }
    let headings = assign_heading_ids(&mut events);
    let mut in_image = 0usize;
    let mut out_links = Vec::new();
    let mut out_events = Vec::with_capacity(events.len());
    let mut heading_idx = 0;
    // For every open link: whether it is a red link (closed by `</span>`, not `</a>`).
    let mut open_links: Vec<bool> = Vec::new();
    for (event, range) in events {
        match event {
            Event::Html(h) | Event::InlineHtml(h) if !links.raw_html => {
                out_events.push(Event::Text(h))
            }
            Event::Text(t) if t.contains(FIGURE_OPEN) => {
                // Inside a link or an image's text a figure cannot be a link of its own.
                let linkable = open_links.is_empty() && in_image == 0;
                push_figures(&t, links, linkable, &mut out_events);
            }
            Event::End(TagEnd::Image) => {
                in_image = in_image.saturating_sub(1);
                out_events.push(Event::End(TagEnd::Image));
            }
            Event::Start(Tag::Link {
                link_type: LinkType::WikiLink { .. },
                dest_url,
                ..
            }) => {
                let link = wiki_link(&dest_url, range.start, links);
                open_links.push(link.red);
                let html = if link.red {
                    format!(
                        "<span class=\"red-link\" title=\"No page is called {} yet\">",
                        escape_html(&link.dest)
                    )
                } else {
                    format!("<a href=\"{}\">", escape_html(&link.href))
                };
                out_links.push(link);
                out_events.push(Event::InlineHtml(CowStr::from(html)));
            }
            Event::End(TagEnd::Link) => {
                if open_links.pop() == Some(true) {
                    out_events.push(Event::InlineHtml(CowStr::from("</span>")));
                } else {
                    out_events.push(Event::End(TagEnd::Link));
                }
            }
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                open_links.push(false);
                let (href, mut link) = rewrite_link(&dest_url, range.start, links);
                link.href = href.clone();
                out_links.push(link);
                out_events.push(Event::Start(Tag::Link {
                    link_type,
                    dest_url: CowStr::from(href),
                    title,
                    id,
                }));
            }
            Event::Start(Tag::Image {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                let mut image = Link {
                    dest: dest_url.to_string(),
                    href: dest_url.to_string(),
                    target: None,
                    fragment: None,
                    offset: range.start,
                    problem: None,
                    image: true,
                    red: false,
                    page: None,
                };
                let safe = if is_unsafe_scheme(&dest_url) {
                    image.problem = Some(format!(
                        "the image `{}` uses a scheme that can run code",
                        visible(&dest_url)
                    ));
                    image.href = "#".to_string();
                    CowStr::from("#")
                } else {
                    let (path, fragment) = match dest_url.split_once('#') {
                        Some((p, f)) => (p, Some(f)),
                        None => (&*dest_url, None),
                    };
                    let is_relative =
                        !path.is_empty() && !path.contains("://") && !path.starts_with("//");
                    match is_relative
                        .then(|| {
                            static_file_href(below_content(path, links).as_deref(), fragment, links)
                        })
                        .flatten()
                    {
                        Some(href) => {
                            image.dest = href.clone();
                            image.href = href.clone();
                            CowStr::from(href)
                        }
                        None => dest_url,
                    }
                };
                out_links.push(image);
                in_image += 1;
                out_events.push(Event::Start(Tag::Image {
                    link_type,
                    dest_url: safe,
                    title,
                    id,
                }));
            }
            Event::Start(Tag::Heading {
                level,
                id,
                classes,
                attrs: _,
            }) => {
                // Only a validated id and class names reach the page; other attributes
                // (`{onclick=...}`) are reported by `heading_attribute_problems` and dropped.
                let classes = classes.into_iter().filter(|c| is_name(c)).collect();
                out_events.push(Event::Start(Tag::Heading {
                    level,
                    id: id.filter(|i| is_name(i)),
                    classes,
                    attrs: Vec::new(),
                }));
            }
            Event::End(TagEnd::Heading(level)) => {
                if let Some(h) = headings.get(heading_idx) {
                    if level >= HeadingLevel::H2 {
                        out_events.push(Event::Html(CowStr::from(format!(
                            " <a class=\"anchor\" href=\"#{}\" aria-label=\"Link to this section\">#</a>",
                            escape_html(&h.id)
                        ))));
                    }
                }
                heading_idx += 1;
                out_events.push(Event::End(TagEnd::Heading(level)));
            }
            other => out_events.push(other),
        }
    }
    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, out_events.into_iter());
    if links.raw_html {
        // Raw HTML from the article passes through a sanitizer before the blocks the build made
        // itself (tables, charts) are put in: no script, event handler or script URL survives.
        html = sanitize(&html);
    }
    let mut html = swap_blocks(html, blocks);
    // A figure that reached an attribute or a block the build made (a table caption) is text.
    if html.contains(FIGURE_OPEN) {
        html = plain_figures(&html, links.figures);
    }
    let all_ids = headings.iter().map(|h| h.id.clone()).collect();
    let toc = headings
        .into_iter()
        .filter(|h| h.level == 2 || h.level == 3)
        .collect();
    Rendered {
        html,
        headings: toc,
        links: out_links,
        all_ids,
    }
}

/// Gives every heading a unique id: its `{#id}` if written, else one made from its text.
fn assign_heading_ids(events: &mut [(Event, std::ops::Range<usize>)]) -> Vec<Heading> {
    let mut used: HashMap<String, usize> = HashMap::new();
    let mut headings = Vec::new();
    let mut i = 0;
    while i < events.len() {
        if let Event::Start(Tag::Heading { level, id, .. }) = &events[i].0 {
            let level = *level as u8;
            let explicit = id.as_ref().map(|s| s.to_string());
            let mut text = String::new();
            let mut j = i + 1;
            while j < events.len() && !matches!(events[j].0, Event::End(TagEnd::Heading(_))) {
                if let Event::Text(t) | Event::Code(t) = &events[j].0 {
                    text.push_str(t);
                }
                j += 1;
            }
            let base = explicit.clone().unwrap_or_else(|| slugify(&text));
            let base = if base.is_empty() {
                "section".to_string()
            } else {
                base
            };
            let n = used.entry(base.clone()).or_insert(0);
            let unique = if *n == 0 || explicit.is_some() {
                base.clone()
            } else {
                format!("{base}-{n}")
            };
            *n += 1;
            if let Event::Start(Tag::Heading { id, .. }) = &mut events[i].0 {
                *id = Some(CowStr::from(unique.clone()));
            }
            headings.push(Heading {
                level,
                id: unique,
                title: text.trim().to_string(),
            });
            i = j;
        }
        i += 1;
    }
    headings
}

/// Cleans an article's HTML when raw HTML is allowed: the elements and attributes Markdown
/// produces and common formatting pass; scripts, styles, event handlers (`onclick=`) and URLs
/// with a scheme other than http(s), mailto and tel (`javascript:`, however it is encoded) are
/// removed.
fn sanitize(html: &str) -> String {
    use std::collections::HashSet;
    let generic: HashSet<&str> = ["id", "class", "title", "lang", "dir", "aria-label", "role"]
        .into_iter()
        .collect();
    let schemes: HashSet<&str> = ["http", "https", "mailto", "tel"].into_iter().collect();
    let mut tags = ammonia::Builder::default().clone_tags();
    tags.extend([
        "input",
        "details",
        "summary",
        "figure",
        "figcaption",
        "section",
    ]);
    let mut tag_attributes = std::collections::HashMap::new();
    tag_attributes.insert(
        "input",
        ["type", "checked", "disabled"].into_iter().collect(),
    );
    tag_attributes.insert("a", ["href"].into_iter().collect());
    tag_attributes.insert(
        "img",
        ["src", "alt", "width", "height"].into_iter().collect(),
    );
    tag_attributes.insert(
        "th",
        ["colspan", "rowspan", "scope", "style"]
            .into_iter()
            .collect(),
    );
    tag_attributes.insert("td", ["colspan", "rowspan", "style"].into_iter().collect());
    tag_attributes.insert("ol", ["start"].into_iter().collect());
    ammonia::Builder::new()
        .tags(tags)
        .generic_attributes(generic)
        .tag_attributes(tag_attributes)
        .url_schemes(schemes)
        .url_relative(ammonia::UrlRelative::PassThrough)
        .link_rel(None)
        .filter_style_properties(["text-align"].into_iter().collect())
        .strip_comments(true)
        .clean(html)
        .to_string()
}

/// Whether a heading id or class name is safe and valid: letters, digits, `-` and `_`.
fn is_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
}

/// A link or image as written in an article's source (before its templates ran).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceLink {
    /// The destination as the renderer sees it (entities decoded).
    pub dest: String,
    /// Byte range of the link in the source.
    pub range: std::ops::Range<usize>,
}

/// What an article's own Markdown says, read once from its source: the links and images with
/// their positions, and the heading attributes that are not allowed. The rendered page's links
/// are matched to these positions, so that every link problem is reported where it is written.
#[derive(Debug, Clone, Default)]
pub struct SourceScan {
    pub links: Vec<SourceLink>,
    /// Byte range and message of each heading attribute that is not an id or a class name.
    pub problems: Vec<(std::ops::Range<usize>, String)>,
}

/// Scans an article's source.
pub fn scan_source(body: &str) -> SourceScan {
    let mut scan = SourceScan::default();
    for (event, range) in Parser::new_ext(body, options()).into_offset_iter() {
        match event {
            Event::Start(Tag::Link { dest_url, .. })
            | Event::Start(Tag::Image { dest_url, .. }) => {
                scan.links.push(SourceLink {
                    dest: dest_url.to_string(),
                    range: destination_range(body, range),
                });
            }
            Event::Start(Tag::Heading {
                id, classes, attrs, ..
            }) => {
                // The attribute block `{...}` ends the heading's first line.
                let line_end = body[range.start..]
                    .find('\n')
                    .map_or(range.end, |i| range.start + i);
                let open = body[range.start..line_end]
                    .rfind('{')
                    .map_or(range.start, |i| range.start + i);
                let at = open..line_end.max(open + 1);
                if let Some(id) = id.filter(|i| !is_name(i)) {
                    scan.problems.push((
                        at.clone(),
                        format!(
                            "the heading id `#{id}` may hold only letters, digits, `-` and `_`"
                        ),
                    ));
                }
                for class in classes.iter().filter(|c| !is_name(c)) {
                    scan.problems.push((
                        at.clone(),
                        format!("the heading class `.{class}` may hold only letters, digits, `-` and `_`"),
                    ));
                }
                for (key, value) in &attrs {
                    let written = match value {
                        Some(v) => format!("{key}={v}"),
                        None => key.to_string(),
                    };
                    scan.problems.push((
                        at.clone(),
                        format!("the heading attribute `{written}` is not allowed: a heading takes only an id and classes, such as `{{#costs .wide}}`"),
                    ));
                }
            }
            _ => {}
        }
    }
    scan
}

/// Where a link's destination is written inside the link: `(dest)` of an inline link, the
/// inside of an autolink `<dest>`; the whole link otherwise (a reference link `[text][ref]`).
fn destination_range(body: &str, link: std::ops::Range<usize>) -> std::ops::Range<usize> {
    let text = &body[link.clone()];
    if let (Some(open), true) = (text.rfind("]("), text.ends_with(')')) {
        let inner = &text[open + 2..text.len() - 1];
        let lead = inner.len() - inner.trim_start().len();
        let inner = inner.trim();
        // `(dest "title")`: the destination ends at the first space outside `<...>`.
        let dest = if let Some(rest) = inner.strip_prefix('<') {
            rest.find('>').map_or(inner, |i| &inner[..i + 2])
        } else {
            inner.split(char::is_whitespace).next().unwrap_or(inner)
        };
        let start = link.start + open + 2 + lead;
        return start..start + dest.len().max(1);
    }
    if text.starts_with('<') && text.ends_with('>') && text.len() > 2 {
        return link.start + 1..link.end - 1;
    }
    link
}

/// Where a figure token starts and ends (see `functions::figure_token`).
const FIGURE_OPEN: char = '\u{E002}';
const FIGURE_CLOSE: char = '\u{E003}';

/// Splits text at figure tokens: `(text before, Some(figure))` pairs, then the rest.
fn split_figures<'t>(
    text: &'t str,
    figures: &[(crate::model::ValueRef, String)],
) -> Vec<(&'t str, Option<usize>)> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find(FIGURE_OPEN) {
        let after = &rest[open + FIGURE_OPEN.len_utf8()..];
        let Some(close) = after.find(FIGURE_CLOSE) else {
            break;
        };
        match after[..close]
            .parse::<usize>()
            .ok()
            .filter(|&i| i < figures.len())
        {
            Some(i) => {
                out.push((&rest[..open], Some(i)));
                rest = &after[close + FIGURE_CLOSE.len_utf8()..];
            }
            None => break,
        }
    }
    out.push((rest, None));
    out
}

/// Text with every figure token replaced by the figure's text.
fn plain_figures(text: &str, figures: &[(crate::model::ValueRef, String)]) -> String {
    let mut out = String::with_capacity(text.len());
    for (before, figure) in split_figures(text, figures) {
        out.push_str(before);
        if let Some(i) = figure {
            out.push_str(&figures[i].1);
        }
    }
    out
}

/// Text with figures: each figure a link to where it comes from (its formula, its source).
fn push_figures<'e>(text: &str, links: &LinkResolver, linkable: bool, out: &mut Vec<Event<'e>>) {
    for (before, figure) in split_figures(text, links.figures) {
        if !before.is_empty() {
            out.push(Event::Text(CowStr::from(before.to_string())));
        }
        let Some(i) = figure else { continue };
        let (at, shown) = &links.figures[i];
        match links.provenance.filter(|_| linkable) {
            Some(p) => {
                let (place, mut account) = p.of(*at);
                // A stale input says so to every reader: in the title, by its underline, and
                // in words for screen readers.
                let (class, hidden) = match p.stale(*at) {
                    Some(note) => {
                        account = format!("{account}; stale: {note}");
                        (
                            "figure stale",
                            "<span class=\"visually-hidden\"> (stale)</span>".to_string(),
                        )
                    }
                    None => ("figure", String::new()),
                };
                let root = root_prefix(links.slug);
                let erratum = p.erratum(*at).map_or(String::new(), |(href, label)| {
                    crate::errata::mark(&root, &href, &label)
                });
                out.push(Event::InlineHtml(CowStr::from(format!(
                    "<a class=\"{class}\" href=\"{root}{}\" title=\"{}\">{}{hidden}</a>{erratum}",
                    escape_html(&place),
                    escape_html(&account),
                    escape_html(shown)
                ))));
            }
            None => out.push(Event::Text(CowStr::from(shown.clone()))),
        }
    }
}

/// A heading id from its text: lowercase words joined by `-`.
pub fn slugify(text: &str) -> String {
    let mut out = String::new();
    let mut dash = false;
    for c in text.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            if dash && !out.is_empty() {
                out.push('-');
            }
            out.push(c);
            dash = false;
        } else {
            dash = true;
        }
    }
    out
}

/// A destination with its invisible characters (a tab from `&#x09;`) shown as escapes.
fn visible(dest: &str) -> String {
    dest.chars()
        .map(|c| {
            if c.is_control() || c.is_whitespace() && c != ' ' {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn is_unsafe_scheme(url: &str) -> bool {
    let lower: String = url
        .trim()
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .collect::<String>()
        .to_ascii_lowercase();
    ["javascript:", "vbscript:", "data:", "file:"]
        .iter()
        .any(|s| lower.starts_with(s))
}

/// Resolves a `[[wiki link]]`: `[[RTX 4090]]` (a title), `[[gpus:rtx-4090]]` (a row),
/// `[[Self-Hosting LLMs vs API#The quality problem]]` (a heading), `[[#Costs]]` (this page).
fn wiki_link(dest: &str, offset: usize, r: &LinkResolver) -> Link {
    let (name, heading) = match dest.split_once('#') {
        Some((n, h)) => (n.trim(), Some(h.trim())),
        None => (dest.trim(), None),
    };
    let mut link = Link {
        dest: dest.to_string(),
        href: String::new(),
        target: None,
        fragment: heading.map(slugify),
        offset,
        problem: None,
        image: false,
        red: false,
        page: None,
    };
    let target = if name.is_empty() {
        Some((r.slug.to_string(), true))
    } else {
        r.wiki.get(name).map(|t| (t.slug, t.article))
    };
    match target {
        Some((slug, article)) => {
            // A row without a page of its own is a line of its dataset's page: `data/x#row-k`.
            let (slug, row_anchor) = match slug.split_once('#') {
                Some((page, anchor)) => (page.to_string(), Some(anchor.to_string())),
                None => (slug, None),
            };
            let fragment = link
                .fragment
                .clone()
                .or(row_anchor)
                .map_or(String::new(), |f| format!("#{f}"));
            link.href = if slug == r.slug && !fragment.is_empty() {
                fragment
            } else {
                relative_url(r.slug, &slug) + &fragment
            };
            link.page = Some(slug.clone());
            if article {
                // Checked like an article link: the heading must exist.
                link.target = Some(slug);
            } else {
                link.fragment = None;
            }
        }
        None => link.red = true,
    }
    link
}

fn rewrite_link(dest: &str, offset: usize, r: &LinkResolver) -> (String, Link) {
    let mut link = Link {
        dest: dest.to_string(),
        href: dest.to_string(),
        target: None,
        fragment: None,
        offset,
        problem: None,
        image: false,
        red: false,
        page: None,
    };
    if is_unsafe_scheme(dest) {
        link.problem = Some(format!(
            "the link `{}` uses a scheme that can run code",
            visible(dest)
        ));
        return ("#".to_string(), link);
    }
    if dest.contains("://") || dest.starts_with("mailto:") || dest.starts_with("tel:") {
        return (dest.to_string(), link);
    }
    let (path, fragment) = match dest.split_once('#') {
        Some((p, f)) => (p, Some(f.to_string())),
        None => (dest, None),
    };
    link.fragment = fragment.clone();
    if path.is_empty() {
        link.target = Some(r.slug.to_string());
        return (dest.to_string(), link);
    }
    let joined = below_content(path, r);
    if !path.ends_with(".md") {
        if let Some(href) = static_file_href(joined.as_deref(), fragment.as_deref(), r) {
            link.dest = href.clone();
            link.href = href.clone();
            return (href, link);
        }
        return (dest.to_string(), link);
    }
    let joined = joined.map(|p| crate::fsutil::nfc(&p));
    if joined.as_ref().is_some_and(|p| r.drafts.contains(p)) {
        link.problem = Some(format!(
            "`{path}` is a draft (`draft: true`), which `build` does not publish: remove the link, or publish the article by removing `draft: true`"
        ));
        return (dest.to_string(), link);
    }
    match joined.and_then(|p| r.slugs_by_path.get(&p).cloned()) {
        Some(slug) => {
            let href =
                relative_url(r.slug, &slug) + &fragment.map_or(String::new(), |f| format!("#{f}"));
            link.page = Some(slug.clone());
            link.target = Some(slug);
            (href, link)
        }
        None => {
            link.problem = Some(format!("`{path}` is not an article of this wiki"));
            (dest.to_string(), link)
        }
    }
}

/// The address of a static file of `content/` from the page: a file next to the article
/// (`![panel](panel.png)`) is published at its path below content/, which the page may not
/// share (`content/solar.md` is published at `solar/`). `joined` is the link's path below
/// content/, as written.
fn static_file_href(
    joined: Option<&str>,
    fragment: Option<&str>,
    r: &LinkResolver,
) -> Option<String> {
    let joined = joined?;
    let decoded =
        crate::fsutil::nfc(&percent_encoding::percent_decode_str(joined).decode_utf8_lossy());
    r.static_files.contains(&decoded).then(|| {
        root_prefix(r.slug) + joined + &fragment.map_or(String::new(), |f| format!("#{f}"))
    })
}

/// The path below content/ of a relative link written in the article at `r.dir`.
fn below_content(path: &str, r: &LinkResolver) -> Option<String> {
    normalize(&if path.starts_with('/') {
        path.trim_start_matches('/').to_string()
    } else if r.dir.is_empty() {
        path.to_string()
    } else {
        format!("{}/{}", r.dir, path)
    })
}

/// Resolves `.` and `..` in a path below `content/`; `None` if it leaves it.
fn normalize(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for p in path.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            other => parts.push(other),
        }
    }
    Some(parts.join("/"))
}

/// The relative URL from the page at `from` (a slug) to the page at `to`.
pub fn relative_url(from: &str, to: &str) -> String {
    let up = root_prefix(from);
    if to.is_empty() {
        if up.is_empty() {
            "./".to_string()
        } else {
            up
        }
    } else {
        format!("{up}{to}/")
    }
}

/// `../` once per folder level of a page: the way from the page back to the site root.
pub fn root_prefix(slug: &str) -> String {
    if slug.is_empty() {
        String::new()
    } else {
        "../".repeat(slug.split('/').count())
    }
}

/// Replaces block placeholders: a paragraph holding only one becomes the block itself.
fn swap_blocks(mut html: String, blocks: &[String]) -> String {
    for (i, block) in blocks.iter().enumerate() {
        let ph = placeholder(i);
        let para = format!("<p>{ph}</p>\n");
        if html.contains(&para) {
            html = html.replacen(&para, &format!("{block}\n"), 1);
        } else {
            html = html.replacen(&ph, block, 1);
        }
    }
    html
}

/// Escapes text for HTML content and attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Escapes data text for Markdown, so that it shows as written: no emphasis from `*`, no links
/// from `[`, no HTML from `<`.
pub fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '#' | '|' | '~' | '!' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}
