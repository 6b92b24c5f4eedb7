//! Physical units: parsing unit text such as `EUR/kWh` or `GB/s`, the dimension of every unit
//! (exponents of the seven base dimensions), the factor that converts it to base units, and the
//! composition of units under multiplication and division. Nothing here formats numbers; that is
//! `format.rs`.

use std::fmt;

/// Names of the base dimensions, in the order of [`Dim`]'s exponents.
const BASE_NAMES: [&str; 9] = ["s", "J", "B", "tok", "param", "EUR", "USD", "m", "g"];

const TIME: usize = 0;
const ENERGY: usize = 1;
const DATA: usize = 2;
const TOKENS: usize = 3;
const PARAMS: usize = 4;
const EUR: usize = 5;
const USD: usize = 6;
const LENGTH: usize = 7;
const MASS: usize = 8;

/// The largest power (in absolute value) a unit may carry, per atom and per base dimension.
const MAX_POWER: i32 = 16;
/// The deepest nesting of parentheses a unit may use.
const MAX_DEPTH: usize = 16;

/// The list of unit families, appended to the help of an unknown unit.
const FAMILIES: &str = "known units: time s, min, h, day, week, year; energy J, Wh, W (kWh, MW, \
     mW); data B, bit (kB, MB, GB, TB, KiB, MiB, GiB); tokens tok, Tok, t (ktok, MTok, Btok); \
     model weights param (Mparam, Bparam); money EUR, USD; length m (km, cm, mm; m^2 for an \
     area); volume L, mL; mass g, kg, tonne; plain %, x";

/// A dimension: the exponents of the base dimensions time `s`, energy `J`, data `B`, tokens
/// `tok`, model weights `param`, `EUR` and `USD`, in that order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Dim(pub [i8; 9]);

impl Dim {
    /// The dimension of a plain number.
    pub const NONE: Dim = Dim([0; 9]);

    /// The dimension of a product (exponents saturate at the `i8` range).
    pub fn times(self, o: Dim) -> Dim {
        let mut out = self.0;
        for (e, oe) in out.iter_mut().zip(o.0) {
            *e = e.saturating_add(oe);
        }
        Dim(out)
    }

    /// The dimension of a quotient (exponents saturate at the `i8` range).
    pub fn per(self, o: Dim) -> Dim {
        let mut out = self.0;
        for (e, oe) in out.iter_mut().zip(o.0) {
            *e = e.saturating_sub(oe);
        }
        Dim(out)
    }

    /// The dimension raised to an integer power (exponents saturate at the `i8` range).
    pub fn powi(self, n: i32) -> Dim {
        let mut out = self.0;
        for e in out.iter_mut() {
            let v = i32::from(*e).saturating_mul(n);
            *e = i8::try_from(v).unwrap_or(if v < 0 { i8::MIN } else { i8::MAX });
        }
        Dim(out)
    }

    /// True for the dimension of a plain number.
    pub fn is_none(self) -> bool {
        self == Dim::NONE
    }

    /// A canonical text in base units for error messages: `J/s`, `EUR/J`, `B`, `1/s`,
    /// `EUR/(J*s)`, and `1` for a plain number.
    pub fn describe(self) -> String {
        let list: Vec<(&str, i32)> = BASE_NAMES
            .iter()
            .zip(self.0)
            .map(|(name, e)| (*name, i32::from(e)))
            .collect();
        match render(&list).as_str() {
            "" => "1".to_string(),
            text => text.to_string(),
        }
    }
}

/// A unit: a dimension, the number of base units one of it is, and its text as written.
#[derive(Clone, Debug, PartialEq)]
pub struct Unit {
    /// The dimension.
    pub dim: Dim,
    /// How many base units one of this unit is: 3.6e6 for `kWh`, 1e9 for `GB`, 0.01 for `%`.
    pub factor: f64,
    /// The unit as the user wrote it, trimmed; `""` for a plain number.
    pub symbol: String,
}

/// Why a unit text could not be parsed.
#[derive(Clone, Debug, PartialEq)]
pub struct UnitError {
    /// What is wrong, naming the offending part.
    pub message: String,
    /// Byte offset in the unit text where the problem is.
    pub offset: usize,
    /// A suggestion for fixing it, if there is one.
    pub help: Option<String>,
}

impl fmt::Display for UnitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(help) = &self.help {
            write!(f, " (help: {help})")?;
        }
        Ok(())
    }
}

impl std::error::Error for UnitError {}

