//! As-of staleness: an input last confirmed longer ago than the wiki allows (`stale_after: 12
//! months` in `driftless.yaml`, or per dataset) is flagged on the pages that show it and by
//! `check`. Age is measured in whole months against the date the wiki states (`as_of:` in
//! `driftless.yaml`, or `SOURCE_DATE_EPOCH`), never the clock, so a build is reproducible.

use std::collections::HashMap;

use crate::data::Datasets;
use crate::diag::{Diagnostic, Diagnostics};
use crate::source::SourceMap;

/// A date as the data writes it (`2026`, `2026-04`, `2026-04-30`), to the month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Month {
    pub year: i32,
    pub month: u32,
}

impl Month {
    /// Reads `2026`, `2026-04` or `2026-04-30` (a year alone counts from its December, the
    /// latest it can mean, so a year is never judged older than it is).
    pub fn parse(text: &str) -> Option<Month> {
        let mut parts = text.trim().splitn(3, '-');
        let year: i32 = parts.next()?.parse().ok()?;
        let month = match parts.next() {
            Some(m) => m.parse().ok().filter(|m| (1..=12).contains(m))?,
            None => 12,
        };
        if let Some(day) = parts.next() {
            day.parse::<u32>().ok().filter(|d| (1..=31).contains(d))?;
        }
        (1000..=9999)
            .contains(&year)
            .then_some(Month { year, month })
    }

    /// The month of a Unix time (for `SOURCE_DATE_EPOCH`).
    pub fn from_unix(seconds: i64) -> Month {
        // Civil-from-days (Howard Hinnant's algorithm).
        let days = seconds.div_euclid(86_400);
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Month { year, month }
    }

    /// Whole months from `self` to `later` (0 if `later` is not later).
    pub fn months_until(self, later: Month) -> u32 {
        let m = (later.year - self.year) * 12 + later.month as i32 - self.month as i32;
        m.max(0) as u32
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// Reads a maximum age: `12 months`, `1 year`, `18 months`, `2 years`.
pub fn parse_age(text: &str) -> Result<u32, String> {
    let text = text.trim();
    let (n, unit) = text.split_once(' ').unwrap_or((text, ""));
    let n: u32 = n.parse().map_err(|_| age_help(text))?;
    match unit.trim() {
        "month" | "months" => Ok(n),
        "year" | "years" => Ok(n * 12),
        _ => Err(age_help(text)),
    }
}

fn age_help(text: &str) -> String {
    format!("`{text}` is not an age: write a number of months or years, such as `12 months` or `1 year`")
}

/// Why one input is stale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stale {
    /// The date it was last confirmed, as written.
    pub as_of: String,
    /// Its age in whole months, and the most allowed.
    pub months: u32,
    pub limit: u32,
}

impl Stale {
    /// `last confirmed 2026-04, 8 months before 2026-12, more than the 6 allowed`.
    pub fn describe(&self, today: Month) -> String {
        format!(
            "last confirmed {}, {} months before {today}, more than the {} allowed",
            self.as_of, self.months, self.limit
        )
    }
}

/// Which inputs are stale, by column and by parameter.
#[derive(Debug, Clone, Default)]
pub struct Staleness {
    /// The date ages are measured against, if the wiki states one.
    pub today: Option<Month>,
    pub columns: HashMap<(usize, usize), Stale>,
    pub globals: HashMap<usize, Stale>,
}

impl Staleness {
    /// Whether anything is stale.
    pub fn is_empty(&self) -> bool {
        self.columns.is_empty() && self.globals.is_empty()
    }

