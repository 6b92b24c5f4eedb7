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
    errata_page: &Option<Arc<str>>,
    sources: &SourceMap,
) -> Result<Expanded, Diagnostics> {
    let name = article.path.to_string_lossy().to_string();
    let render = |text: &str| {
        let scope = Arc::new(PageScope {
            model: model.clone(),
            recording: Mutex::new(Recording::default()),
            errata: errata.clone(),
            errata_page: errata_page.clone(),
            root: crate::markdown::root_prefix(&article.slug),
        });
        let out = env
            .template_from_named_str(&name, text)
            .and_then(|t| t.render(minijinja::Value::from_dyn_object(scope.clone())));
        (out, scope)
    };
    // minijinja stops at the first error; to report every failing value of the article in one
    // build, the failed `{{ ... }}` is blanked out (keeping every byte offset) and the article
    // rendered again, up to a limit.
    let mut text = std::borrow::Cow::Borrowed(&*article.body);
    let mut failed = literal_comparisons(article, model, sources);
    let (markdown, scope) = loop {
        match render(&text) {
            (Ok(md), scope) if !failed.has_errors() => break (md, scope),
            (Ok(_), _) => return Err(failed),
            (Err(e), scope) => {
                let missed = scope
                    .recording
                    .lock()
                    .ok()
                    .and_then(|r| r.missed_column.clone());
                failed.push(diagnose(&e, article, model, missed, sources));
                let blanked = blank_failed_value(&text, &e);
                match blanked {
                    Some(t) if failed.len() < MAX_TEMPLATE_ERRORS && t != *text => text = t.into(),
                    _ => return Err(failed),
                }
            }
        }
    };
    let recording = std::mem::take(&mut *scope.recording.lock().unwrap_or_else(|e| e.into_inner()));
    let mut diags = Diagnostics::default();
    for claim in recording.claims.iter().filter(|c| !c.holds) {
        let pos = locate_claim(article, &claim.formula);
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

/// A figure compared with a written number or text (`{% if gpus["rtx-4090"].tok_s > 100 %}`)
/// would compare a value with a unit against a plain one, which a template cannot do right:
/// such a comparison is an error that says to compare `.value`. Comparisons between two figures
/// compare the quantities and need nothing.
fn literal_comparisons(article: &Article, model: &Model, sources: &SourceMap) -> Diagnostics {
    use crate::formula::parse::{parse, BinOp, Expr, ExprKind};
    let body: &str = &article.body;
    let tags = crate::jinja::tags(body);
    let is_global =
        |n: &str| model.data.by_name.contains_key(n) || model.data.global_by_name.contains_key(n);
    let leading_name = |s: &str| -> String {
        s.trim()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    // Loop variables over a dataset (`{% for g in gpus|sort(...) %}`) are rows too.
    let mut rows: Vec<String> = Vec::new();
    // (offset of the expression in the body, its text)
    let mut exprs: Vec<(usize, &str)> = Vec::new();
    for t in &tags {
        let inner = &body[t.inner.clone()];
        let lead = inner.len() - inner.trim_start().len();
        let start = t.inner.start + lead;
        let inner = inner.trim();
        if !t.statement {
            exprs.push((start, inner));
            continue;
        }
        let (keyword, rest) = inner.split_once(char::is_whitespace).unwrap_or((inner, ""));
        let rest_at = start + inner.len() - rest.len();
        match keyword {
            "if" | "elif" => exprs.push((rest_at, rest)),
            "for" => {
                let Some((var, source)) = rest.split_once(" in ") else {
                    continue;
                };
                if is_global(&leading_name(source)) {
                    rows.push(var.trim().to_string());
                }
                if let Some(i) = source.find(" if ") {
                    let cond_at = rest_at + var.len() + 4 + i + 4;
                    exprs.push((cond_at, &source[i + 4..]));
                }
            }
            _ => {}
        }
    }
    let is_figure = |e: &Expr| {
        let mut e = e;
        let mut last: Option<&str> = None;
        loop {
            match &e.kind {
                ExprKind::Attr(inner, name) => {
                    last.get_or_insert(name);
                    e = inner;
                }
                ExprKind::Index(inner, _) => e = inner,
                ExprKind::Name(n) => {
                    let plain = matches!(
                        last,
                        Some(
                            "value"
                                | "key"
                                | "label"
                                | "present"
                                | "unit"
                                | "title"
                                | "description"
                        )
                    );
                    return !plain && (is_global(n) || rows.iter().any(|r| r == n));
                }
                _ => return false,
            }
        }
    };
    let is_literal = |e: &Expr| {
        matches!(
            e.kind,
            ExprKind::Num(_) | ExprKind::Str(_) | ExprKind::Bool(_)
        ) || matches!(&e.kind, ExprKind::Unary(_, inner) if matches!(inner.kind, ExprKind::Num(_)))
    };
    let mut diags = Diagnostics::default();
    let mut stack: Vec<(usize, Expr)> = exprs
        .into_iter()
        .filter_map(|(at, text)| parse(text).ok().map(|e| (at, e)))
        .collect();
    while let Some((at, e)) = stack.pop() {
        match e.kind {
            ExprKind::Binary(op, l, r) => {
                let compares = matches!(
                    op,
                    BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge
                );
                let figure = [&*l, &*r]
                    .into_iter()
                    .find(|side| is_figure(side))
                    .filter(|_| is_literal(&l) || is_literal(&r));
                if let Some(fig) = figure.filter(|_| compares) {
                    let whole = &body[at + e.span.start..at + e.span.end];
                    let path = &body[at + fig.span.start..at + fig.span.end];
                    let fixed = whole.replacen(path, &format!("{path}.value"), 1);
                    diags.push(
                        Diagnostic::error(format!(
                            "`{whole}` compares a figure with a written value"
                        ))
                        .at(
                            sources,
                            article.body_pos(at + e.span.start..at + e.span.end),
                        )
                        .label(
                            "a figure has a unit and a display, it is not a plain number or text",
                        )
                        .help(
                            if [&*l, &*r]
                                .iter()
                                .any(|e| matches!(e.kind, ExprKind::Str(_)))
                            {
                                format!("compare its text: `{fixed}`")
                            } else {
                                format!("compare its number, in the unit it is shown in: `{fixed}`")
                            },
                        ),
                    );
                } else {
                    stack.push((at, *l));
                    stack.push((at, *r));
                }
            }
            ExprKind::Unary(_, inner) => stack.push((at, *inner)),
            ExprKind::Cond {
                then,
                cond,
                otherwise,
            } => {
                stack.push((at, *then));
                stack.push((at, *cond));
                stack.push((at, *otherwise));
            }
            ExprKind::Call { args, kwargs, .. } => {
                stack.extend(args.into_iter().map(|a| (at, a)));
                stack.extend(kwargs.into_iter().map(|(_, a)| (at, a)));
            }
            _ => {}
        }
    }
    diags.sort();
    diags
}

/// How many failing values of one article are reported before the rest are left for the next build.
const MAX_TEMPLATE_ERRORS: usize = 20;

/// `text` with the `{{ ... }}` tag that `err` happened in made harmless (its expression
/// replaced by an empty string of the same length), or `None` if the error is not inside one
/// (a syntax error, or an error in a `{% ... %}` statement whose removal would change what
/// follows).
fn blank_failed_value(text: &str, err: &minijinja::Error) -> Option<String> {
    if err.kind() == minijinja::ErrorKind::SyntaxError {
        return None;
    }
    let range = err.range()?;
    let open = text.get(..range.start)?.rfind("{{")?;
    let close = range.end + text.get(range.end..)?.find("}}")?;
    let inside = &text[open + 2..close];
    // Not inside a value tag if a tag closed or a statement began between `{{` and the error.
    if text[open + 2..range.start].contains("}}") || inside.contains("{%") {
        return None;
    }
    let lead = usize::from(inside.starts_with(['-', '+']));
    let trail = usize::from(inside.ends_with('-'));
    let (a, b) = (open + 2 + lead, close - trail);
    if b - a < 2 {
        return None;
    }
    // One byte for each byte, line breaks kept: later errors keep their offsets in the body.
    let mut out = text.as_bytes().to_vec();
    for (i, byte) in out[a..b].iter_mut().enumerate() {
        *byte = match (i, *byte) {
            (0 | 1, _) => b'"',
            (_, b'\n') => b'\n',
            _ => b' ',
        };
    }
    String::from_utf8(out).ok()
}

/// The position of the first `needle` in an article's body (for an external link, found by
/// `check` after the build).
pub fn locate(body: &str, needle: &str, article: &Article, sources: &SourceMap) -> Pos {
    let offset = body.find(needle).unwrap_or(0);
    let _ = sources;
    article.body_pos(offset..offset + needle.len())
}

/// Where the claim with formula `formula` is written: the first string of a `claim(...)` tag
/// whose text, once its escapes (`\"`) are read, is the formula.
fn locate_claim(article: &Article, formula: &str) -> Pos {
    let body: &str = &article.body;
    for tag in crate::jinja::tags(body) {
        let inner = &body[tag.inner.clone()];
        let Some(call) = inner.find("claim(") else {
            continue;
        };
        let after = tag.inner.start + call + "claim(".len();
        let rest = &body[after..tag.inner.end];
        let lead = rest.len() - rest.trim_start().len();
        if let Some((text, len)) = string_literal(&rest[lead..]) {
            if text == formula {
                // The formula starts after the opening quote.
                let start = after + lead + 1;
                return article.body_pos(start..start + len.saturating_sub(2));
            }
        }
    }
    Pos::file_start(article.file, 1)
}

/// A string literal at the start of `text` (`"..."` or `'...'`, with backslash escapes): its
/// value and its length in bytes, quotes included.
fn string_literal(text: &str) -> Option<(String, usize)> {
    let quote = text.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let mut value = String::new();
    let mut chars = text.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => {
                let (_, e) = chars.next()?;
                value.push(match e {
                    'n' => '\n',
                    't' => '\t',
                    other => other,
                });
            }
            c if c == quote => return Some((value, i + 1)),
            c => value.push(c),
        }
    }
    None
}

/// Turns a template error into a diagnostic; undefined names get the formula checker's
/// explanation ("`rtx-4099` is not a row of dataset `gpus`; did you mean `rtx-4090`?").
fn diagnose(
    err: &minijinja::Error,
    article: &Article,
    model: &Model,
    missed: Option<(usize, String)>,
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
            let mut snippet = &body[start..range.end];
            let mut start = start;
            // `{% if name > 3 %}`: the range covers the condition; take its first value.
            for keyword in ["if ", "elif "] {
                if let Some(rest) = snippet.strip_prefix(keyword) {
                    start += keyword.len();
                    snippet = rest.split_whitespace().next().unwrap_or(rest);
                }
            }
            let head = snippet.split('|').next().unwrap_or(snippet);
            let expr = head.trim();
            let expr_start = start + (head.len() - head.trim_start().len());
            d.message = format!("undefined value `{expr}`");
            d = d.at(
                sources,
                article.body_pos(expr_start..expr_start + expr.len()),
            );
            let head = expr.split(['.', '[']).next().unwrap_or("").trim();
            let is_global = model.data.by_name.contains_key(head)
                || model.data.global_by_name.contains_key(head);
            let attr = expr.rsplit('.').next().unwrap_or("").trim();
            if let Some((ds, _)) = missed.filter(|(_, name)| !is_global && name == attr) {
                // A row reached through a loop variable (`{% for g in gpus %}{{ g.powr }}`).
                let set = &model.data.datasets[ds];
                let at = expr.len() - attr.len();
                d.message = format!("`{attr}` is not a column of dataset `{}`", set.name);
                d = d
                    .at(
                        sources,
                        article.body_pos(expr_start + at..expr_start + expr.len()),
                    )
                    .label("unknown column")
                    .help(crate::diag::did_you_mean(
                        attr,
                        "column",
                        set.columns.iter().map(|c| c.field.name.as_str()),
                    ));
            } else if let Ok(parsed) = crate::formula::parse::parse(expr) {
                match crate::formula::compile::compile(&parsed, &model.data, None) {
                    Err(e) => {
                        d.message = e.message;
                        d.label = e.label;
                        d.help.extend(e.help);
                        // Point at the part of the expression that is wrong.
                        let (a, b) = (e.span.start.min(expr.len()), e.span.end.min(expr.len()));
                        if a < b {
                            d = d.at(sources, article.body_pos(expr_start + a..expr_start + b));
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
    let detail = err.detail().unwrap_or_default();
    if err.kind() == minijinja::ErrorKind::InvalidOperation
        && detail.starts_with("tried to use")
        && detail.contains("plain object")
    {
        // `{{ price * 10 }}`: arithmetic on a figure (a value with a unit) in the prose.
        let expr = crate::jinja::error_snippet(err, &article.body).unwrap_or_default();
        d.message = format!("an article cannot compute with a figure: `{}`", expr.trim());
        d = d.label("arithmetic on a value with a unit").help(format!(
            "declare the result in the data, where its unit is checked: a named figure under \
             `figures:` in a YAML file of data/ (`formula: {}`, with its `unit`), or a derived \
             column of the dataset; then write that name here",
            expr.trim()
        ));
    }
    if detail.starts_with("can only sum numbers") {
        d = d.help(
            "a figure has a unit: sum the numbers with `|map(attribute=\"value\")|sum`, or \
             declare the total as a named figure (`formula: sum(dataset.column)`) so it keeps its unit",
        );
    }
    if let Some(loc) = &mut d.location {
        loc.file = crate::diag::display_path(&article.path);
    }
    d
}