impl Unit {
    /// Parses a unit text such as `EUR/kWh`, `GB/s`, `W*h`, `s^-1` or `tok/(s*GB)`; an empty
    /// text or `1` is a plain number.
    pub fn parse(text: &str) -> Result<Unit, UnitError> {
        let factors = parse_factors(text)?;
        let mut sums = [0i32; 9];
        let mut factor = 1.0f64;
        for f in &factors {
            for (sum, e) in sums.iter_mut().zip(f.dim.0) {
                *sum = sum.saturating_add(i32::from(e).saturating_mul(f.exp));
            }
            factor *= f.scale.powi(f.exp);
        }
        let trimmed = text.trim();
        let start = text.len() - text.trim_start().len();
        if let Some((i, e)) = sums.iter().enumerate().find(|(_, e)| e.abs() > MAX_POWER) {
            return Err(UnitError {
                message: format!(
                    "unit `{trimmed}` has `{}` to the power {e}, beyond the limit of {MAX_POWER}",
                    BASE_NAMES[i]
                ),
                offset: start,
                help: None,
            });
        }
        if !factor.is_finite() || factor <= 0.0 {
            return Err(UnitError {
                message: format!("unit `{trimmed}` is too large or too small"),
                offset: start,
                help: None,
            });
        }
        let mut dim = Dim::NONE;
        for (d, s) in dim.0.iter_mut().zip(sums) {
            // In range: checked against MAX_POWER above.
            *d = i8::try_from(s).unwrap_or(0);
        }
        let symbol = if trimmed == "1" { "" } else { trimmed };
        Ok(Unit {
            dim,
            factor,
            symbol: symbol.to_string(),
        })
    }

    /// The unit of a plain number: no dimension, factor 1, empty symbol.
    pub fn one() -> Unit {
        Unit {
            dim: Dim::NONE,
            factor: 1.0,
            symbol: String::new(),
        }
    }

    /// True when values of the two units convert into each other (same dimension).
    pub fn is_compatible(&self, other: &Unit) -> bool {
        self.dim == other.dim
    }

    /// The unit of a product, with a readable composed symbol (`W*h`; `EUR/kWh` times `kWh`
    /// is `EUR`).
    pub fn mul(&self, o: &Unit) -> Unit {
        compose(self, o, false)
    }

    /// The unit of a quotient, with a readable composed symbol (`EUR` by `kWh` is `EUR/kWh`).
    pub fn div(&self, o: &Unit) -> Unit {
        compose(self, o, true)
    }

    /// `"EUR"` or `"USD"` when the numerator of the dimension is exactly that one currency to
    /// the power 1 (`EUR`, `EUR/MTok`, `EUR/kWh`, `USD/MTok`); used for display.
    pub fn currency(&self) -> Option<&'static str> {
        let numerator_is = |index: usize| {
            self.dim
                .0
                .iter()
                .enumerate()
                .all(|(i, &e)| if i == index { e == 1 } else { e <= 0 })
        };
        if numerator_is(EUR) {
            Some("EUR")
        } else if numerator_is(USD) {
            Some("USD")
        } else {
            None
        }
    }
}

/// One atom of a parsed unit with its accumulated power.
#[derive(Clone, Debug)]
struct Factor {
    /// The atom as written (`kWh`, `€`).
    name: String,
    dim: Dim,
    /// Base units per one of the atom.
    scale: f64,
    exp: i32,
}

/// Composes the units of a product or quotient.
fn compose(a: &Unit, b: &Unit, divide: bool) -> Unit {
    let (dim, factor) = if divide {
        (a.dim.per(b.dim), a.factor / b.factor)
    } else {
        (a.dim.times(b.dim), a.factor * b.factor)
    };
    let (symbol, factor) = match (parse_factors(&a.symbol), parse_factors(&b.symbol)) {
        (Ok(fa), Ok(fb)) => {
            let mut merged: Vec<Factor> = Vec::new();
            let sign = if divide { -1 } else { 1 };
            let all = fa
                .into_iter()
                .map(|f| (f, 1))
                .chain(fb.into_iter().map(|f| (f, sign)));
            for (f, s) in all {
                // `x` marks a ratio for display; in a product it means nothing.
                if f.name == "x" {
                    continue;
                }
                let exp = f.exp.saturating_mul(s);
                match merged.iter_mut().find(|m| m.name == f.name) {
                    Some(m) => m.exp = m.exp.saturating_add(exp),
                    None => merged.push(Factor { exp, ..f }),
                }
            }
            merged.retain(|m| m.exp != 0);
            let exact: f64 = merged.iter().map(|m| m.scale.powi(m.exp)).product();
            // The factor recomputed from the cancelled atoms is exact where `a * b` may be off
            // by a rounding error (`EUR/kWh * kWh`); keep it when both agree.
            let factor = if ((exact / factor) - 1.0).abs() < 1e-9 {
                exact
            } else {
                factor
            };
            let list: Vec<(&str, i32)> = merged.iter().map(|m| (m.name.as_str(), m.exp)).collect();
            (render(&list), factor)
        }
        _ => (concat_symbols(&a.symbol, &b.symbol, divide), factor),
    };
    Unit {
        dim,
        factor,
        symbol,
    }
}

