//! Number formatting: the one place numbers become text. Displayed numbers use English style
//! (`1,792.5`), rounded half away from zero on the decimal digits of the value's shortest
//! representation, so `2.675` to two decimals is `2.68`; quantities add their unit (`1,792 GB/s`,
//! `47%`, `2.8x`, `$8,500`, `EUR 0.134/MTok`); `format_plain` writes numbers for lock files and
//! exports.

/// Shown for a missing value (and for a value that is not finite).
pub const MISSING: &str = "–";

/// The most decimals any number is shown with; larger requests are clamped.
const MAX_DECIMALS: usize = 20;
/// The most decimals `default_decimals` chooses.
const MAX_DEFAULT_DECIMALS: usize = 6;
/// Significant digits kept by `format_plain`.
const PLAIN_DIGITS: usize = 10;
/// Significant digits a displayed number is first rounded to, below which a float's digits are
/// noise from arithmetic: a unit conversion can turn the tie 0.6875 into 0.68749999999999994,
/// which must still show as 0.688.
const DISPLAY_DIGITS: i64 = 15;

/// The decimal digits of a non-negative number: its value is `0.d0 d1 d2 ... * 10^point`.
/// Zero has no digits.
#[derive(Clone, Debug, PartialEq)]
struct Digits {
    digits: Vec<u8>,
    point: i64,
}

impl Digits {
    /// The digits of the shortest representation that reads back as `value.abs()`.
    fn of(value: f64) -> Digits {
        // `{:e}` prints the shortest round-trip digits: `1.792e3`, `2.675e0`, `1e-7`.
        let text = format!("{:e}", value.abs());
        let (mantissa, exp) = text.split_once('e').unwrap_or((text.as_str(), "0"));
        let exp: i64 = exp.parse().unwrap_or(0);
        let mut digits: Vec<u8> = mantissa
            .bytes()
            .filter(u8::is_ascii_digit)
            .map(|b| b - b'0')
            .collect();
        // Leading zeros only occur for zero itself.
        let leading = digits.iter().take_while(|d| **d == 0).count();
        digits.drain(..leading);
        if digits.is_empty() {
            return Digits { digits, point: 0 };
        }
        let mut d = Digits {
            digits,
            point: exp + 1,
        };
        d.trim();
        d
    }

    fn is_zero(&self) -> bool {
        self.digits.is_empty()
    }

    fn trim(&mut self) {
        while self.digits.last() == Some(&0) {
            self.digits.pop();
        }
        if self.digits.is_empty() {
            self.point = 0;
        }
    }

    /// Keeps the first `keep` digits, rounding half away from zero on the next one.
    fn round_to_digits(&mut self, keep: i64) {
        let len = self.digits.len() as i64;
        if keep >= len {
            return;
        }
        if keep < 0 {
            self.digits.clear();
            self.trim();
            return;
        }
        let keep = keep as usize;
        let up = self.digits[keep] >= 5;
        self.digits.truncate(keep);
        if up {
            let mut carry = true;
            for d in self.digits.iter_mut().rev() {
                if *d == 9 {
                    *d = 0;
                } else {
                    *d += 1;
                    carry = false;
                    break;
                }
            }
            if carry {
                self.digits.insert(0, 1);
                self.point += 1;
            }
        }
        self.trim();
    }

    /// Rounds to `decimals` places after the decimal point.
    fn round_to_decimals(&mut self, decimals: usize) {
        if !self.is_zero() {
            self.round_to_digits(self.point.saturating_add(decimals as i64));
        }
    }

    /// The digit at an index into `digits`, 0 outside them; the first `point` indices are
    /// the integer part.
    fn digit_at(&self, index: i64) -> u8 {
        if index < 0 {
            return 0;
        }
        self.digits.get(index as usize).copied().unwrap_or(0)
    }

    /// The integer part's digits, without separators (`"0"` when there are none).
    fn integer_part(&self) -> String {
        if self.point <= 0 {
            return "0".to_string();
        }
        (0..self.point)
            .map(|i| char::from(b'0' + self.digit_at(i)))
            .collect()
    }

    /// Exactly `decimals` fractional digits.
    fn fraction_part(&self, decimals: usize) -> String {
        (0..decimals as i64)
            .map(|i| char::from(b'0' + self.digit_at(self.point + i)))
            .collect()
    }
}

