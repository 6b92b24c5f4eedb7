//! The only place minijinja environments are configured, and where its errors become
//! diagnostics.
//!
//! One syntax for editors everywhere: Jinja, with comments written `{#! ... !#}` because `{#`
//! starts Markdown heading ids (`## Title {#id}`). Undefined names are errors (a typo never
//! renders as nothing), and every render has an instruction budget, so a runaway loop in an
//! article fails with a message instead of hanging the build.

use std::collections::BTreeMap;
use std::sync::Arc;

use minijinja::syntax::SyntaxConfig;
use minijinja::{AutoEscape, Environment, UndefinedBehavior};

use crate::diag::{Diagnostic, Diagnostics};
use crate::source::{FileId, Pos, SourceMap};

/// The instruction budget of one render (an article or a page layout).
pub const FUEL: u64 = 50_000_000;

fn syntax() -> SyntaxConfig {
    SyntaxConfig::builder()
        .comment_delimiters("{#!", "!#}")
        .keep_trailing_newline(true)
        .build()
        .expect("the comment delimiters are valid")
}

/// An environment with the house settings. `html` turns on HTML auto-escaping (layouts); article
/// bodies are Markdown and escape data values themselves.
pub fn environment(html: bool) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_syntax(syntax());
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_debug(true);
    env.set_fuel(Some(FUEL));
    if html {
        env.set_auto_escape_callback(|name| {
            if name.ends_with(".html") {
                AutoEscape::Html
            } else {
                AutoEscape::None
            }
        });
    } else {
        env.set_auto_escape_callback(|_| AutoEscape::None);
    }
    env
}

/// Layout templates, read once from `templates/`.
pub struct Layouts {
    pub env: Environment<'static>,
    pub names: Vec<String>,
    /// Each layout's file, read once: errors while rendering a page are reported in it.
    pub files: BTreeMap<String, FileId>,
}

/// Reads every `.html` file under `templates/` (not `templates/assets/`) into an environment,
/// then the built-in layouts the wiki does not override.
pub fn load_layouts(
    dir: &std::path::Path,
    root: &std::path::Path,
    sources: &SourceMap,
) -> Result<Layouts, Diagnostics> {
    let mut env = environment(true);
    let mut diags = Diagnostics::default();
    let files = crate::fsutil::walk(dir, root, &["html"])?;
    // The wiki's own layouts, then the built-in ones it does not override.
    let mut texts: BTreeMap<String, (std::path::PathBuf, std::sync::Arc<str>)> = BTreeMap::new();
    for (abs, rel) in files {
        let name = abs
            .strip_prefix(dir)
            .unwrap_or(&abs)
            .to_string_lossy()
            .replace('\\', "/");
        if name.starts_with("assets/") {
            continue;
        }
        match crate::fsutil::read_text(&abs, &rel) {
            Ok(text) => {
                texts.insert(name, (rel, text));
            }
            Err(d) => diags.extend(d),
        }
    }
    for (name, text) in crate::theme::LAYOUTS {
        texts
            .entry(name.to_string())
            .or_insert_with(|| (crate::theme::layout_path(name), std::sync::Arc::from(*text)));
    }
    let mut by_name: BTreeMap<String, FileId> = BTreeMap::new();
    for (name, (rel, text)) in texts {
        let file = sources.add(&rel, text.clone());
        by_name.insert(name.clone(), file);
        if let Err(e) = env.add_template_owned(name, text.to_string()) {
            diags.push(template_error(&e, file, &text, sources));
        }
    }
    // Templates may only include or extend other templates of templates/ (by name, never by
    // path): the loader is not set, so nothing outside the loaded set can be reached.
    let names = by_name.keys().cloned().collect();
    diags.into_result(Layouts {
        env,
        names,
        files: by_name,
    })
}

