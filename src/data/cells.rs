//! Typing one cell: text as written in YAML or CSV becomes a [`Value`] of its column's type,
//! with numbers converted to base units. Every refusal says what to write instead.

use std::sync::Arc;

use super::{ColType, Field, Range, Value};
use crate::diag::Diagnostic;
use crate::source::{Pos, SourceMap};

/// A cell as written, before typing.
#[derive(Debug, Clone)]
pub(crate) enum CellInput {
    Empty(Pos),
    Number(f64, Pos),
    Bool(bool, Pos),
    Text(String, Pos),
}

impl CellInput {
    pub(crate) fn pos(&self) -> Pos {
        match self {
            CellInput::Empty(p)
            | CellInput::Number(_, p)
            | CellInput::Bool(_, p)
            | CellInput::Text(_, p) => *p,
        }
    }

    pub(crate) fn as_text(&self) -> String {
        match self {
            CellInput::Empty(_) => String::new(),
            CellInput::Number(n, _) => n.to_string(),
            CellInput::Bool(b, _) => b.to_string(),
            CellInput::Text(t, _) => t.trim().to_string(),
        }
    }
}

/// Types a cell for its column.
pub(crate) fn parse_cell(
    input: &CellInput,
    field: &Field,
    sources: &SourceMap,
) -> Result<Value, Diagnostic> {
    let pos = input.pos();
    let err = |msg: String| Diagnostic::error(msg).at(sources, pos);
    if let CellInput::Text(t, _) = input {
        if t.trim().is_empty() {
            return Ok(Value::Missing);
        }
    }
    match (&field.ty, input) {
        (_, CellInput::Empty(_)) => Ok(Value::Missing),
        (ColType::Number | ColType::Integer, CellInput::Number(n, _)) => {
            number(*n, field).map_err(err)
        }
        (ColType::Number | ColType::Integer, CellInput::Text(t, _)) => {
            if let Some((lo, hi)) = split_range(t) {
                let Some(end) = field.range else {
                    return Err(err(format!("`{}` is a range, but column `{}` does not accept ranges", t.trim(), field.name))
                        .help(format!(
                            "add `range: mid` (or low/high) to the settings of `{}` to say which end formulas use",
                            field.name
                        )));
                };
                let lo = parse_number_text(lo).map_err(|e| err(e.0).help(e.1))?;
                let hi = parse_number_text(hi).map_err(|e| err(e.0).help(e.1))?;
                if lo > hi {
                    return Err(err(format!("the range `{}` runs backwards", t.trim()))
                        .help("write the lower end first"));
                }
                let f = field.unit.factor;
                let rep = end.pick(lo, hi);
                return Ok(Value::Range(Box::new(Range {
                    lo: lo * f,
                    hi: hi * f,
                    rep: rep * f,
                })));
            }
            if let Some(p) = t.trim().strip_suffix('%') {
                return percent(p, field).map_err(|(m, h)| err(m).help(h));
            }
            let n = parse_number_text(t).map_err(|e| err(e.0).help(e.1))?;
            number(n, field).map_err(err)
        }
        (ColType::Number | ColType::Integer, CellInput::Bool(b, _)) => Err(err(format!(
            "expected a number in column `{}`, found `{b}`",
            field.name
        ))),
        // Text is kept as written: `007` stays `007`, `1.50` stays `1.50`.
        (ColType::Text | ColType::Ref(_), CellInput::Number(..) | CellInput::Bool(..)) => {
            Ok(Value::Text(Arc::from(
                written(pos, sources).unwrap_or_else(|| input.as_text()),
            )))
        }
        (ColType::Text | ColType::Ref(_), _) => Ok(Value::Text(Arc::from(input.as_text()))),
        (ColType::Bool, CellInput::Bool(b, _)) => Ok(Value::Bool(*b)),
        (ColType::Bool, CellInput::Text(t, _)) => match t.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" => Ok(Value::Bool(true)),
            "false" | "no" => Ok(Value::Bool(false)),
            other => Err(err(format!(
                "expected true or false in column `{}`, found `{other}`",
                field.name
            ))),
        },
        (ColType::Bool, CellInput::Number(n, _)) => Err(err(format!(
            "expected true or false in column `{}`, found `{n}`",
            field.name
        ))),
        (ColType::Date, _) => {
            let t = input.as_text();
            if is_date(&t) {
                Ok(Value::Date(Arc::from(t)))
            } else {
                Err(err(format!("`{t}` is not a date"))
                    .help("write dates as 2026-04-30, 2026-04 or 2026"))
            }
        }
    }
}