    /// What a page says about a stale input, if it is one.
    pub fn note(&self, stale: &Stale) -> String {
        match self.today {
            Some(today) => stale.describe(today),
            None => format!("last confirmed {}", stale.as_of),
        }
    }
}

/// Finds the stale inputs. `default` is the wiki's `stale_after` in months; a dataset's own
/// `stale_after` replaces it. An as-of date that cannot be read is an error when an age applies.
pub fn assess(
    data: &Datasets,
    today: Option<Month>,
    default: Option<u32>,
    sources: &SourceMap,
) -> (Staleness, Diagnostics) {
    let mut out = Staleness {
        today,
        ..Staleness::default()
    };
    let mut diags = Diagnostics::default();
    let Some(today) = today else {
        return (out, diags);
    };
    let mut read = |as_of: &str, pos: crate::source::Pos| -> Option<Month> {
        let month = Month::parse(as_of);
        if month.is_none() {
            diags.push(
                Diagnostic::error(format!("`as_of: {as_of}` is not a date driftless can read"))
                    .at(sources, pos)
                    .help("write the month the values were last confirmed: `2026-04` (or `2026-04-30`, `2026`)"),
            );
        }
        month
    };
    let judge = |as_of: &str, month: Month, limit: u32| {
        let months = month.months_until(today);
        (months > limit).then(|| Stale {
            as_of: as_of.to_string(),
            months,
            limit,
        })
    };
    for (di, d) in data.datasets.iter().enumerate() {
        let Some(limit) = d.meta.stale_after.or(default) else {
            continue;
        };
        let own = d.meta.as_of.as_ref().and_then(|a| {
            let pos = d.meta.as_of_pos.unwrap_or(d.pos);
            read(a, pos).map(|m| (a.as_str(), m))
        });
        for (ci, c) in d.columns.iter().enumerate() {
            let f = &c.field;
            // Numbers go stale (prices, speeds); names and references do not.
            if f.is_derived() || !f.ty.is_numeric() || d.is_printed_column(&f.name) {
                continue;
            }
            let date = match &f.as_of {
                Some(a) => read(a, f.pos).map(|m| (a.as_str(), m)),
                None => own,
            };
            if let Some(s) = date.and_then(|(a, m)| judge(a, m, limit)) {
                out.columns.insert((di, ci), s);
            }
        }
    }
    for (gi, g) in data.globals.iter().enumerate() {
        let (Some(limit), Some(a)) = (default, &g.field.as_of) else {
            continue;
        };
        if g.field.is_derived() || !g.field.ty.is_numeric() {
            continue;
        }
        if let Some(s) = read(a, g.field.pos).and_then(|m| judge(a, m, limit)) {
            out.globals.insert(gi, s);
        }
    }
    (out, diags)
}

/// `check`'s findings: one per stale column or parameter (warnings; errors under `--strict`).
pub fn findings(data: &Datasets, stale: &Staleness, sources: &SourceMap) -> Diagnostics {
    let mut diags = Diagnostics::default();
    let mut columns: Vec<_> = stale.columns.iter().collect();
    columns.sort_by_key(|(k, _)| **k);
    for (&(di, ci), s) in columns {
        let d = &data.datasets[di];
        let f = &d.columns[ci].field;
        diags.push(
            Diagnostic::warning(format!(
                "stale input: `{}.{}` was {}",
                d.name,
                f.name,
                stale.note(s)
            ))
            .at(sources, f.pos)
            .help("confirm the values and update the dataset's `as_of:`, or allow more with `stale_after:`"),
        );
    }
    let mut globals: Vec<_> = stale.globals.iter().collect();
    globals.sort_by_key(|(k, _)| **k);
    for (&gi, s) in globals {
        let f = &data.globals[gi].field;
        diags.push(
            Diagnostic::warning(format!("stale input: `{}` was {}", f.name, stale.note(s)))
                .at(sources, f.pos)
                .help(
                    "confirm the value and update its `as_of:`, or allow more with `stale_after:`",
                ),
        );
    }
    diags
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_and_ages() {
        let apr = Month::parse("2026-04").unwrap();
        assert_eq!(apr, Month::parse("2026-04-30").unwrap());
        assert_eq!(
            Month::parse("2025").unwrap(),
            Month {
                year: 2025,
                month: 12
            }
        );
        assert_eq!(Month::parse("2026-13"), None);
        assert_eq!(Month::parse("April 2026"), None);
        assert_eq!(apr.months_until(Month::parse("2026-12").unwrap()), 8);
        assert_eq!(apr.months_until(Month::parse("2025-12").unwrap()), 0);
        // 2026-12-03T00:00:00Z
        assert_eq!(
            Month::from_unix(1_796_256_000),
            Month {
                year: 2026,
                month: 12
            }
        );
        assert_eq!(
            Month::from_unix(0),
            Month {
                year: 1970,
                month: 1
            }
        );
        assert_eq!(parse_age("12 months"), Ok(12));
        assert_eq!(parse_age("1 year"), Ok(12));
        assert!(parse_age("a while").is_err());
        assert!(parse_age("90 days").is_err());
    }
}