/// Turns a minijinja error into a diagnostic in `file`, whose text is `text` (the article body
/// or the template source, with the same line numbers as the file).
pub fn template_error(
    err: &minijinja::Error,
    file: FileId,
    text: &str,
    sources: &SourceMap,
) -> Diagnostic {
    let mut message = match err.kind() {
        minijinja::ErrorKind::SyntaxError => format!(
            "template syntax error: {}",
            err.detail().unwrap_or("invalid syntax")
        ),
        minijinja::ErrorKind::UndefinedError => "undefined value".to_string(),
        minijinja::ErrorKind::UnknownFunction => {
            format!("unknown function: {}", err.detail().unwrap_or(""))
        }
        minijinja::ErrorKind::UnknownFilter => match error_snippet(err, text) {
            Some(name) => format!("unknown filter `{}`", name.trim()),
            None => format!("unknown filter: {}", err.detail().unwrap_or("")),
        },
        minijinja::ErrorKind::TemplateNotFound => {
            format!("template not found: {}", err.detail().unwrap_or(""))
        }
        minijinja::ErrorKind::OutOfFuel => {
            "the template runs too long (an endless or huge loop?)".to_string()
        }
        _ => err.detail().map_or_else(|| err.to_string(), str::to_string),
    };
    if message.trim().is_empty() {
        message = err.to_string();
    }
    let pos = error_pos(err, file, text, sources);
    let mut d = Diagnostic::error(message);
    d = match pos {
        Some(p) => d.at(sources, p),
        None => d.in_file(&sources.get(file).path),
    };
    let detail = err.detail().unwrap_or_default();
    if err.kind() == minijinja::ErrorKind::SyntaxError {
        if detail.contains("end of variable block") {
            d = d.help(
                "close the value with `}}`: `{{ name }}`; text after it goes outside the braces",
            );
        }
        d = explain_blocks(d, detail, file, text, sources);
        if text.contains("{#") {
            d = d.help("comments are written `{#! ... !#}`; `{#` is left to Markdown heading ids");
        }
    }
    if err.kind() == minijinja::ErrorKind::UnknownFilter {
        d = d.help("check the spelling; besides the Jinja filters, driftless has `number`, `precision(n)` and `to(\"unit\")` (see the README, \"Articles\")");
    }
    d
}

/// A syntax error about block structure names the block: where an unclosed block opened, or
/// which block a stray `{% end... %}` meets.
fn explain_blocks(
    mut d: Diagnostic,
    detail: &str,
    file: FileId,
    text: &str,
    sources: &SourceMap,
) -> Diagnostic {
    let shape = block_shape(text);
    let stray_end = detail.starts_with("unknown statement end");
    if let Some((end, open)) = shape.mismatch.filter(|_| stray_end) {
        d = d.at(
            sources,
            Pos::in_text(text, file, end.start..end.start + end.len),
        );
        match open {
            Some(open) => {
                let at = Pos::in_text(text, file, open.start..open.start + open.len);
                d.message = format!(
                    "`{{% {} %}}` does not close the `{{% {} %}}` opened at line {}",
                    end.keyword, open.keyword, at.line
                );
                d = d.label("this end tag").help(format!(
                    "close the `{{% {kw} %}}` of line {line} with `{{% end{kw} %}}` first",
                    kw = open.keyword,
                    line = at.line
                ));
            }
            None => {
                d.message = format!("`{{% {} %}}` closes no open block", end.keyword);
                d = d.label("nothing to close here").help(format!(
                    "remove it, or add the `{{% {} ... %}}` it belongs to above it",
                    end.keyword.trim_start_matches("end")
                ));
            }
        }
    } else if detail.starts_with("unexpected end of input") {
        if let Some(open) = shape.open.last() {
            d = d.at(
                sources,
                Pos::in_text(text, file, open.start..open.start + open.len),
            );
            d.message = format!("`{{% {} %}}` is never closed", open.keyword);
            d = d.label("opened here").help(format!(
                "add `{{% end{} %}}` where the block ends",
                open.keyword
            ));
        }
    }
    d
}

/// The position of a template error, from its byte range or at least its line.
pub fn error_pos(
    err: &minijinja::Error,
    file: FileId,
    text: &str,
    sources: &SourceMap,
) -> Option<Pos> {
    if let Some(range) = err.range() {
        if range.start <= text.len() {
            return Some(Pos::in_text(text, file, range.clone()));
        }
    }
    let line = err.line()? as u32;
    let _ = sources;
    Some(Pos {
        file,
        line,
        col: 1,
        len: 1,
    })
}

/// The source text an error's range covers, if any (an undefined expression, say).
pub fn error_snippet(err: &minijinja::Error, text: &str) -> Option<String> {
    err.range().and_then(|r| text.get(r)).map(str::to_string)
}

/// A value as plain text for templates.
pub fn shared<T: minijinja::value::Object + Send + Sync + 'static>(
    obj: Arc<T>,
) -> minijinja::Value {
    minijinja::Value::from_dyn_object(obj)
}

/// A block tag of a template (`{% if %}`, `{% for %}`, ...), by byte range in its text.
#[derive(Debug, Clone, PartialEq)]
pub struct BlockTag {
    pub keyword: String,
    pub start: usize,
    pub len: usize,
}