/// The text of a scalar as written in its file (YAML reads `007` as the number 7).
fn written(pos: Pos, sources: &SourceMap) -> Option<String> {
    let file = sources.get(pos.file);
    let line = file.line_text(pos.line)?;
    let text: String = line
        .chars()
        .skip(pos.col.saturating_sub(1) as usize)
        .take(pos.len as usize)
        .collect();
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

/// `4%` or `4 %`: a percentage written as such, for a `%` column (4) or a `style: percent`
/// fraction (0.04).
fn percent(p: &str, field: &Field) -> Result<Value, (String, String)> {
    let n = parse_number_text(p)?;
    if field.unit.symbol == "%" {
        return Ok(Value::Num(n * field.unit.factor));
    }
    if field.style == super::Style::Percent {
        return Ok(Value::Num(n / 100.0));
    }
    Err((
        format!(
            "`{}%` is a percentage, but column `{}` is in `{}`",
            p.trim(),
            field.name,
            field.unit.symbol
        ),
        format!("write the value in `{}`, without `%`", field.unit.symbol),
    ))
}

fn number(n: f64, field: &Field) -> Result<Value, String> {
    if !n.is_finite() {
        return Err(format!("`{n}` is not a finite number"));
    }
    if field.unit.symbol == "%" && n != 0.0 && n.abs() < 1.0 {
        let p = (n * 100.0 * 1e9).round() / 1e9;
        return Err(format!(
            "`{n}` in `{}` means {n} percent, which looks like a fraction: write `{p}` (or `{p}%`) for {p} percent, or `{n}%` if you mean {n} percent",
            field.name,
        ));
    }
    if field.ty == ColType::Integer && n.fract() != 0.0 {
        return Err(format!(
            "column `{}` holds whole numbers, found `{n}`",
            field.name
        ));
    }
    Ok(Value::Num(n * field.unit.factor))
}

/// "4-5", "4 - 5", "4–5" (en dash), "-3-5"; not "-5" or "1e-5".
fn split_range(t: &str) -> Option<(&str, &str)> {
    let t = t.trim();
    if let Some(i) = t.find('–') {
        return Some((&t[..i], &t[i + '–'.len_utf8()..]));
    }
    let bytes = t.as_bytes();
    (1..bytes.len()).find_map(|i| {
        let prev = bytes[i - 1];
        (bytes[i] == b'-'
            && (prev.is_ascii_digit() || prev == b' ' || prev == b'.')
            && !matches!(prev, b'e' | b'E'))
        .then(|| (&t[..i], &t[i + 1..]))
    })
}

/// Parses a number typed as text, refusing the spellings that are easy to misread.
pub fn parse_number_text(t: &str) -> Result<f64, (String, String)> {
    let s = t.trim();
    if s.is_empty() {
        return Err((
            "expected a number, found nothing".into(),
            "leave the cell empty for a missing value".into(),
        ));
    }
    if s.starts_with('~') {
        return Err((
            format!("`{s}` is not a number"),
            "write approximate values as plain numbers and say \"approximate\" in the column's description (`~` marks an approximate figure only in a column of printed figures, one a derived column names with `printed:`)".into(),
        ));
    }
    if let Some((a, b)) = s.split_once(',') {
        let help = if b.len() == 3 && a.chars().all(|c| c.is_ascii_digit() || c == '-') {
            format!(
                "write numbers without thousands separators: `{}`",
                s.replace(',', "")
            )
        } else {
            format!("write decimals with a point: `{}`", s.replace(',', "."))
        };
        return Err((format!("`{s}` is not a number (a comma is neither a decimal point nor allowed as a separator)"), help));
    }
    let cleaned = s.trim_start_matches('+');
    let named = cleaned.to_lowercase();
    let named = named.trim_start_matches('-');
    match cleaned.parse::<f64>() {
        Ok(n) if n.is_finite() => Ok(n),
        Ok(_) if !named.starts_with("nan") && !named.starts_with("inf") => Err((
            format!("`{s}` is out of range"),
            "numbers must lie between -1.8e308 and 1.8e308; write the value in a larger unit"
                .into(),
        )),
        _ => {
            let number_part = s.trim_start_matches(|c: char| {
                c.is_ascii_digit() || c == '.' || c == '-' || c == '+'
            });
            let number = s[..s.len() - number_part.len()].trim();
            let suffix = number_part.trim_start();
            // Only a suffix that reads as a unit ("24 GB", "450W") is cut off: `0x19D`, `1_000`
            // or `4;5` are other spellings of other numbers, and no hint may change the value.
            let unit_like = suffix
                .chars()
                .next()
                .is_some_and(|c| c.is_alphabetic() || matches!(c, '%' | '€' | '$' | '°' | 'µ'))
                && suffix.chars().all(|c| {
                    c.is_alphanumeric()
                        || matches!(c, '/' | '^' | '*' | ' ' | '%' | '€' | '$' | '°' | 'µ' | '.')
                })
                && !(number == "0"
                    && suffix.starts_with(['x', 'X', 'o', 'O', 'b', 'B'])
                    && suffix.len() > 1
                    && suffix[1..].chars().all(|c| c.is_ascii_hexdigit()))
                && !suffix.starts_with(['e', 'E'])
                && number.parse::<f64>().is_ok();
            let help = if unit_like {
                format!(
                    "write the number alone (`{number}`); the unit belongs in the column's `unit:`"
                )
            } else if s.contains('_') || s.contains('\'') {
                "write numbers without separators, digits only: 1000000, not 1_000_000".into()
            } else if s.starts_with("0x") || s.starts_with("0X") {
                "write numbers in decimal digits".into()
            } else {
                "numeric columns hold numbers such as 12.5, -3 or 1e6".into()
            };
            Err((format!("`{s}` is not a number"), help))
        }
    }
}

fn is_date(t: &str) -> bool {
    let parts: Vec<&str> = t.split('-').collect();
    let digits = |s: &str, n: usize| s.len() == n && s.chars().all(|c| c.is_ascii_digit());
    match parts.as_slice() {
        [y] => digits(y, 4),
        [y, m] => digits(y, 4) && digits(m, 2) && (1..=12).contains(&m.parse::<u32>().unwrap_or(0)),
        [y, m, d] => {
            digits(y, 4)
                && digits(m, 2)
                && digits(d, 2)
                && (1..=12).contains(&m.parse::<u32>().unwrap_or(0))
                && (1..=31).contains(&d.parse::<u32>().unwrap_or(0))
        }
        _ => false,
    }
}
