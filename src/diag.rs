//! Diagnostics: what went wrong, where, and what to do about it.
//!
//! Every stage collects its problems as [`Diagnostic`]s and reports them all at once. A
//! diagnostic points at `file:line:col` and renders the offending line with a caret under it:
//!
//! ```text
//! error: unknown column `wats` in dataset `gpus`
//!   --> data/gpus.yaml:12:14
//!    |
//! 12 |     formula: wats * hours_per_month
//!    |              ^^^^ not a column of `gpus`
//!    = help: did you mean `watts`?
//! ```

use std::fmt::Write as _;

use serde::Serialize;

use crate::source::{Pos, SourceMap};

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// A resolved source location, ready to print.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Location {
    pub file: String,
    pub line: u32,
    pub col: u32,
    #[serde(skip)]
    pub len: u32,
    #[serde(skip)]
    pub line_text: Option<String>,
}

/// One problem found in the wiki.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    pub message: String,
    pub location: Option<Location>,
    /// Short text printed under the caret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Further facts ("values: ...", "the cycle: a -> b -> a").
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// What to do about it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub help: Vec<String>,
    /// What kind of finding it is, where a later stage treats some kinds differently.
    #[serde(skip)]
    pub kind: Kind,
}

/// A kind of finding that a later stage looks for (never by the text of its message).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Kind {
    #[default]
    Other,
    /// A `[[wiki link]]` to a page that does not exist: a warning for `build`, an error for
    /// `check` unless the wiki says otherwise.
    RedLink,
}

impl Diagnostic {
    /// An error with a message and no location yet.
    pub fn error(message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            message: message.into(),
            location: None,
            label: None,
            notes: Vec::new(),
            help: Vec::new(),
            kind: Kind::Other,
        }
    }

    /// Marks the kind of finding.
    pub fn kind(mut self, kind: Kind) -> Diagnostic {
        self.kind = kind;
        self
    }

    /// A warning with a message and no location yet.
    pub fn warning(message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(message)
        }
    }

    /// Points the diagnostic at a source position.
    pub fn at(mut self, sources: &SourceMap, pos: Pos) -> Diagnostic {
        let file = sources.get(pos.file);
        self.location = Some(Location {
            file: display_path(&file.path),
            line: pos.line,
            col: pos.col,
            len: pos.len,
            line_text: file.line_text(pos.line).map(str::to_owned),
        });
        self
    }

    /// Points the diagnostic at a file without a line (an I/O problem, say).
    pub fn in_file(mut self, path: &std::path::Path) -> Diagnostic {
        self.location = Some(Location {
            file: display_path(path),
            line: 0,
            col: 0,
            len: 0,
            line_text: None,
        });
        self
    }

    /// Sets the text under the caret.
    pub fn label(mut self, label: impl Into<String>) -> Diagnostic {
        self.label = Some(label.into());
        self
    }

    /// Adds a note.
    pub fn note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }

    /// Adds a hint on how to fix the problem.
    pub fn help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help.push(help.into());
        self
    }

    /// Whether the diagnostic fails the build.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Renders the diagnostic for a terminal, as in the module documentation.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let kind = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let _ = writeln!(out, "{kind}: {}", self.message);
        let gutter = self
            .location
            .as_ref()
            .map_or(1, |l| l.line.to_string().len())
            .max(1);
        let pad = " ".repeat(gutter);
        if let Some(loc) = &self.location {
            if loc.line == 0 {
                let _ = writeln!(out, "{pad}--> {}", loc.file);
            } else {
                let _ = writeln!(out, "{pad}--> {}:{}:{}", loc.file, loc.line, loc.col);
            }
            if let Some(text) = &loc.line_text {
                // At most 200 characters of the line; on a long line, those around the column.
                let col = loc.col.saturating_sub(1) as usize;
                let skip = if col >= 160 { col - 40 } else { 0 };
                let mut shown: String = text.chars().skip(skip).take(200).collect();
                let mut start = col - skip;
                if skip > 0 {
                    shown.insert_str(0, "...");
                    start += 3;
                }
                let _ = writeln!(out, "{pad} |");
                // Tabs as one space, so the carets line up; other control characters as their
                // visible symbol (NUL as `␀`), so the line shows what the message is about.
                let shown: String = shown
                    .chars()
                    .map(|c| match c {
                        '\t' => ' ',
                        c if (c as u32) < 0x20 => char::from_u32(0x2400 + c as u32).unwrap_or(c),
                        '\u{7f}' => '\u{2421}',
                        c => c,
                    })
                    .collect();
                let _ = writeln!(out, "{} | {shown}", loc.line);
                if start <= shown.chars().count() {
                    let carets = "^".repeat((loc.len.max(1) as usize).min(120));
                    let label = self
                        .label
                        .as_deref()
                        .map_or(String::new(), |l| format!(" {l}"));
                    let _ = writeln!(out, "{pad} | {}{carets}{label}", " ".repeat(start));
                }
            }
        }
        for note in &self.notes {
            let _ = writeln!(out, "{pad} = note: {note}");
        }
        for help in &self.help {
            let _ = writeln!(out, "{pad} = help: {help}");
        }
        out
    }
}