/// Joins two symbols textually, for symbols that do not parse.
fn concat_symbols(a: &str, b: &str, divide: bool) -> String {
    let wrapped = if b.contains(['*', '/']) {
        format!("({b})")
    } else {
        b.to_string()
    };
    match (a.is_empty(), b.is_empty(), divide) {
        (_, true, _) => a.to_string(),
        (true, false, false) => b.to_string(),
        (true, false, true) => format!("1/{wrapped}"),
        (false, false, false) => format!("{a}*{b}"),
        (false, false, true) => format!("{a}/{wrapped}"),
    }
}

/// Renders atoms with powers: numerator first, then `/x` or `/(x*y)`; `1/x` when the
/// numerator is empty; `""` when both are.
fn render(list: &[(&str, i32)]) -> String {
    let power = |name: &str, e: i32| {
        if e == 1 {
            name.to_string()
        } else {
            format!("{name}^{e}")
        }
    };
    let num: Vec<String> = list
        .iter()
        .filter(|(_, e)| *e > 0)
        .map(|(n, e)| power(n, *e))
        .collect();
    let den: Vec<String> = list
        .iter()
        .filter(|(_, e)| *e < 0)
        .map(|(n, e)| power(n, e.saturating_neg()))
        .collect();
    let mut out = if num.is_empty() && !den.is_empty() {
        "1".to_string()
    } else {
        num.join("*")
    };
    match den.len() {
        0 => {}
        1 => {
            out.push('/');
            out.push_str(&den[0]);
        }
        _ => {
            out.push_str("/(");
            out.push_str(&den.join("*"));
            out.push(')');
        }
    }
    out
}

fn dim1(index: usize) -> Dim {
    let mut d = Dim::NONE;
    d.0[index] = 1;
    d
}

/// Prefixes with their multipliers.
type Prefixes = &'static [(&'static str, f64)];

/// The atoms that take prefixes, with the prefixes each family takes.
const PREFIXED: &[(&[&str], Prefixes)] = &[
    (
        &["Wh", "W", "J"],
        &[("k", 1e3), ("M", 1e6), ("G", 1e9), ("T", 1e12), ("m", 1e-3)],
    ),
    (
        &["B", "bit"],
        &[
            ("k", 1e3),
            ("K", 1e3),
            ("M", 1e6),
            ("G", 1e9),
            ("T", 1e12),
            ("P", 1e15),
            ("Ki", 1024.0),
            ("Mi", 1_048_576.0),
            ("Gi", 1_073_741_824.0),
            ("Ti", 1_099_511_627_776.0),
        ],
    ),
    (
        &["tok", "Tok"],
        &[("k", 1e3), ("K", 1e3), ("M", 1e6), ("G", 1e9), ("B", 1e9)],
    ),
    (&["param"], &[("M", 1e6), ("G", 1e9), ("B", 1e9)]),
    (&["m"], &[("k", 1e3), ("c", 1e-2), ("m", 1e-3)]),
    (&["g"], &[("k", 1e3), ("m", 1e-3)]),
    (&["L"], &[("m", 1e-3)]),
];

/// Looks up an atom: exact names first, then prefix + atom.
fn lookup(name: &str) -> Option<(Dim, f64)> {
    let power = dim1(ENERGY).per(dim1(TIME));
    let exact = match name {
        "s" => Some((dim1(TIME), 1.0)),
        "min" => Some((dim1(TIME), 60.0)),
        "h" => Some((dim1(TIME), 3600.0)),
        "day" => Some((dim1(TIME), 86_400.0)),
        "week" => Some((dim1(TIME), 604_800.0)),
        "year" => Some((dim1(TIME), 31_536_000.0)),
        "J" => Some((dim1(ENERGY), 1.0)),
        "Wh" => Some((dim1(ENERGY), 3600.0)),
        "W" => Some((power, 1.0)),
        "B" => Some((dim1(DATA), 1.0)),
        "bit" => Some((dim1(DATA), 0.125)),
        "tok" | "Tok" | "t" => Some((dim1(TOKENS), 1.0)),
        "param" => Some((dim1(PARAMS), 1.0)),
        "EUR" | "€" => Some((dim1(EUR), 1.0)),
        "USD" | "$" => Some((dim1(USD), 1.0)),
        "%" => Some((Dim::NONE, 0.01)),
        "x" => Some((Dim::NONE, 1.0)),
        "m" => Some((dim1(LENGTH), 1.0)),
        "L" => Some((dim1(LENGTH).powi(3), 1e-3)),
        "g" => Some((dim1(MASS), 1.0)),
        "tonne" => Some((dim1(MASS), 1e6)),
        _ => None,
    };
    if exact.is_some() {
        return exact;
    }
    for (bases, prefixes) in PREFIXED {
        for base in *bases {
            let Some(prefix) = name.strip_suffix(base) else {
                continue;
            };
            let found = prefixes
                .iter()
                .find(|(p, _)| *p == prefix)
                .and_then(|(_, mult)| lookup(base).map(|(dim, scale)| (dim, scale * mult)));
            if found.is_some() {
                return found;
            }
        }
    }
    None
}

