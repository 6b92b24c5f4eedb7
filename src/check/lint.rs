//! The drift lint: a number typed in prose that equals a derived value at its display precision
//! is probably a copy that will drift when the data changes. It is reported with the expression
//! that shows the value instead. Numbers inside `{{ }}`, `{% %}`, code and link targets are not
//! prose; a number that equals an input value is taken to be that input.

use std::collections::{HashMap, HashSet};

use crate::diag::{Diagnostic, Diagnostics};
use crate::model::{Model, ValueRef};
use crate::pipeline::Build;
use crate::source::{Pos, SourceMap};

/// Finds hand-typed copies of derived figures in every article.
pub fn drift(build: &Build, min_digits: usize, sources: &SourceMap) -> Diagnostics {
    let model = &build.model;
    let (derived, inputs) = number_index(model, min_digits);
    let mut diags = Diagnostics::default();
    for article in &build.articles {
        for (offset, literal) in prose_numbers(&article.body) {
            let key = literal.replace(',', "");
            if significant_digits(&key) < min_digits.max(2) || inputs.contains(&key) {
                continue;
            }
            // Short whole numbers (counts, years, model sizes) collide by chance.
            if !key.contains('.') && key.len() < 3 {
                continue;
            }
            let Some(refs) = derived.get(&key) else {
                continue;
            };
            let pos = pos_of(&article.body, offset, literal.chars().count(), article.file);
            let first = refs[0];
            let mut d = Diagnostic::error(format!(
                "`{literal}` looks like a hand-typed copy of a derived value"
            ))
            .at(sources, pos)
            .label(format!("equals `{}`", model.name_of(first)))
            .help(format!(
                "write {} so that it follows the data",
                model.expression_of(first)
            ));
            if refs.len() > 1 {
                d = d.note(format!("{} derived values show as {literal}", refs.len()));
            }
            d = d.note("a number that is a fact of its own can be written `{{ \"N\" }}` to mark it as intended");
            diags.push(d);
        }
    }
    diags
}

/// Derived values by their shown number, and the shown numbers of input values.
fn number_index(
    model: &Model,
    min_digits: usize,
) -> (HashMap<String, Vec<ValueRef>>, HashSet<String>) {
    let mut derived: HashMap<String, Vec<ValueRef>> = HashMap::new();
    let mut inputs = HashSet::new();
    let mut add = |r: ValueRef, is_derived: bool| {
        let (field, value) = model.get(r);
        if value.number().is_none() {
            return;
        }
        let shown = model
            .display_number(field, value, None, None)
            .replace(',', "");
        if significant_digits(&shown) < min_digits {
            return;
        }
        if is_derived {
            derived.entry(shown).or_default().push(r);
        } else {
            inputs.insert(shown);
        }
    };
    for (g, gl) in model.data.globals.iter().enumerate() {
        add(ValueRef::Global(g), gl.field.is_derived());
    }
    for (ds, d) in model.data.datasets.iter().enumerate() {
        for (col, c) in d.columns.iter().enumerate() {
            for row in 0..d.len() {
                add(ValueRef::Cell { ds, row, col }, c.field.is_derived());
            }
        }
    }
    (derived, inputs)
}

fn significant_digits(number: &str) -> usize {
    number
        .trim_start_matches(['-', '0', '.'])
        .chars()
        .filter(char::is_ascii_digit)
        .count()
}

/// Numbers in the prose of an article body, with their byte offsets.
pub fn prose_numbers(body: &str) -> Vec<(usize, String)> {
    let mask = prose_mask(body);
    let bytes = body.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let starts = bytes[i].is_ascii_digit()
            && mask[i]
            && (i == 0
                || !(bytes[i - 1].is_ascii_alphanumeric()
                    || bytes[i - 1] == b'.'
                    || bytes[i - 1] == b'_'));
        if !starts {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len()
            && mask[i]
            && (bytes[i].is_ascii_digit()
                || ((bytes[i] == b',' || bytes[i] == b'.')
                    && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)))
        {
            i += 1;
        }
        if follows_a_name(&body[..start]) {
            continue;
        }
        // `4090` in `RTX4090`, `v6`: a number glued to letters is a name, not a figure.
        if i < bytes.len()
            && (bytes[i].is_ascii_alphabetic()
                && !matches!(bytes[i], b'x' | b'K' | b'M' | b'B' | b'G'))
        {
            continue;
        }
        out.push((start, body[start..i].to_string()));
    }
    out
}

/// Whether the text before a number ends with a capitalized word, as in `Opus 4.6` or
/// `RTX 4090` (a name), or with `-` as in `GPT-4.1`. Currency codes do not count: `EUR 0.13`
/// is a figure.
fn follows_a_name(before: &str) -> bool {
    if before.ends_with('-') {
        return true;
    }
    let Some(word) = before
        .strip_suffix(' ')
        .and_then(|b| b.rsplit([' ', '\n', '(']).next())
    else {
        return false;
    };
    let word = word.trim_end_matches([',', ';', ':']);
    let capitalized = word.chars().next().is_some_and(char::is_uppercase)
        && word.chars().all(char::is_alphanumeric);
    capitalized && !matches!(word, "EUR" | "USD" | "GBP" | "CHF" | "JPY" | "CNY")
}

/// Marks the bytes of a body that are prose: not template code, code spans, fenced code or
/// link targets.
fn prose_mask(body: &str) -> Vec<bool> {
    let bytes = body.as_bytes();
    let mut mask = vec![true; bytes.len()];
    let blank = |from: usize, to: usize, mask: &mut Vec<bool>| {
        for m in mask.iter_mut().take(to.min(bytes.len())).skip(from) {
            *m = false;
        }
    };
    for (open, close) in [
        ("{{", "}}"),
        ("{%", "%}"),
        ("{#!", "!#}"),
        ("](", ")"),
        ("<", ">"),
    ] {
        let mut from = 0;
        while let Some(s) = body[from..].find(open) {
            let s = from + s;
            let e = body[s + open.len()..]
                .find(close)
                .map_or(body.len(), |e| s + open.len() + e + close.len());
            blank(s, e, &mut mask);
            from = e.max(s + 1);
            if from >= body.len() {
                break;
            }
        }
    }
    let mut in_fence = false;
    let mut offset = 0;
    for line in body.split_inclusive('\n') {
        let t = line.trim_start();
        if t.starts_with("```") || t.starts_with("~~~") {
            in_fence = !in_fence;
            blank(offset, offset + line.len(), &mut mask);
        } else if in_fence {
            blank(offset, offset + line.len(), &mut mask);
        }
        offset += line.len();
    }
    let mut from = 0;
    while let Some(s) = body[from..].find('`') {
        let s = from + s;
        let Some(e) = body[s + 1..].find('`') else {
            break;
        };
        blank(s, s + 1 + e + 1, &mut mask);
        from = s + e + 2;
    }
    mask
}

fn pos_of(body: &str, offset: usize, len: usize, file: crate::source::FileId) -> Pos {
    let before = &body[..offset];
    let line = before.matches('\n').count() as u32 + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) as u32 + 1;
    Pos {
        file,
        line,
        col,
        len: len as u32,
    }
}
