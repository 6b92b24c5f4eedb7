//! Stage 5: content expansion.
//!
//! Input: an [`Article`] and the [`Model`]. Output: an [`Expanded`] article: its Markdown with
//! every `{{ }}` evaluated, the values and datasets it showed, its claims, and the HTML blocks
//! its functions produced. Articles expand in parallel, each with its own recording.

use std::sync::{Arc, Mutex};

use minijinja::Environment;

use crate::content::Article;
use crate::diag::{Diagnostic, Diagnostics};
use crate::errata::Erratum;
use crate::functions::{PageScope, Recording};
use crate::model::Model;
use crate::source::{Pos, SourceMap};

/// An article after its templates ran.
#[derive(Debug)]
pub struct Expanded {
    pub markdown: String,
    pub recording: Recording,
}

/// The environment articles are rendered in.
pub fn article_environment() -> Environment<'static> {
    let mut env = crate::jinja::environment(false);
    crate::functions::register(&mut env);
    env
}

/// Expands one article.
pub fn expand_article(
    article: &Article,
    env: &Environment<'static>,
    model: &Arc<Model>,
    errata: &Arc<Vec<Erratum>>,
    sources: &SourceMap,
) -> Result<Expanded, Diagnostics> {
    let scope = Arc::new(PageScope {
        model: model.clone(),
        recording: Mutex::new(Recording::default()),
        errata: errata.clone(),
        root: crate::markdown::root_prefix(&article.slug),
    });
    let name = article.path.to_string_lossy().to_string();
    let body: &str = &article.body;
    let rendered = env
        .template_from_named_str(&name, body)
        .and_then(|t| t.render(minijinja::Value::from_dyn_object(scope.clone())));
    let markdown = match rendered {
        Ok(md) => md,
        Err(e) => return Err(diagnose(&e, article, model, sources).into()),
    };
    let recording = std::mem::take(&mut *scope.recording.lock().unwrap_or_else(|e| e.into_inner()));
    let mut diags = Diagnostics::default();
    for claim in recording.claims.iter().filter(|c| !c.holds) {
        let pos = locate(&article.body, &claim.formula, article, sources);
        let what = if claim.message.is_empty() {
            claim.formula.clone()
        } else {
            claim.message.clone()
        };
        let mut d = Diagnostic::error(format!("claim no longer holds: {what}"))
            .at(sources, pos)
            .label("false with the current data")
            .note(format!("claim: {}", claim.formula));
        for b in &claim.breaking {
            d = d.note(format!("breaks it: {b}"));
        }
        d = d.help(
            "the data changed: update the prose that relies on this claim, and the claim with it",
        );
        diags.push(d);
    }
    diags.into_result(Expanded {
        markdown,
        recording,
    })
}

/// The position of `needle` in an article's body (for claims, found after rendering).
pub fn locate(body: &str, needle: &str, article: &Article, sources: &SourceMap) -> Pos {
    let offset = body.find(needle).unwrap_or(0);
    let before = &body[..offset];
    let line = before.matches('\n').count() as u32 + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) as u32 + 1;
    let _ = sources;
    Pos {
        file: article.file,
        line,
        col,
        len: needle.chars().count().max(1) as u32,
    }
}

/// The position of a byte range of an article's body (which keeps the file's line numbers).
fn body_pos(body: &str, offset: usize, len: usize, article: &Article) -> Pos {
    let before = &body[..offset];
    Pos {
        file: article.file,
        line: before.matches('\n').count() as u32 + 1,
        col: before.rsplit('\n').next().map_or(0, |l| l.chars().count()) as u32 + 1,
        len: body
            .get(offset..offset + len)
            .map_or(1, |s| s.chars().count().max(1)) as u32,
    }
}

/// Turns a template error into a diagnostic; undefined names get the formula checker's
/// explanation ("`rtx-4099` is not a row of dataset `gpus`; did you mean `rtx-4090`?").
fn diagnose(
    err: &minijinja::Error,
    article: &Article,
    model: &Model,
    sources: &SourceMap,
) -> Diagnostic {
    let mut d = crate::jinja::template_error(err, article.file, &article.body, sources);
    if err.kind() == minijinja::ErrorKind::UndefinedError {
        if let Some(range) = err
            .range()
            .filter(|r| article.body.get(r.clone()).is_some())
        {
            let body: &str = &article.body;
            // minijinja's range of `gpus["x"].y` can start at the `[`: take the name in front.
            let start = body[..range.start]
                .trim_end_matches(|c: char| c.is_alphanumeric() || c == '_' || c == '.')
                .len();
            let snippet = &body[start..range.end];
            let head = snippet.split('|').next().unwrap_or(snippet);
            let expr = head.trim();
            let expr_start = start + (head.len() - head.trim_start().len());
            d.message = format!("undefined value `{expr}`");
            d = d.at(sources, body_pos(body, expr_start, expr.len(), article));
            if let Ok(parsed) = crate::formula::parse::parse(expr) {
                match crate::formula::compile::compile(&parsed, &model.data, None) {
                    Err(e) => {
                        d.message = e.message;
                        d.label = e.label;
                        d.help.extend(e.help);
                        // Point at the part of the expression that is wrong.
                        let (a, b) = (e.span.start.min(expr.len()), e.span.end.min(expr.len()));
                        if a < b {
                            d = d.at(sources, body_pos(body, expr_start + a, b - a, article));
                        }
                    }
                    Ok(_) => {
                        d = d.help(
                            "the value exists in the data: is an attribute after it misspelt?",
                        )
                    }
                }
            }
        }
    }
    if let Some(loc) = &mut d.location {
        loc.file = crate::diag::display_path(&article.path);
    }
    d
}