/// Well-known spellings that are not units, with the unit meant.
const ALIASES: &[(&str, &str)] = &[
    ("sec", "s"),
    ("secs", "s"),
    ("second", "s"),
    ("seconds", "s"),
    ("mins", "min"),
    ("minute", "min"),
    ("minutes", "min"),
    ("hr", "h"),
    ("hrs", "h"),
    ("hour", "h"),
    ("hours", "h"),
    ("d", "day"),
    ("days", "day"),
    ("weeks", "week"),
    ("yr", "year"),
    ("yrs", "year"),
    ("years", "year"),
    ("token", "tok"),
    ("tokens", "tok"),
    ("toks", "tok"),
    ("params", "param"),
    ("parameter", "param"),
    ("parameters", "param"),
    ("euro", "EUR"),
    ("euros", "EUR"),
    ("dollar", "USD"),
    ("dollars", "USD"),
    ("byte", "B"),
    ("bytes", "B"),
    ("bits", "bit"),
    ("watt", "W"),
    ("watts", "W"),
    ("joule", "J"),
    ("joules", "J"),
    ("percent", "%"),
    ("meter", "m"),
    ("meters", "m"),
    ("metre", "m"),
    ("metres", "m"),
    ("gram", "g"),
    ("grams", "g"),
    ("kilogram", "kg"),
    ("kilograms", "kg"),
    ("kilo", "kg"),
    ("kilos", "kg"),
    ("liter", "L"),
    ("liters", "L"),
    ("litre", "L"),
    ("litres", "L"),
    ("l", "L"),
    ("tonnes", "tonne"),
    ("ton", "tonne"),
    ("tons", "tonne"),
];

/// Units offered as suggestions for a misspelt atom.
const SUGGESTIONS: &[&str] = &[
    "s", "min", "h", "day", "week", "year", "J", "Wh", "W", "kWh", "MWh", "kW", "MW", "B", "bit",
    "kB", "MB", "GB", "TB", "PB", "KiB", "MiB", "GiB", "TiB", "tok", "ktok", "MTok", "Btok",
    "param", "Mparam", "Bparam", "EUR", "USD", "%", "x",
];

/// The closest known unit to a misspelt atom, if any is close.
fn suggest(name: &str) -> Option<&'static str> {
    let lower = name.to_lowercase();
    if let Some((_, unit)) = ALIASES.iter().find(|(alias, _)| *alias == lower) {
        return Some(unit);
    }
    if let Some(unit) = SUGGESTIONS.iter().find(|s| s.to_lowercase() == lower) {
        return Some(unit);
    }
    let len = name.chars().count();
    SUGGESTIONS
        .iter()
        .map(|s| (edit_distance(name, s), *s))
        .filter(|(d, s)| *d <= 2 && *d < len.max(s.chars().count()))
        .min_by_key(|(d, _)| *d)
        .map(|(_, s)| s)
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = Vec::with_capacity(b.len() + 1);
        cur.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            let v = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
            cur.push(v);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Atom,
    Number,
    Star,
    Slash,
    LParen,
    RParen,
    Caret,
    Minus,
    Plus,
}

#[derive(Clone, Copy, Debug)]
struct Token {
    kind: Kind,
    start: usize,
    end: usize,
}

fn tokenize(text: &str) -> Result<Vec<Token>, UnitError> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        let single = match c {
            '*' => Some(Kind::Star),
            '/' => Some(Kind::Slash),
            '(' => Some(Kind::LParen),
            ')' => Some(Kind::RParen),
            '^' => Some(Kind::Caret),
            '-' => Some(Kind::Minus),
            '+' => Some(Kind::Plus),
            '%' | '€' | '$' => Some(Kind::Atom),
            _ => None,
        };
        if let Some(kind) = single {
            let end = start + c.len_utf8();
            tokens.push(Token { kind, start, end });
            continue;
        }
        if c.is_whitespace() {
            continue;
        }
        let kind = if c.is_ascii_digit() || c == '.' {
            Kind::Number
        } else if c.is_alphabetic() || c == '_' {
            Kind::Atom
        } else {
            return Err(UnitError {
                message: format!("unexpected character `{c}` in unit"),
                offset: start,
                help: Some("a unit is made of units joined by `*` and `/`, e.g. `EUR/kWh`".into()),
            });
        };
        let mut end = start + c.len_utf8();
        while let Some(&(i, n)) = chars.peek() {
            let continues = match kind {
                Kind::Number => n.is_ascii_digit() || n == '.',
                _ => n.is_alphanumeric() || n == '_',
            };
            if !continues {
                break;
            }
            end = i + n.len_utf8();
            chars.next();
        }
        tokens.push(Token { kind, start, end });
    }
    Ok(tokens)
}

