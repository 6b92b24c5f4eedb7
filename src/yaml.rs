//! YAML with a position for every value.
//!
//! serde-saphyr parses; this module fixes its options once (strict booleans, a stated node budget,
//! duplicate keys rejected) and turns its errors into [`Diagnostic`]s at `file:line:col`.
//! Schemas known only at run time (dataset rows) are read as a [`Node`] tree.

use std::fmt;

use serde::de::{DeserializeOwned, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_saphyr::Spanned;

use crate::diag::{Diagnostic, Diagnostics};
use crate::source::{FileId, Pos, SourceMap};

/// The most values (scalars, sequences and mappings) one YAML file may hold: about 400,000
/// dataset rows of ten columns. Larger datasets belong in CSV.
pub const MAX_NODES: usize = 5_000_000;
/// The deepest nesting accepted; datasets need four levels.
pub const MAX_DEPTH: usize = 64;

fn options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        strict_booleans: true,
        budget: serde_saphyr::budget! {
            max_nodes: MAX_NODES,
            max_events: MAX_NODES * 3,
            max_depth: MAX_DEPTH,
        },
    }
}

/// A YAML value with the position it was written at.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub kind: Kind,
    pub pos: Pos,
}

/// The shape of a YAML value. Mappings keep their written order.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// A short description of the value's type, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            Kind::Null => "nothing",
            Kind::Bool(_) => "a boolean",
            Kind::Int(_) | Kind::Float(_) => "a number",
            Kind::Str(_) => "text",
            Kind::Seq(_) => "a list",
            Kind::Map(_) => "a mapping",
        }
    }

    /// The text of a scalar, as written (numbers and booleans in their usual form).
    pub fn scalar_text(&self) -> Option<String> {
        match &self.kind {
            Kind::Str(s) => Some(s.clone()),
            Kind::Int(i) => Some(i.to_string()),
            Kind::Float(f) => Some(f.to_string()),
            Kind::Bool(b) => Some(b.to_string()),
            Kind::Null => Some(String::new()),
            _ => None,
        }
    }

    /// The entries of a mapping.
    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.kind {
            Kind::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The key of a mapping entry as text.
    pub fn key_str(&self) -> Option<&str> {
        match &self.kind {
            Kind::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// Parses a YAML file into a [`Node`] tree.
pub fn parse(text: &str, file: FileId, sources: &SourceMap) -> Result<Node, Diagnostics> {
    if text.trim().is_empty() {
        return Ok(Node {
            kind: Kind::Null,
            pos: Pos {
                file,
                line: 1,
                col: 1,
                len: 1,
            },
        });
    }
    crate::fsutil::refuse_nul(text, file, sources)?;
    let raw: Spanned<Raw> = serde_saphyr::from_str_with_options(text, options())
        .map_err(|e| error_to_diagnostic(&e, file, sources))?;
    let mut node = convert(raw, file);
    let mut tags = Diagnostics::default();
    find_tags(&node, &sources.get(file), sources, &mut tags);
    if tags.has_errors() {
        return Err(tags);
    }
    fit_carets(&mut node, &sources.get(file));
    Ok(node)
}

/// YAML tags (`!!python/object/apply:...`, `!!str`, `!foo`) ask a YAML reader to build objects
/// or change types; driftless reads plain values only, so a tag is refused where it is written
/// rather than read as something else.
fn find_tags(
    node: &Node,
    file: &crate::source::SourceFile,
    sources: &SourceMap,
    diags: &mut Diagnostics,
) {
    let tag_before = |line: u32, col: u32| -> Option<(u32, u32, String)> {
        let text = file.line_text(line)?;
        let prefix: String = text.chars().take(col.saturating_sub(1) as usize).collect();
        let last = |p: &str| {
            if p.contains('#') {
                return None;
            }
            let token = p
                .trim_end()
                .rsplit([' ', '\t', '[', '{', ','])
                .next()
                .unwrap_or_default()
                .to_string();
            token.starts_with('!').then_some(token)
        };
        if let Some(t) = last(&prefix) {
            let c = prefix.trim_end().chars().count() - t.chars().count() + 1;
            return Some((line, c as u32, t));
        }
        // A tag on a collection written on the lines below: `key: !tag` then the items.
        if prefix.trim().trim_start_matches('-').trim().is_empty() && line > 1 {
            let prev = (1..line).rev().find_map(|n| {
                let l = file.line_text(n)?;
                (!l.trim().is_empty() && !l.trim_start().starts_with('#'))
                    .then(|| (n, l.to_string()))
            })?;
            let t = last(&prev.1)?;
            let c = prev.1.trim_end().chars().count() - t.chars().count() + 1;
            return Some((prev.0, c as u32, t));
        }
        None
    };
    if let Some((line, col, tag)) = tag_before(node.pos.line, node.pos.col) {
        let pos = Pos {
            line,
            col,
            len: tag.chars().count() as u32,
            ..node.pos
        };
        if !diags.0.iter().any(|d| {
            d.location
                .as_ref()
                .is_some_and(|l| l.line == line && l.col == col)
        }) {
            diags.push(
                Diagnostic::error(format!("the YAML tag `{tag}` is not read by driftless"))
                    .at(sources, pos)
                    .help("remove the tag and write the value alone (quote it to keep it as text)"),
            );
        }
    }
    if let Kind::Str(text) = &node.kind {
        if text.contains('\0') {
            diags.push(
                Diagnostic::error(
                    "this text holds a NUL character (`\\0`, an invisible control character)",
                )
                .at(sources, node.pos)
                .help("remove the `\\0`"),
            );
        }
    }
    match &node.kind {
        Kind::Seq(items) => items
            .iter()
            .for_each(|i| find_tags(i, file, sources, diags)),
        Kind::Map(entries) => entries.iter().for_each(|(k, v)| {
            find_tags(k, file, sources, diags);
            find_tags(v, file, sources, diags);
        }),
        _ => {}
    }
}

/// Puts a quoted text's position on its first character rather than on the quote (so that the
/// caret of a bad cell is under its value), and makes a number's caret as long as it is written.
fn fit_carets(node: &mut Node, file: &crate::source::SourceFile) {
    match &mut node.kind {
        Kind::Seq(items) => items.iter_mut().for_each(|i| fit_carets(i, file)),
        Kind::Map(entries) => entries.iter_mut().for_each(|(k, v)| {
            fit_carets(k, file);
            fit_carets(v, file);
        }),
        kind => {
            let Some(line) = file.line_text(node.pos.line) else {
                return;
            };
            let rest: String = line
                .chars()
                .skip(node.pos.col.saturating_sub(1) as usize)
                .collect();
            match kind {
                Kind::Str(_) if rest.starts_with(['"', '\'']) => node.pos.col += 1,
                Kind::Int(_) | Kind::Float(_) | Kind::Bool(_) => {
                    let end = rest.find([',', '}', ']', '#']).unwrap_or(rest.len());
                    node.pos.len = rest[..end].trim_end().chars().count().max(1) as u32;
                }
                _ => {}
            }
        }
    }
}

/// Parses a YAML file straight into a typed structure (configuration, front matter).
pub fn from_str_typed<T: DeserializeOwned>(
    text: &str,
    file: FileId,
    sources: &SourceMap,
) -> Result<T, Diagnostics> {
    let source = if text.trim().is_empty() { "{}" } else { text };
    crate::fsutil::refuse_nul(text, file, sources)?;
    serde_saphyr::from_str_with_options(source, options())
        .map_err(|e| error_to_diagnostic(&e, file, sources).into())
}

/// Turns a serde-saphyr error into a diagnostic at its position.
pub fn error_to_diagnostic(
    err: &serde_saphyr::Error,
    file: FileId,
    sources: &SourceMap,
) -> Diagnostic {
    let inner = err.without_snippet();
    let mut message = inner.to_string();
    // serde-saphyr appends its own "at line X column Y"; the location line says it already.
    if let Some(i) = message.find(" at line ") {
        message.truncate(i);
    }
    let message = message.trim().trim_end_matches('.').to_string();
    let Explained {
        message,
        help,
        key,
        tabs,
    } = explain(&message);
    // The `key: value` the error points into (in a flow mapping, the entry at the column).
    let entry = inner.location().filter(|l| l.line() > 0).and_then(|l| {
        let line = sources.get(file).line_text(l.line() as u32)?.to_string();
        let at = (l.column().max(1) - 1) as usize;
        let before: String = line.chars().take(at).collect();
        let after: String = line.chars().skip(at).collect();
        let before = before.trim_end();
        match before.strip_suffix(':') {
            Some(k) => {
                let key = k.rsplit([' ', '{', ',', '[']).next().unwrap_or_default();
                let value = after.split([',', '}']).next().unwrap_or_default().trim();
                Some(format!("{key}: {value}"))
            }
            None => Some(line),
        }
    });
    let (message, help, key, tabs) = match type_mismatch(&message, entry.as_deref()) {
        Some((m, h)) => (m, Some(h), None, false),
        None => (message, help, key, tabs),
    };
    let (message, help, key, tabs) = match indentation(&message, inner.location(), file, sources) {
        Some(h) if h.starts_with("this line") => (
            "invalid YAML: the indentation of this line does not fit the lines above".to_string(),
            Some(h),
            None,
            false,
        ),
        Some(h) => (message, Some(h), key, false),
        None => (message, help, key, tabs),
    };
    let mut d = Diagnostic::error(message);
    if let Some(h) = help {
        d = d.help(h);
    }
    match inner.location() {
        Some(loc) if loc.line() > 0 => {
            let mut col = loc.column().max(1) as u32;
            // serde-saphyr points after the indentation; a tab in it is what is wrong.
            if tabs {
                let text = sources.get(file);
                if let Some(i) = text
                    .line_text(loc.line() as u32)
                    .and_then(|l| l.chars().position(|c| c == '\t'))
                {
                    col = col.min(i as u32 + 1);
                }
            }
            // The parser notices an unclosed `{` or `[` only where the next key starts: say
            // where the last bracket that is not closed on its own line was opened.
            let open = if d.help.iter().any(|h| h.contains("`{` is not closed")) {
                Some(('{', '}'))
            } else if d.help.iter().any(|h| h.contains("`[` is not closed")) {
                Some(('[', ']'))
            } else {
                None
            };
            if let Some((o, c)) = open {
                let text = sources.get(file);
                let unclosed = (1..=loc.line() as u32).rev().find_map(|n| {
                    let l = text.line_text(n)?;
                    let depth = l.chars().filter(|&ch| ch == o).count() as i64
                        - l.chars().filter(|&ch| ch == c).count() as i64;
                    (depth > 0).then(|| (n, l.rfind(o).map_or(0, |i| l[..i].chars().count())))
                });
                if let Some((n, i)) = unclosed {
                    d = d.note(format!(
                        "the `{o}` at line {n}, column {} is not closed",
                        i + 1
                    ));
                }
            }
            // A key named in the message is underlined whole.
            let len = key.as_deref().map_or(1, |k| k.chars().count().max(1)) as u32;
            let pos = Pos {
                file,
                line: loc.line() as u32,
                col,
                len,
            };
            d.at(sources, pos)
        }
        _ => d.in_file(&sources.get(file).path),
    }
}

/// serde's type errors ("cannot deserialize null into string; use Option<String>", "expected
/// string scalar", "invalid floating point") in an editor's words, naming the setting of the line.
fn type_mismatch(message: &str, line: Option<&str>) -> Option<(String, String)> {
    let lower = message.to_lowercase();
    let (key, value) = line
        .and_then(|l| l.trim_start().trim_start_matches("- ").split_once(':'))
        .map_or(("", ""), |(k, v)| (k.trim(), v.trim()));
    let setting = if key.is_empty() || key.contains(' ') {
        "this setting".to_string()
    } else {
        format!("`{key}`")
    };
    let found = if value.is_empty() || value == "~" || value == "null" {
        "nothing"
    } else if value.starts_with('[') || value.starts_with('-') && value.len() == 1 {
        "a list"
    } else if value.starts_with('{') {
        "a mapping"
    } else if value.starts_with('!') {
        "a tagged value"
    } else {
        "something else"
    };
    let found_value = |what: &str| {
        if found == "something else" {
            format!("`{value}`")
        } else {
            what.to_string()
        }
    };
    if lower.contains("non-finite float") {
        let n = message.split('`').nth(1).unwrap_or(value);
        return Some((
            format!("`{n}` is out of range"),
            "numbers must lie between -1.8e308 and 1.8e308; write the value in a larger unit"
                .into(),
        ));
    }
    let expected = if lower.contains("mapping start") {
        "a mapping of settings"
    } else if lower.contains("sequence start") {
        "a list"
    } else if lower.contains("string scalar") {
        "a single value"
    } else if lower.contains("into string") || lower.contains("expected a string") {
        "text"
    } else if lower.contains("floating point")
        || lower.contains("integer")
        || lower.contains("expected f64")
        || lower.contains("expected a number")
    {
        "a number"
    } else if lower.contains("boolean") || lower.contains("expected a bool") {
        "true or false"
    } else if lower.starts_with("invalid type") {
        "another kind of value"
    } else {
        return None;
    };
    let help = match expected {
        "text" => format!(
            "write the text after `{key}:` on the same line, in quotes if it contains `: ` or `#`"
        ),
        "a number" => "write a plain number such as 3 or 2.5".to_string(),
        "true or false" => "write true or false".to_string(),
        "a single value" => format!("write one value after `{key}:`, not a list or a mapping"),
        "a mapping of settings" => format!("write the settings of `{key}` on the lines below it, indented: `{key}:` then `  name: value`"),
        "a list" => format!("write the items of `{key}` as a list: `{key}: [a, b]`, or one `- item` per line below it"),
        _ => "see the README for what this setting takes".to_string(),
    };
    let help = if key.is_empty() {
        help.replace("after `:` ", "")
    } else {
        help
    };
    Some((
        format!("{setting} must be {expected}, not {}", found_value(found)),
        help,
    ))
}

/// Help for an indentation mistake: the columns at which the lines above start keys, so the
/// editor can see where this line should start.
fn indentation(
    message: &str,
    loc: Option<serde_saphyr::Location>,
    file: FileId,
    sources: &SourceMap,
) -> Option<String> {
    let lower = message.to_lowercase();
    if !(lower.contains("did not find expected key")
        || lower.contains("mapping values are not allowed")
        || lower.contains("did not find expected '-'")
        || lower.contains("indent"))
    {
        return None;
    }
    let loc = loc.filter(|l| l.line() > 1)?;
    let text = sources.get(file);
    let indent_of = |l: &str| l.chars().take_while(|c| *c == ' ').count();
    let this = text.line_text(loc.line() as u32)?;
    if this.trim_start().starts_with('\t') || this.contains('\t') {
        return None;
    }
    let here = indent_of(this);
    // The line above that holds a key, and its indentation.
    let (_, above) = (1..loc.line() as u32).rev().find_map(|n| {
        let l = text.line_text(n)?;
        let t = l.trim();
        (!t.is_empty() && !t.starts_with('#')).then(|| (n, l.to_string()))
    })?;
    let above_indent = indent_of(&above);
    let opens_block = above.trim_end().ends_with(':');
    if lower.contains("mapping values are not allowed") {
        if here > above_indent && !opens_block {
            return Some(format!(
                "this line is indented more than the line above, which already has its value: start it at column {} like the line above (or, if its value contains `: `, quote the value: `key: \"a: b\"`)",
                above_indent + 1
            ));
        }
        return Some("a value that contains `: ` must be quoted: `key: \"a: b\"`".into());
    }
    let mut columns: Vec<usize> = (1..loc.line() as u32)
        .filter_map(|n| text.line_text(n))
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(indent_of)
        .filter(|&i| i < here.max(above_indent + 1))
        .collect();
    columns.sort_unstable();
    columns.dedup();
    let expected = if opens_block {
        format!(
            "column {} or more (inside `{}`)",
            above_indent + 2,
            above.trim()
        )
    } else {
        let near: Vec<String> = columns
            .iter()
            .rev()
            .filter(|&&c| c <= above_indent)
            .take(2)
            .map(|c| format!("column {}", c + 1))
            .collect();
        if near.is_empty() {
            format!("column {}", above_indent + 1)
        } else {
            near.join(" or ")
        }
    };
    Some(format!(
        "this line starts at column {}; keys of the same mapping start at the same column: here {expected}",
        here + 1
    ))
}

/// A YAML error in the editor's terms.
struct Explained {
    message: String,
    help: Option<String>,
    /// The key the message names, underlined whole.
    key: Option<String>,
    /// Whether a tab in the indentation is what is wrong (reported at the tab).
    tabs: bool,
}

impl Explained {
    fn new(message: String, help: Option<String>) -> Explained {
        Explained {
            message,
            help,
            key: None,
            tabs: false,
        }
    }
}

/// Rewrites the YAML errors editors meet most in their terms, with a hint on how to fix them.
fn explain(message: &str) -> Explained {
    let lower = message.to_lowercase();
    // The first name in backticks: serde's `unknown field `x``, `missing field `x``.
    let quoted = message.split('`').nth(1).unwrap_or_default();
    if lower.starts_with("unknown field") {
        let expected: Vec<&str> = message
            .split_once("expected one of ")
            .or_else(|| message.split_once("expected "))
            .map(|(_, list)| {
                list.split(", ")
                    .map(|s| s.trim_matches(|c| c == '`' || c == ' '))
                    .collect()
            })
            .unwrap_or_default();
        let help = if expected.is_empty() || expected.iter().all(|e| e.is_empty()) {
            "check the spelling of the key; the README lists every setting".to_string()
        } else {
            crate::diag::did_you_mean(quoted, "setting", expected.iter().copied())
        };
        return Explained {
            key: Some(quoted.to_string()),
            ..Explained::new(format!("unknown setting `{quoted}`"), Some(help))
        };
    }
    if lower.starts_with("missing field") {
        return Explained::new(
            format!("the setting `{quoted}` is missing"),
            Some(format!("add `{quoted}: ...`")),
        );
    }
    if lower.starts_with("duplicate mapping key") {
        let key = message
            .split_once(": ")
            .map(|(_, k)| {
                k.split(", set DuplicateKeyPolicy")
                    .next()
                    .unwrap_or(k)
                    .trim()
            })
            .unwrap_or_default();
        let text = if key.is_empty() {
            "invalid YAML: a key appears twice in this mapping".to_string()
        } else {
            format!("invalid YAML: the key `{key}` appears twice in this mapping")
        };
        return Explained {
            key: Some(key.to_string()).filter(|k| !k.is_empty()),
            ..Explained::new(
                text,
                Some("each key may appear once in a mapping: remove or rename one of them".into()),
            )
        };
    }
    if lower.contains("budget") || lower.contains("alias") || lower.contains("recursion") {
        if (lower.contains("depth") && !lower.contains("alias")) || lower.contains("recursion") {
            return Explained::new(
                format!("invalid YAML: nested more than {MAX_DEPTH} levels deep"),
                Some(
                    "datasets need only a few levels of nesting: check for unbalanced brackets"
                        .into(),
                ),
            );
        }
        return Explained::new(
            "invalid YAML: the file expands to more values than driftless reads".to_string(),
            Some("the file expands to too many values (a YAML alias bomb, or a dataset too large for YAML): put large datasets in CSV, and repeat values instead of nesting aliases".into()),
        );
    }
    let help = if lower.contains("tab") {
        Some("YAML indentation must use spaces, not tabs")
    } else if lower.contains("flow mapping") {
        Some("a `{` is not closed where it should be: add the missing `}`, and quote values that contain `,`, `:` or `#`")
    } else if lower.contains("flow sequence") {
        Some("a `[` is not closed where it should be: add the missing `]`, and quote values that contain `,`, `:` or `#`")
    } else if lower.contains("mapping values are not allowed") {
        Some("a value that contains `: ` must be quoted: `key: \"a: b\"`")
    } else {
        None
    };
    let text = if message.is_empty() {
        "invalid YAML".to_string()
    } else {
        format!("invalid YAML: {message}")
    };
    Explained {
        tabs: lower.contains("tab"),
        ..Explained::new(text, help.map(str::to_string))
    }
}

fn convert(raw: Spanned<Raw>, file: FileId) -> Node {
    let loc = raw.referenced;
    let pos = Pos {
        file,
        line: loc.line().max(1) as u32,
        col: loc.column().max(1) as u32,
        len: 1,
    };
    let kind = match raw.value {
        Raw::Null => Kind::Null,
        Raw::Bool(b) => Kind::Bool(b),
        Raw::Int(i) => Kind::Int(i),
        Raw::Float(f) => Kind::Float(f),
        Raw::Str(s) => Kind::Str(s),
        Raw::Seq(items) => Kind::Seq(items.into_iter().map(|i| convert(i, file)).collect()),
        Raw::Map(entries) => Kind::Map(
            entries
                .into_iter()
                .map(|(k, v)| (convert(k, file), convert(v, file)))
                .collect(),
        ),
    };
    let len = match &kind {
        Kind::Str(s) => s.chars().count().max(1) as u32,
        _ => 1,
    };
    Node {
        kind,
        pos: Pos { len, ..pos },
    }
}

/// What serde-saphyr hands us before positions are converted.
enum Raw {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Spanned<Raw>>),
    Map(Vec<(Spanned<Raw>, Spanned<Raw>)>),
}

impl<'de> Deserialize<'de> for Raw {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Raw, D::Error> {
        d.deserialize_any(RawVisitor)
    }
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = Raw;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a YAML value")
    }
    fn visit_unit<E>(self) -> Result<Raw, E> {
        Ok(Raw::Null)
    }
    fn visit_none<E>(self) -> Result<Raw, E> {
        Ok(Raw::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Raw, D::Error> {
        Raw::deserialize(d)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Raw, E> {
        Ok(Raw::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Raw, E> {
        Ok(Raw::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Raw, E> {
        Ok(i64::try_from(v).map_or(Raw::Float(v as f64), Raw::Int))
    }
    fn visit_i128<E>(self, v: i128) -> Result<Raw, E> {
        Ok(i64::try_from(v).map_or(Raw::Float(v as f64), Raw::Int))
    }
    fn visit_u128<E>(self, v: u128) -> Result<Raw, E> {
        Ok(i64::try_from(v).map_or(Raw::Float(v as f64), Raw::Int))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Raw, E> {
        Ok(Raw::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Raw, E> {
        Ok(Raw::Str(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Raw, E> {
        Ok(Raw::Str(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Raw, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<Raw>>()? {
            items.push(item);
        }
        Ok(Raw::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Raw, A::Error> {
        let mut entries = Vec::new();
        while let Some((k, v)) = map.next_entry::<Spanned<Raw>, Spanned<Raw>>()? {
            entries.push((k, v));
        }
        Ok(Raw::Map(entries))
    }
}