/// What the block structure of a template shows, read without minijinja (which only says that
/// a block did not end, not where it began).
#[derive(Debug, Default, PartialEq)]
pub struct BlockShape {
    /// The blocks still open at the end of the text, outermost first.
    pub open: Vec<BlockTag>,
    /// The first closing tag that does not close the block open before it, with that block.
    pub mismatch: Option<(BlockTag, Option<BlockTag>)>,
}

const BLOCK_KEYWORDS: &[&str] = &[
    "if",
    "for",
    "macro",
    "call",
    "filter",
    "with",
    "block",
    "autoescape",
];

/// A tag of a template: `{{ ... }}` (a value) or `{% ... %}` (a statement), with the byte range
/// of the whole tag and of its inside (without `-`/`+` whitespace markers).
#[derive(Debug, Clone, PartialEq)]
pub struct Tag {
    pub statement: bool,
    pub start: usize,
    pub end: usize,
    pub inner: std::ops::Range<usize>,
}

/// The tags of a template, in order, skipping `{#! ... !#}` comments and the inside of raw
/// blocks; an unclosed tag ends the list.
pub fn tags(text: &str) -> Vec<Tag> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(open) = text[at..].find(['{']).map(|i| at + i) {
        let rest = &text[open..];
        let (close_with, statement) = if rest.starts_with("{#!") {
            match rest.find("!#}") {
                Some(e) => {
                    at = open + e + 3;
                    continue;
                }
                None => break,
            }
        } else if rest.starts_with("{{") {
            ("}}", false)
        } else if rest.starts_with("{%") {
            ("%}", true)
        } else {
            at = open + 1;
            continue;
        };
        let Some(close) = rest[2..].find(close_with).map(|i| open + 2 + i) else {
            break;
        };
        let raw = &text[open + 2..close];
        let lead = raw.len() - raw.trim_start_matches(['-', '+']).len();
        let trail = raw.len() - raw.trim_end_matches(['-', '+']).len();
        let tag = Tag {
            statement,
            start: open,
            end: close + 2,
            inner: open + 2 + lead..close - trail,
        };
        at = tag.end;
        let is_raw = statement && text[tag.inner.clone()].split_whitespace().next() == Some("raw");
        out.push(tag);
        if is_raw {
            match text[at..].find("endraw") {
                // Back to the `{%` of the end tag.
                Some(e) => at = text[..at + e].rfind("{%").unwrap_or(at + e),
                None => break,
            }
        }
    }
    out
}

/// Reads the `{% ... %}` tags of `text` (skipping `{#! ... !#}` comments and raw blocks) and
/// pairs each opening tag with its `end...` tag.
pub fn block_shape(text: &str) -> BlockShape {
    let mut shape = BlockShape::default();
    for t in tags(text).into_iter().filter(|t| t.statement) {
        let inner = &text[t.inner.clone()];
        let keyword = inner.split_whitespace().next().unwrap_or("");
        let tag = BlockTag {
            keyword: keyword.to_string(),
            start: t.start,
            len: t.end - t.start,
        };
        let opens = BLOCK_KEYWORDS.contains(&keyword)
            || keyword == "raw"
            || (keyword == "set" && !inner.contains('='));
        if opens {
            shape.open.push(tag);
        } else if let Some(closed) = keyword.strip_prefix("end") {
            if shape.open.last().is_some_and(|o| o.keyword == closed) {
                shape.open.pop();
            } else if BLOCK_KEYWORDS.contains(&closed) || closed == "set" || closed == "raw" {
                shape.mismatch = Some((tag, shape.open.last().cloned()));
                return shape;
            }
        }
    }
    shape
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_shape_finds_the_unclosed_opener() {
        let text = "{% for g in gpus %}\n{% if g.x %}a{% endif %}\n{%- if y -%}\nb\n{% endfor %}";
        let shape = block_shape(text);
        let (end, open) = shape.mismatch.unwrap();
        assert_eq!(end.keyword, "endfor");
        assert_eq!(open.unwrap().start, text.find("{%- if y").unwrap());

        let text =
            "{#! {% if %} !#}{% set x %}v{% endset %}{% raw %}{% if %}{% endraw %}{% if a %}";
        let shape = block_shape(text);
        assert_eq!(shape.mismatch, None);
        assert_eq!(shape.open.len(), 1);
        assert_eq!(shape.open[0].start, text.rfind("{% if a").unwrap());

        assert_eq!(
            block_shape("{% set x = 1 %}{% if a %}{% else %}{% endif %}"),
            BlockShape::default()
        );
    }
}