/// Parses a unit text into its atoms with powers.
fn parse_factors(text: &str) -> Result<Vec<Factor>, UnitError> {
    let tokens = tokenize(text)?;
    if tokens.is_empty() {
        return Ok(Vec::new());
    }
    let mut parser = Parser {
        text,
        tokens,
        pos: 0,
    };
    let factors = parser.expr(0)?;
    if let Some(tok) = parser.peek() {
        // `expr` stops only at the end or at a `)` it did not open.
        return Err(parser.error_at(tok, format!("unmatched `{}`", parser.slice(tok)), None));
    }
    Ok(factors)
}

struct Parser<'a> {
    text: &'a str,
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<Token> {
        self.tokens.get(self.pos).copied()
    }

    fn slice(&self, tok: Token) -> &str {
        self.text.get(tok.start..tok.end).unwrap_or("")
    }

    fn error_at(&self, tok: Token, message: String, help: Option<String>) -> UnitError {
        UnitError {
            message,
            offset: tok.start,
            help,
        }
    }

    /// An error at the end of the text, after the previous token.
    fn error_at_end(&self, what: &str) -> UnitError {
        let after = match self.pos.checked_sub(1).and_then(|i| self.tokens.get(i)) {
            Some(prev) => format!(" after `{}`", self.slice(*prev)),
            None => String::new(),
        };
        UnitError {
            message: format!("expected {what}{after}"),
            offset: self.text.trim_end().len(),
            help: None,
        }
    }

    /// expr := power (('*' | '/') power)*
    fn expr(&mut self, depth: usize) -> Result<Vec<Factor>, UnitError> {
        let mut out = self.power(depth)?;
        while let Some(tok) = self.peek() {
            match tok.kind {
                Kind::Star | Kind::Slash => {
                    self.pos += 1;
                    let mut next = self.power(depth)?;
                    if tok.kind == Kind::Slash {
                        for f in &mut next {
                            f.exp = f.exp.saturating_neg();
                        }
                    }
                    out.extend(next);
                }
                Kind::RParen => break,
                Kind::Atom | Kind::Number | Kind::LParen => {
                    let prev = self
                        .pos
                        .checked_sub(1)
                        .and_then(|i| self.tokens.get(i))
                        .map(|t| self.slice(*t).to_string())
                        .unwrap_or_default();
                    let this = self.slice(tok).to_string();
                    return Err(self.error_at(
                        tok,
                        format!("missing `*` or `/` between `{prev}` and `{this}`"),
                        Some(format!("write `{prev}*{this}` or `{prev}/{this}`")),
                    ));
                }
                Kind::Caret | Kind::Minus | Kind::Plus => {
                    let this = self.slice(tok).to_string();
                    return Err(self.error_at(tok, format!("unexpected `{this}` in unit"), None));
                }
            }
        }
        Ok(out)
    }

    /// power := primary ('^' ('-' | '+')? integer)?
    fn power(&mut self, depth: usize) -> Result<Vec<Factor>, UnitError> {
        let mut out = self.primary(depth)?;
        let Some(caret) = self.peek().filter(|t| t.kind == Kind::Caret) else {
            return Ok(out);
        };
        self.pos += 1;
        let mut negative = false;
        if let Some(sign) = self
            .peek()
            .filter(|t| matches!(t.kind, Kind::Minus | Kind::Plus))
        {
            negative = sign.kind == Kind::Minus;
            self.pos += 1;
        }
        let help = Some("write a power as `s^2` or `h^-1`".to_string());
        let Some(num) = self.peek().filter(|t| t.kind == Kind::Number) else {
            return Err(match self.peek() {
                Some(tok) => self.error_at(
                    tok,
                    format!(
                        "expected a whole-number power after `^`, found `{}`",
                        self.slice(tok)
                    ),
                    help,
                ),
                None => UnitError {
                    help,
                    ..self.error_at_end("a whole-number power")
                },
            });
        };
        self.pos += 1;
        let digits = self.slice(num);
        let n = match digits.parse::<i32>() {
            Ok(n) if n <= MAX_POWER => n,
            Ok(_) => {
                return Err(self.error_at(
                    num,
                    format!("power `{digits}` is beyond the limit of {MAX_POWER}"),
                    None,
                ));
            }
            Err(_) if digits.bytes().all(|b| b.is_ascii_digit()) => {
                return Err(self.error_at(
                    num,
                    format!("power `{digits}` is beyond the limit of {MAX_POWER}"),
                    None,
                ));
            }
            Err(_) => {
                return Err(self.error_at(
                    num,
                    format!("expected a whole-number power after `^`, found `{digits}`"),
                    help,
                ));
            }
        };
        let n = if negative { -n } else { n };
        for f in &mut out {
            f.exp = f.exp.saturating_mul(n);
            if f.exp.abs() > MAX_POWER {
                return Err(self.error_at(
                    caret,
                    format!(
                        "`{}` to the power {} is beyond the limit of {MAX_POWER}",
                        f.name, f.exp
                    ),
                    None,
                ));
            }
        }
        Ok(out)
    }

    /// primary := atom | '1' | '(' expr ')'
    fn primary(&mut self, depth: usize) -> Result<Vec<Factor>, UnitError> {
        let Some(tok) = self.peek() else {
            return Err(self.error_at_end("a unit"));
        };
        let text = self.slice(tok).to_string();
        match tok.kind {
            Kind::Atom => {
                self.pos += 1;
                atom(&text, tok.start)
            }
            Kind::Number if text == "1" => {
                self.pos += 1;
                Ok(Vec::new())
            }
            Kind::Number => Err(self.error_at(
                tok,
                format!("unexpected number `{text}` in unit"),
                Some(
                    "only `1` may stand in a unit (e.g. `1/s`); put other numbers in the value"
                        .into(),
                ),
            )),
            Kind::LParen => {
                if depth >= MAX_DEPTH {
                    return Err(self.error_at(tok, "too many nested parentheses".into(), None));
                }
                self.pos += 1;
                let inner = self.expr(depth + 1)?;
                match self.peek() {
                    Some(t) if t.kind == Kind::RParen => {
                        self.pos += 1;
                        Ok(inner)
                    }
                    _ => Err(UnitError {
                        help: Some(format!("the `(` at byte {} is not closed", tok.start)),
                        ..self.error_at_end("`)`")
                    }),
                }
            }
            Kind::Star | Kind::Slash | Kind::RParen | Kind::Caret | Kind::Minus | Kind::Plus => {
                Err(self.error_at(tok, format!("expected a unit before `{text}`"), None))
            }
        }
    }
}

