//! The YAML front matter between `---` lines at the top of an article.

use serde::Deserialize;

use crate::diag::{Diagnostic, Diagnostics};
use crate::source::{FileId, Pos, SourceMap};

/// What an article says about itself. Unknown keys are errors.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct FrontMatter {
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    /// Position on the index page: lower comes first; then by title.
    #[serde(default)]
    pub order: Option<f64>,
    /// Publish at this address instead of the file's path.
    #[serde(default)]
    pub slug: Option<String>,
    /// The layout in templates/ (default `article.html`).
    #[serde(default)]
    pub template: Option<String>,
    /// A draft: shown by `serve` (marked as one), left out of `build` and `check`.
    #[serde(default)]
    pub draft: bool,
}

/// Splits an article into front matter and body; the body keeps the file's line numbers.
pub(super) fn split(
    text: &str,
    file: FileId,
    sources: &SourceMap,
) -> Result<(FrontMatter, String), Diagnostics> {
    let first_line_end = text.find('\n').unwrap_or(text.len());
    if text[..first_line_end].trim_end() != "---" {
        return Err(Diagnostic::error("the article has no front matter")
            .at(sources, Pos::file_start(file, 1))
            .help("start the file with a `---` line, `title: ...`, and another `---` line")
            .into());
    }
    let rest = &text[(first_line_end + 1).min(text.len())..];
    let mut offset = first_line_end + 1;
    let mut end = None;
    for line in rest.split_inclusive('\n') {
        if line.trim_end() == "---" {
            end = Some((offset, offset + line.len()));
            break;
        }
        offset += line.len();
    }
    let Some((yaml_end, body_start)) = end else {
        return Err(Diagnostic::error("the front matter is not closed")
            .at(sources, Pos::file_start(file, 3))
            .help("end the front matter with a line holding only `---`")
            .into());
    };
    let yaml = &text[(first_line_end + 1).min(yaml_end)..yaml_end];
    // Blank lines in front of the YAML keep the error positions of the file.
    let padded = format!("\n{yaml}");
    let front: FrontMatter = parse_front(&padded, file, sources)?;
    if front.title.trim().is_empty() {
        return Err(Diagnostic::error("the front matter has an empty `title`")
            .at(
                sources,
                Pos {
                    file,
                    line: 2,
                    col: 1,
                    len: 1,
                },
            )
            .into());
    }
    let lines = text[..body_start].matches('\n').count();
    let body = format!("{}{}", "\n".repeat(lines), &text[body_start..]);
    Ok((front, body))
}

fn parse_front(yaml: &str, file: FileId, sources: &SourceMap) -> Result<FrontMatter, Diagnostics> {
    if yaml.trim().is_empty() {
        return Err(Diagnostic::error("the front matter is empty")
            .at(sources, Pos::file_start(file, 3))
            .help("add at least `title: ...`")
            .into());
    }
    crate::yaml::from_str_typed(yaml, file, sources).map_err(|mut d: Diagnostics| {
        for diag in &mut d.0 {
            if diag.message.contains("`title` is missing") {
                // serde reports it where the mapping ends; the front matter starts at line 1.
                return Diagnostic::error("the front matter has no `title`")
                    .at(sources, Pos::file_start(file, 3))
                    .help("every article needs a `title: ...` line between the `---` lines")
                    .into();
            }
            diag.message = match diag.message.strip_prefix("invalid YAML") {
                Some(rest) => format!("invalid front matter{rest}"),
                None => format!("{} in the front matter", diag.message),
            };
        }
        d
    })
}
