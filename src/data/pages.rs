//! A dataset's `pages:` setting: its rows get pages of their own (entity pages).
//!
//! ```yaml
//! pages: true                 # at <dataset>/<key>/, titled by the label column
//! pages:
//!   path: "gpus/{key}"        # the address pattern; {key} is the row's key as an address
//!   title: name               # the column that titles each page (default: the label, or the key)
//!   layout: entity.html       # the layout in templates/ (default: the built-in entity.html)
//! ```

use std::collections::HashMap;

use super::schema::Entries;
use super::Pages;
use crate::diag::{did_you_mean, Diagnostic, Diagnostics};
use crate::source::SourceMap;
use crate::yaml::{Kind, Node};

const PAGES_KEYS: &[&str] = &["path", "title", "layout"];

/// Reads `pages:`; `None` when the dataset has none (or `pages: false`).
pub(super) fn load(
    node: &Node,
    dataset: &str,
    label: Option<usize>,
    columns: &HashMap<String, usize>,
    sources: &SourceMap,
    diags: &mut Diagnostics,
) -> Option<Pages> {
    let mut pages = Pages {
        path: format!("{dataset}/{{key}}"),
        title: label,
        layout: "entity.html".to_string(),
        pos: node.pos,
    };
    match &node.kind {
        Kind::Bool(true) => return Some(pages),
        Kind::Bool(false) | Kind::Null => return None,
        Kind::Map(_) => {}
        _ => {
            diags.push(
                Diagnostic::error(format!(
                    "`pages:` must be `true` or settings, not {}",
                    node.type_name()
                ))
                .at(sources, node.pos)
                .help("write `pages: true`, or `pages: { path: \"gpus/{key}\", title: name }`"),
            );
            return None;
        }
    }
    let e = Entries::new(
        node.as_map().unwrap_or_default(),
        PAGES_KEYS,
        "`pages:`",
        sources,
        diags,
    );
    let at = |key: &str| e.get(key).map_or(node.pos, |n| n.pos);
    if let Some(text) = e.text("path", sources, diags) {
        match path_problem(&text) {
            Some(problem) => diags.push(
                Diagnostic::error(format!("`path: {text}` {problem}"))
                    .at(sources, at("path"))
                    .help(format!("write an address below the site with `{{key}}` in it, such as `{dataset}/{{key}}`")),
            ),
            None => pages.path = text.trim_matches('/').to_string(),
        }
    }
    if let Some(text) = e.text("title", sources, diags) {
        match columns.get(&text) {
            Some(&c) => pages.title = Some(c),
            None => diags.push(
                Diagnostic::error(format!("`title: {text}` is not a column of `{dataset}`"))
                    .at(sources, at("title"))
                    .help(did_you_mean(
                        &text,
                        "column",
                        columns.keys().map(String::as_str),
                    )),
            ),
        }
    }
    if let Some(text) = e.text("layout", sources, diags) {
        if !text.ends_with(".html") || !crate::fsutil::is_contained(&text) {
            diags.push(
                Diagnostic::error(format!("`layout: {text}` is not a layout of templates/"))
                    .at(sources, at("layout"))
                    .help("name a file of templates/, such as `entity.html`"),
            );
        } else {
            pages.layout = text;
        }
    }
    Some(pages)
}

/// What is wrong with an address pattern, if anything.
fn path_problem(path: &str) -> Option<&'static str> {
    let trimmed = path.trim_matches('/');
    if trimmed.matches("{key}").count() != 1 {
        return Some("must hold `{key}` once");
    }
    let first = trimmed.split('/').next().unwrap_or("");
    if first == "data" || first == "assets" {
        return Some("is in a folder the build publishes itself (`data/` or `assets/`)");
    }
    let ok = trimmed.split('/').all(|seg| {
        !seg.is_empty()
            && seg != "."
            && seg != ".."
            && seg
                .replace("{key}", "k")
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    });
    (!ok).then_some("may hold only letters, digits, `-`, `_` and `/` besides `{key}`")
}

#[cfg(test)]
mod tests {
    #[test]
    fn address_patterns() {
        assert_eq!(super::path_problem("gpus/{key}"), None);
        assert_eq!(super::path_problem("/hardware/gpu-{key}/"), None);
        assert!(super::path_problem("gpus").is_some());
        assert!(super::path_problem("data/{key}").is_some());
        assert!(super::path_problem("../{key}").is_some());
        assert!(super::path_problem("a b/{key}").is_some());
    }
}