/// Resolves one atom, or explains why it is not a unit.
fn atom(name: &str, offset: usize) -> Result<Vec<Factor>, UnitError> {
    if let Some((dim, scale)) = lookup(name) {
        return Ok(vec![Factor {
            name: name.to_string(),
            dim,
            scale,
            exp: 1,
        }]);
    }
    if matches!(name, "month" | "months" | "mo") {
        return Err(UnitError {
            message: format!("`{name}` is not a unit: months differ in length"),
            offset,
            help: Some("use a parameter such as hours_per_month".into()),
        });
    }
    let mut help = String::new();
    if name.chars().any(|c| c.is_ascii_digit()) {
        help.push_str("write a power with `^`, e.g. `s^2`; ");
    } else if let Some(s) = suggest(name) {
        help.push_str(&format!("did you mean `{s}`? "));
    }
    help.push_str(FAMILIES);
    Err(UnitError {
        message: format!("unknown unit `{name}`"),
        offset,
        help: Some(help),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CASES: &str = include_str!("../tests/cases/units.txt");

    fn unit(text: &str) -> Unit {
        match Unit::parse(text) {
            Ok(u) => u,
            Err(e) => panic!("`{text}` should parse: {e}"),
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * a.abs().max(b.abs())
    }

    /// Strips optional double quotes, which let a case keep leading or trailing spaces.
    fn unquote(s: &str) -> &str {
        let s = s.trim();
        s.strip_prefix('"')
            .and_then(|s| s.strip_suffix('"'))
            .unwrap_or(s)
    }

    /// Evaluates `a * b / c` where the operators are surrounded by spaces, with
    /// `Unit::mul`/`Unit::div`; unspaced operators stay inside the unit texts.
    fn evaluate(expr: &str) -> Unit {
        let mut acc: Option<Unit> = None;
        let mut op = " * ";
        let mut rest = expr.trim();
        loop {
            let next = [" * ", " / "]
                .iter()
                .filter_map(|o| rest.find(o).map(|i| (i, *o)))
                .min();
            let (part, following) = match next {
                Some((i, o)) => (&rest[..i], Some((o, &rest[i + o.len()..]))),
                None => (rest, None),
            };
            let u = unit(part);
            acc = Some(match acc {
                None => u,
                Some(a) if op == " * " => a.mul(&u),
                Some(a) => a.div(&u),
            });
            match following {
                Some((o, r)) => {
                    op = o;
                    rest = r;
                }
                None => break,
            }
        }
        acc.unwrap_or_else(Unit::one)
    }

    fn run_case(line: &str) -> Result<(), String> {
        let split = |s: &str, sep: &str| -> Result<(String, String), String> {
            s.split_once(sep)
                .map(|(a, b)| (a.trim().to_string(), b.trim().to_string()))
                .ok_or_else(|| format!("missing `{sep}`"))
        };
        if let Some(rest) = line.strip_prefix("error ") {
            let (text, expect) = split(rest, "=>")?;
            let text = unquote(&text);
            let err = match Unit::parse(text) {
                Ok(u) => return Err(format!("expected an error, parsed {u:?}")),
                Err(e) => e,
            };
            for part in expect.split(" | ") {
                let part = part.trim();
                if let Some(h) = part.strip_prefix("help:") {
                    let help = err.help.clone().unwrap_or_default();
                    if !help.contains(h.trim()) {
                        return Err(format!("help {help:?} lacks {:?}", h.trim()));
                    }
                } else if let Some(at) = part.strip_prefix("at:") {
                    let at: usize = at.trim().parse().map_err(|_| "bad offset".to_string())?;
                    if err.offset != at {
                        return Err(format!("offset {} instead of {at}", err.offset));
                    }
                } else if !err.message.contains(part) {
                    return Err(format!("message {:?} lacks {part:?}", err.message));
                }
            }
            return Ok(());
        }
        if let Some(rest) = line.strip_prefix("dim ") {
            let (text, expect) = split(rest, "=>")?;
            let got = unit(unquote(&text)).dim.describe();
            return if got == expect {
                Ok(())
            } else {
                Err(format!("dimension {got}, expected {expect}"))
            };
        }
        if let Some(rest) = line.strip_prefix("currency ") {
            let (text, expect) = split(rest, "=>")?;
            let got = unit(&text).currency().unwrap_or("none");
            return if got == expect {
                Ok(())
            } else {
                Err(format!("currency {got}, expected {expect}"))
            };
        }
        if let Some(rest) = line.strip_prefix("symbol ") {
            let (expr, expect) = split(rest, "=>")?;
            let got = evaluate(&expr);
            if got.symbol != expect {
                return Err(format!("symbol {:?}, expected {expect:?}", got.symbol));
            }
            // The composed symbol must itself parse to the same unit.
            let again = unit(&got.symbol);
            return if again.dim == got.dim && close(again.factor, got.factor) {
                Ok(())
            } else {
                Err(format!("symbol reparses as {again:?}, composed {got:?}"))
            };
        }
        if let Some((a, b)) = line.split_once(" !~ ") {
            return if unit(a.trim()).is_compatible(&unit(b.trim())) {
                Err("expected incompatible units".into())
            } else {
                Ok(())
            };
        }
        if let Some((a, b)) = line.split_once(" ~ ") {
            return if unit(a.trim()).is_compatible(&unit(b.trim())) {
                Ok(())
            } else {
                Err("expected compatible units".into())
            };
        }
        if line.contains(" in ") {
            // `1 kWh in Wh = 1000`
            let (lhs, expect) = split(line, " = ")?;
            let (from, to) = split(&lhs, " in ")?;
            let (value, from) = split(&from, " ")?;
            let value: f64 = value.parse().map_err(|_| "bad value".to_string())?;
            let expect: f64 = expect
                .parse()
                .map_err(|_| "bad expected value".to_string())?;
            let (from, to) = (unit(&from), unit(&to));
            if !from.is_compatible(&to) {
                return Err("units are not compatible".into());
            }
            let got = value * from.factor / to.factor;
            return if close(got, expect) {
                Ok(())
            } else {
                Err(format!("converted to {got}, expected {expect}"))
            };
        }
        // `a * b => c`: the product evaluated with Unit::mul/div and the whole text parsed as
        // one unit both equal c, in dimension and factor.
        let (lhs, rhs) = split(line, "=>")?;
        let expect = unit(&rhs);
        for (how, got) in [("composed", evaluate(&lhs)), ("parsed", unit(&lhs))] {
            if got.dim != expect.dim || !close(got.factor, expect.factor) {
                return Err(format!("{how} as {got:?}, expected {expect:?}"));
            }
        }
        Ok(())
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
                failures.push(format!("units.txt:{}: {line}: {why}", i + 1));
            }
        }
        assert!(count >= 40, "only {count} unit cases");
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn factors() {
        assert_eq!(unit("kWh").factor, 3.6e6);
        assert_eq!(unit("MTok").factor, 1e6);
        assert_eq!(unit("GB").factor, 1e9);
        assert_eq!(unit("h").factor, 3600.0);
        assert_eq!(unit("%").factor, 0.01);
        assert_eq!(unit("KiB").factor, 1024.0);
        assert_eq!(unit("bit").factor, 0.125);
        assert_eq!(unit("Bparam").factor, 1e9);
    }

    #[test]
    fn symbols_as_written() {
        assert_eq!(unit("  EUR/kWh ").symbol, "EUR/kWh");
        assert_eq!(unit("1").symbol, "");
        assert_eq!(unit("").symbol, "");
        assert_eq!(unit("x").symbol, "x");
        assert_eq!(unit("%").symbol, "%");
        assert_eq!(unit("tok / s").symbol, "tok / s");
        assert_eq!(Unit::parse("1"), Ok(Unit::one()));
        assert_eq!(Unit::parse("   "), Ok(Unit::one()));
    }

    #[test]
    fn dim_arithmetic() {
        let w = unit("W").dim;
        let h = unit("h").dim;
        assert_eq!(w.times(h), unit("J").dim);
        assert_eq!(w.times(h).per(h), w);
        assert_eq!(h.powi(2).describe(), "s^2");
        assert_eq!(h.powi(-1).describe(), "1/s");
        assert_eq!(Dim::NONE.describe(), "1");
        assert!(w.per(w).is_none());
        assert!(!w.is_none());
        // Saturates instead of overflowing.
        assert_eq!(Dim([100; 9]).times(Dim([100; 9])), Dim([127; 9]));
        assert_eq!(Dim([100; 9]).powi(i32::MIN), Dim([-128; 9]));
        assert_eq!(Dim([-100; 9]).per(Dim([100; 9])), Dim([-128; 9]));
    }

    #[test]
    fn composed_symbols() {
        assert_eq!(unit("W").mul(&unit("h")).symbol, "W*h");
        assert_eq!(unit("EUR").div(&unit("kWh")).symbol, "EUR/kWh");
        assert_eq!(unit("EUR/kWh").mul(&unit("kWh")).symbol, "EUR");
        assert_eq!(unit("EUR/kWh").mul(&unit("kWh")).factor, 1.0);
        assert_eq!(Unit::one().div(&unit("s")).symbol, "1/s");
        assert_eq!(unit("x").mul(&unit("GB")).symbol, "GB");
        assert_eq!(unit("GB").div(&unit("GB")), Unit::one());
        // A symbol that does not parse is composed textually.
        let odd = Unit {
            symbol: "??".into(),
            ..Unit::one()
        };
        assert_eq!(unit("EUR").div(&odd).symbol, "EUR/??");
        assert_eq!(odd.mul(&unit("s")).symbol, "??*s");
    }

    #[test]
    fn error_display() {
        let e = match Unit::parse("GBs") {
            Err(e) => e,
            Ok(u) => panic!("parsed {u:?}"),
        };
        let text = e.to_string();
        assert!(
            text.starts_with("unknown unit `GBs` (help: did you mean `GB`?"),
            "{text}"
        );
    }

    #[test]
    fn no_panics_on_odd_input() {
        let inputs = [
            "(((((((((((((((((((((s)))))))))))))))))))))",
            "s^99999999999999999999",
            "s^-",
            "s^",
            "^",
            "()",
            ")",
            "(",
            "s^16^16",
            "TB^16/TB^16*PB^16",
            "€€",
            "€/$",
            "1.5",
            "..",
            "s^1.5",
            "\u{0}",
            "é",
            "kWh^-16*kWh^16",
            "TB^16*TB^16",
            "((s^16)^16)",
        ];
        for input in inputs {
            let _ = Unit::parse(input);
        }
        let long = "s*".repeat(10_000) + "s";
        assert!(Unit::parse(&long).is_err());
        let nested = "(".repeat(10_000);
        assert!(Unit::parse(&nested).is_err());
    }

    #[test]
    fn currencies() {
        assert_eq!(unit("€/kWh").currency(), Some("EUR"));
        assert_eq!(unit("$").currency(), Some("USD"));
        assert_eq!(unit("EUR/USD").currency(), Some("EUR"));
        assert_eq!(unit("EUR*USD").currency(), None);
        assert_eq!(unit("EUR^2").currency(), None);
    }

    #[test]
    fn edit_distances() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("GB", "GB"), 0);
        assert_eq!(suggest("kwh"), Some("kWh"));
        assert_eq!(suggest("hours"), Some("h"));
        assert_eq!(suggest("qqqqqqq"), None);
    }
}