/// Inserts a comma between every group of three digits of an integer digit string.
fn group_thousands(int: &str) -> String {
    let mut out = String::with_capacity(int.len() + int.len() / 3);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Formats a number in English style with `decimals` places: `1,792`, `0.134`, `-1,234.5`;
/// rounds half away from zero, never shows `-0`, and shows [`MISSING`] for a non-finite value.
pub fn format_number(value: f64, decimals: usize) -> String {
    if !value.is_finite() {
        return MISSING.to_string();
    }
    let decimals = decimals.min(MAX_DECIMALS);
    let mut d = Digits::of(value);
    d.round_to_digits(DISPLAY_DIGITS);
    d.round_to_decimals(decimals);
    let mut out = String::new();
    if value < 0.0 && !d.is_zero() {
        out.push('-');
    }
    out.push_str(&group_thousands(&d.integer_part()));
    if decimals > 0 {
        out.push('.');
        out.push_str(&d.fraction_part(decimals));
    }
    out
}

/// The fewest decimals that show a value to 3 significant digits, at most 6: `1792` -> 0,
/// `12.34` -> 1, `0.1344` -> 3, `0.15` -> 2, `0.000123` -> 6, `0` -> 0.
pub fn default_decimals(value: f64) -> usize {
    if !value.is_finite() {
        return 0;
    }
    let mut d = Digits::of(value);
    d.round_to_digits(DISPLAY_DIGITS);
    d.round_to_digits(3);
    if d.is_zero() {
        return 0;
    }
    let fraction = (d.digits.len() as i64).saturating_sub(d.point).max(0);
    usize::try_from(fraction)
        .unwrap_or(MAX_DEFAULT_DECIMALS)
        .min(MAX_DEFAULT_DECIMALS)
}

/// How a quantity's unit attaches to its number.
enum Style<'a> {
    /// No unit.
    Bare,
    /// Glued after the number: `%`, `x`.
    Suffix(&'a str),
    /// A currency before the number and the rest of the unit after it: `$`/`/MTok`.
    Currency { sign: &'a str, rest: String },
    /// After the number and a space: `GB/s`.
    Spaced(&'a str),
}

fn style<'a>(unit_symbol: &'a str, currency: Option<&'a str>) -> Style<'a> {
    let unit = unit_symbol.trim();
    match unit {
        "" => return Style::Bare,
        "%" | "x" => return Style::Suffix(unit),
        _ => {}
    }
    if let Some(code) = currency {
        let spellings: &[&str] = match code {
            "EUR" => &["EUR", "€"],
            "USD" => &["USD", "$"],
            _ => &[],
        };
        let rest = spellings
            .iter()
            .chain(std::iter::once(&code))
            .find_map(|s| unit.strip_prefix(s))
            .map(str::trim_start)
            .filter(|rest| rest.is_empty() || rest.starts_with('/'));
        if let Some(rest) = rest {
            let sign = if code == "USD" { "$" } else { code };
            let rest = rest.chars().filter(|c| !c.is_whitespace()).collect();
            return Style::Currency { sign, rest };
        }
    }
    Style::Spaced(unit)
}

/// Units written as English words, shown in the plural for any number but one.
const WORD_UNITS: &[&str] = &["year", "week", "day", "tonne"];

/// Attaches a unit to an already formatted number (or range of numbers).
fn attach(number: &str, style: &Style<'_>) -> String {
    match style {
        Style::Bare => number.to_string(),
        Style::Suffix(s) => format!("{number}{s}"),
        // A unit that is a word takes the plural unless the number is one: `1 year`, `4.5 years`.
        Style::Spaced(s) if WORD_UNITS.contains(s) && number != "1" => format!("{number} {s}s"),
        Style::Spaced(s) => format!("{number} {s}"),
        Style::Currency { sign: "$", rest } => match number.strip_prefix('-') {
            Some(abs) => format!("-${abs}{rest}"),
            None => format!("${number}{rest}"),
        },
        Style::Currency { sign, rest } => format!("{sign} {number}{rest}"),
    }
}

/// Formats a value already expressed in `unit_symbol`: `1,792`, `47%`, `2.8x`, `1,792 GB/s`;
/// with a currency (from `Unit::currency`): `$8,500`, `$0.04/MTok`, `-$5`, `EUR 7,800`,
/// `EUR 0.134/MTok`, `EUR -5`.
pub fn format_quantity(
    value: f64,
    unit_symbol: &str,
    currency: Option<&str>,
    decimals: usize,
) -> String {
    if !value.is_finite() {
        return MISSING.to_string();
    }
    attach(
        &format_number(value, decimals),
        &style(unit_symbol, currency),
    )
}

/// Formats a range with the unit once: `4-5 tok/s`, `$1,600-2,200`, `EUR 2,000-3,000`,
/// `10-20%`, `1.8-5.2x`; when an end is negative, the ends are joined by ` to ` instead, and
/// a currency is shown on both (`-5 to -3 tok/s`, `-$5 to $3`, `EUR -5 to EUR 3`).
pub fn format_range(
    low: f64,
    high: f64,
    unit_symbol: &str,
    currency: Option<&str>,
    decimals: usize,
) -> String {
    if !low.is_finite() || !high.is_finite() {
        return MISSING.to_string();
    }
    let (lo, hi) = (format_number(low, decimals), format_number(high, decimals));
    let style = style(unit_symbol, currency);
    if !lo.starts_with('-') && !hi.starts_with('-') {
        return attach(&format!("{lo}-{hi}"), &style);
    }
    match style {
        Style::Currency { .. } => format!("{} to {}", attach(&lo, &style), attach(&hi, &style)),
        _ => attach(&format!("{lo} to {hi}"), &style),
    }
}

/// Formats a number for lock files and CSV/JSON exports: rounded to 10 significant digits,
/// the shortest text that reads back as that, no thousands separator, no exponent from 1e-6
/// up to 1e15 (`0.1344`, `1792`, `2592000`, otherwise `1.5e-7`, `2e20`), never `-0`.
pub fn format_plain(value: f64) -> String {
    if !value.is_finite() {
        return MISSING.to_string();
    }
    let mut d = Digits::of(value);
    d.round_to_digits(PLAIN_DIGITS as i64);
    if d.is_zero() {
        return "0".to_string();
    }
    let sign = if value < 0.0 { "-" } else { "" };
    let digits: String = d.digits.iter().map(|x| char::from(b'0' + x)).collect();
    let len = d.digits.len() as i64;
    // 1e-6 <= |v| < 1e15  <=>  -5 <= point <= 15
    if (-5..=15).contains(&d.point) {
        let body = if d.point <= 0 {
            format!("0.{}{digits}", "0".repeat(d.point.unsigned_abs() as usize))
        } else if d.point >= len {
            format!("{digits}{}", "0".repeat((d.point - len) as usize))
        } else {
            let (int, frac) = digits.split_at(d.point as usize);
            format!("{int}.{frac}")
        };
        return format!("{sign}{body}");
    }
    let (first, rest) = digits.split_at(1);
    let exp = d.point - 1;
    if rest.is_empty() {
        format!("{sign}{first}e{exp}")
    } else {
        format!("{sign}{first}.{rest}e{exp}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::Unit;

    const CASES: &str = include_str!("../tests/cases/format.txt");

    fn number(s: &str) -> Result<f64, String> {
        s.trim()
            .parse::<f64>()
            .map_err(|_| format!("bad number {s:?}"))
    }

    fn run_case(line: &str) -> Result<(), String> {
        let (lhs, expect) = line
            .rsplit_once("=>")
            .map(|(a, b)| (a.trim(), b.trim()))
            .ok_or("missing `=>`")?;
        let got = if let Some(v) = lhs.strip_prefix("plain ") {
            format_plain(number(v)?)
        } else if let Some(v) = lhs.strip_prefix("decimals ") {
            default_decimals(number(v)?).to_string()
        } else {
            // `value | unit | decimals`, value may be a range `low..high`, decimals may be
            // `auto` (default_decimals of the value, or of the range's low end).
            let parts: Vec<&str> = lhs.split('|').map(str::trim).collect();
            let [value, unit, decimals] = parts[..] else {
                return Err("expected `value | unit | decimals`".into());
            };
            let parsed = Unit::parse(unit).map_err(|e| format!("unit {unit:?}: {e}"))?;
            let currency = parsed.currency();
            let range = match value.split_once("..") {
                Some((lo, hi)) => Some((number(lo)?, number(hi)?)),
                None => None,
            };
            let first = match range {
                Some((lo, _)) => lo,
                None => number(value)?,
            };
            let decimals = match decimals {
                "auto" => default_decimals(first),
                d => d.parse().map_err(|_| format!("bad decimals {d:?}"))?,
            };
            match range {
                Some((lo, hi)) => format_range(lo, hi, unit, currency, decimals),
                None => format_quantity(first, unit, currency, decimals),
            }
        };
        if got == expect {
            Ok(())
        } else {
            Err(format!("got {got:?}, expected {expect:?}"))
        }
    }

    #[test]
    fn case_file() {
        let mut failures = Vec::new();
        let mut count = 0;
        for (i, line) in CASES.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            count += 1;
            if let Err(why) = run_case(line) {
                failures.push(format!("format.txt:{}: {line}: {why}", i + 1));
            }
        }
        assert!(count >= 40, "only {count} format cases");
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn numbers() {
        assert_eq!(format_number(1792.0, 0), "1,792");
        assert_eq!(format_number(0.1344, 3), "0.134");
        assert_eq!(format_number(-1234.5, 1), "-1,234.5");
        assert_eq!(format_number(2.675, 2), "2.68");
        assert_eq!(format_number(0.125, 2), "0.13");
        assert_eq!(format_number(-0.125, 2), "-0.13");
        assert_eq!(format_number(-0.0, 2), "0.00");
        assert_eq!(format_number(-0.004, 2), "0.00");
        assert_eq!(format_number(999.5, 0), "1,000");
        assert_eq!(format_number(0.5, 0), "1");
        assert_eq!(format_number(0.49, 0), "0");
        assert_eq!(format_number(f64::NAN, 2), MISSING);
        assert_eq!(format_number(f64::INFINITY, 0), MISSING);
        assert_eq!(format_number(1.0, usize::MAX).len(), 2 + MAX_DECIMALS);
        assert_eq!(format_number(1e21, 0), "1,000,000,000,000,000,000,000");
        assert_eq!(format_number(f64::MAX, 0).len(), 309 + 102);
        assert_eq!(format_number(f64::MIN_POSITIVE, 3), "0.000");
        assert_eq!(format_number(5e-324, 0), "0");
    }

    #[test]
    fn defaults() {
        assert_eq!(default_decimals(1792.0), 0);
        assert_eq!(default_decimals(12.34), 1);
        assert_eq!(default_decimals(0.1344), 3);
        assert_eq!(default_decimals(0.000123), 6);
        assert_eq!(default_decimals(0.0), 0);
        assert_eq!(default_decimals(99.96), 0);
        assert_eq!(default_decimals(f64::NAN), 0);
        assert_eq!(default_decimals(1e-300), 6);
    }

    #[test]
    fn plain() {
        assert_eq!(format_plain(0.1344), "0.1344");
        assert_eq!(format_plain(1792.0), "1792");
        assert_eq!(format_plain(-0.0), "0");
        assert_eq!(format_plain(0.1 + 0.2), "0.3");
        assert_eq!(format_plain(f64::NAN), MISSING);
        for v in [
            0.1344, 2592000.0, 1.5e-7, 2e20, -3.25, 123456.789, 1e-6, 9.99e14,
        ] {
            assert_eq!(format_plain(v).parse::<f64>(), Ok(v), "{v}");
        }
    }

    #[test]
    fn quantities_without_currency_are_spaced() {
        assert_eq!(format_quantity(5.0, "USD", None, 0), "5 USD");
        assert_eq!(
            format_quantity(5.0, "1/kWh*EUR", Some("EUR"), 0),
            "5 1/kWh*EUR"
        );
        assert_eq!(format_quantity(5.0, "EUR*h", Some("EUR"), 0), "5 EUR*h");
        assert_eq!(
            format_quantity(5.0, "EUR / kWh", Some("EUR"), 0),
            "EUR 5/kWh"
        );
        assert_eq!(format_quantity(f64::NAN, "GB", None, 0), MISSING);
        assert_eq!(format_range(1.0, f64::NAN, "GB", None, 0), MISSING);
    }
}
