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
        } else if detail.starts_with("unknown statement end") {
            d = d.help("an `{% if %}`, `{% for %}` or `{% macro %}` opened earlier is not closed: add its `{% endif %}`, `{% endfor %}` or `{% endmacro %}` before this line");
        }
        if text.contains("{#") {
            d = d.help("comments are written `{#! ... !#}`; `{#` is left to Markdown heading ids");
        }
    }
    if err.kind() == minijinja::ErrorKind::UnknownFilter {
        d = d.help("check the spelling; besides the Jinja filters, driftless has `number`, `precision(n)` and `to(\"unit\")` (see the README, \"Articles\")");
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
            let before = &text[..range.start];
            let line = before.matches('\n').count() as u32 + 1;
            let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) as u32 + 1;
            let len = text
                .get(range.clone())
                .map_or(1, |s| s.chars().count().max(1)) as u32;
            return Some(Pos {
                file,
                line,
                col,
                len,
            });
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
