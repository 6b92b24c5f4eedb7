//! Stage 6: Markdown rendering, the only user of pulldown-cmark.
//!
//! Input: an article's expanded Markdown and the HTML blocks its functions produced. Output: a
//! [`Rendered`] page body: HTML, its headings (with unique ids, for the table of contents and
//! anchor checks) and its links (rewritten from `other.md#id` to page addresses, kept for the
//! link check). Raw HTML is shown as text unless the wiki allows it, and links with script
//! schemes are refused.

use std::collections::HashMap;

use pulldown_cmark::{CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd};

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
}

/// Renders expanded Markdown to HTML.
pub fn render(markdown: &str, blocks: &[String], links: &LinkResolver) -> Rendered {
    let mut events: Vec<(Event, std::ops::Range<usize>)> = Parser::new_ext(markdown, options())
        .into_offset_iter()
        .collect();
    let headings = assign_heading_ids(&mut events);
    let mut out_links = Vec::new();
    let mut out_events = Vec::with_capacity(events.len());
    let mut heading_idx = 0;
    for (event, range) in events {
        match event {
            Event::Html(h) | Event::InlineHtml(h) if !links.raw_html => {
                out_events.push(Event::Text(h))
            }
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }) => {
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
                let safe = if is_unsafe_scheme(&dest_url) {
                    CowStr::from("#")
                } else {
                    dest_url
                };
                out_events.push(Event::Start(Tag::Image {
                    link_type,
                    dest_url: safe,
                    title,
                    id,
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
    let html = swap_blocks(html, blocks);
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

fn rewrite_link(dest: &str, offset: usize, r: &LinkResolver) -> (String, Link) {
    let mut link = Link {
        dest: dest.to_string(),
        href: dest.to_string(),
        target: None,
        fragment: None,
        offset,
        problem: None,
    };
    if is_unsafe_scheme(dest) {
        link.problem = Some(format!("the link `{dest}` uses a scheme that can run code"));
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
    if !path.ends_with(".md") {
        return (dest.to_string(), link);
    }
    let joined = normalize(&if path.starts_with('/') {
        path.trim_start_matches('/').to_string()
    } else if r.dir.is_empty() {
        path.to_string()
    } else {
        format!("{}/{}", r.dir, path)
    });
    match joined.and_then(|p| r.slugs_by_path.get(&p).cloned()) {
        Some(slug) => {
            let href =
                relative_url(r.slug, &slug) + &fragment.map_or(String::new(), |f| format!("#{f}"));
            link.target = Some(slug);
            (href, link)
        }
        None => {
            link.problem = Some(format!("`{path}` is not an article of this wiki"));
            (dest.to_string(), link)
        }
    }
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