/// A path as shown to editors: relative, with forward slashes.
pub fn display_path(path: &std::path::Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

/// The problems a stage found. A stage that returns `Err(Diagnostics)` found at least one error.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// Adds a diagnostic.
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }

    /// How many problems were found.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether any error was found.
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(Diagnostic::is_error)
    }

    /// Moves every diagnostic of `other` into this one.
    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }

    /// Sorts by file, line and column so that reports read in source order and are
    /// deterministic whatever the thread scheduling.
    pub fn sort(&mut self) {
        self.0.sort_by(|a, b| {
            a.location
                .cmp(&b.location)
                .then_with(|| a.message.cmp(&b.message))
        });
        self.0.dedup();
    }

    /// `Ok(value)` when no error was found, `Err(self)` otherwise.
    pub fn into_result<T>(self, value: T) -> Result<T, Diagnostics> {
        if self.has_errors() {
            Err(self)
        } else {
            Ok(value)
        }
    }

    /// Renders all diagnostics, then a summary line.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for d in &self.0 {
            out.push_str(&d.render());
            out.push('\n');
        }
        let errors = self.0.iter().filter(|d| d.is_error()).count();
        let warnings = self.0.len() - errors;
        match (errors, warnings) {
            (0, 0) => {}
            (e, 0) => {
                let _ = writeln!(out, "{e} error{}", plural(e));
            }
            (e, w) => {
                let _ = writeln!(out, "{e} error{}, {w} warning{}", plural(e), plural(w));
            }
        }
        out
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Diagnostics {
        Diagnostics(vec![d])
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Edit distance for "did you mean" hints: Levenshtein, with a swap of two neighbouring
/// characters (`unti` for `unit`) counted as one edit.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut before: Vec<usize> = Vec::new();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            let mut d = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
            if i > 0 && j > 0 && *ca == b[j - 1] && a[i - 1] == *cb {
                d = d.min(before[j - 1] + 1);
            }
            cur.push(d);
        }
        before = std::mem::replace(&mut prev, cur);
    }
    prev[b.len()]
}

/// The closest candidate to `name`, if one is close enough to be a likely typo.
pub fn suggest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (edit_distance(name, c), c))
        .filter(|(d, c)| *d <= (name.len().max(c.len()) / 3).max(1))
        .min()
        .map(|(_, c)| c)
}

/// A "did you mean" help line, or a list of what exists.
pub fn did_you_mean<'a>(
    name: &str,
    what: &str,
    candidates: impl IntoIterator<Item = &'a str> + Clone,
) -> String {
    if let Some(s) = suggest(name, candidates.clone()) {
        return format!("did you mean `{s}`?");
    }
    let all: Vec<&str> = candidates.into_iter().collect();
    if all.is_empty() {
        return format!("there are no {what}s here");
    }
    let shown: Vec<String> = all.iter().take(12).map(|c| format!("`{c}`")).collect();
    let more = if all.len() > 12 {
        format!(" and {} more", all.len() - 12)
    } else {
        String::new()
    };
    format!("known {what}s: {}{more}", shown.join(", "))
}
