//! The formula language's lexer and parser: the Jinja expression syntax, plus unit literals
//! (`1000[W]`). Produces an [`Expr`] tree whose nodes carry byte spans into the formula text, so
//! every later error can point at the exact operator or name.

use std::fmt;

/// A byte range in a formula's text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

/// A parsed formula.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

/// The kinds of formula expressions.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Num(f64),
    /// A number with a unit written in brackets: `1000[W]`.
    NumUnit(f64, String),
    Str(String),
    Bool(bool),
    Name(String),
    /// `a.b`
    Attr(Box<Expr>, String),
    /// `a["key"]`
    Index(Box<Expr>, String),
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `then if cond else otherwise`
    Cond {
        then: Box<Expr>,
        cond: Box<Expr>,
        otherwise: Box<Expr>,
    },
    Call {
        name: String,
        args: Vec<Expr>,
        kwargs: Vec<(String, Expr)>,
    },
}

/// Unary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    Neg,
    Not,
}

/// Binary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
    Concat,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
}

impl fmt::Display for BinOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Pow => "**",
            BinOp::Concat => "~",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::And => "and",
            BinOp::Or => "or",
        })
    }
}

/// A syntax error with the span it concerns.
#[derive(Clone, Debug, PartialEq)]
pub struct ParseError {
    pub message: String,
    pub span: Span,
    pub help: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Num(f64),
    Unit(String),
    Str(String),
    Ident(String),
    Op(&'static str),
    End,
}

struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    toks: Vec<(Tok, Span)>,
}

const OPS: &[&str] = &[
    "**", "==", "!=", "<=", ">=", "+", "-", "*", "/", "(", ")", "[", "]", ",", ".", "=", "<", ">",
    "~",
];

/// The deepest nesting of parentheses and operators accepted, so that hostile input cannot
/// exhaust the stack.
pub const MAX_DEPTH: usize = 64;

/// The deepest expression tree accepted, counting every operator of a chain (`a + b + c` is two
/// levels): later stages walk the tree recursively, so a long chain must be bounded as well.
pub const MAX_TREE_DEPTH: usize = 500;
/// The longest formula accepted, in bytes.
pub const MAX_LEN: usize = 16 * 1024;

fn lex(src: &str) -> Result<Vec<(Tok, Span)>, ParseError> {
    let mut lx = Lexer {
        src,
        pos: 0,
        toks: Vec::new(),
    };
    let bytes = src.as_bytes();
    while lx.pos < bytes.len() {
        let c = src[lx.pos..].chars().next().unwrap_or(' ');
        let start = lx.pos;
        if c.is_whitespace() {
            lx.pos += c.len_utf8();
        } else if c.is_ascii_digit()
            || (c == '.' && bytes.get(lx.pos + 1).is_some_and(u8::is_ascii_digit))
        {
            lx.number()?;
        } else if c == '"' || c == '\'' {
            lx.string(c)?;
        } else if c.is_ascii_alphabetic() || c == '_' {
            while lx.pos < bytes.len()
                && (bytes[lx.pos].is_ascii_alphanumeric() || bytes[lx.pos] == b'_')
            {
                lx.pos += 1;
            }
            lx.toks.push((
                Tok::Ident(src[start..lx.pos].to_string()),
                Span { start, end: lx.pos },
            ));
        } else if let Some(op) = OPS.iter().find(|op| src[lx.pos..].starts_with(**op)) {
            lx.pos += op.len();
            lx.toks.push((Tok::Op(op), Span { start, end: lx.pos }));
        } else {
            let span = Span {
                start,
                end: start + c.len_utf8(),
            };
            let help = match c {
                '×' | 'x' => Some("multiply with `*`".to_string()),
                '÷' => Some("divide with `/`".to_string()),
                '^' => Some("raise to a power with `**`".to_string()),
                '{' | '}' => Some("a formula is an expression, without `{{ }}`".to_string()),
                _ => None,
            };
            return Err(ParseError {
                message: format!("unexpected character `{c}`"),
                span,
                help,
            });
        }
    }
    lx.toks.push((
        Tok::End,
        Span {
            start: src.len(),
            end: src.len(),
        },
    ));
    Ok(lx.toks)
}

impl Lexer<'_> {
    fn number(&mut self) -> Result<(), ParseError> {
        let bytes = self.src.as_bytes();
        let start = self.pos;
        while self.pos < bytes.len()
            && (bytes[self.pos].is_ascii_digit()
                || bytes[self.pos] == b'.'
                || bytes[self.pos] == b'_')
        {
            self.pos += 1;
        }
        if self.pos < bytes.len() && (bytes[self.pos] == b'e' || bytes[self.pos] == b'E') {
            let mut j = self.pos + 1;
            if j < bytes.len() && (bytes[j] == b'+' || bytes[j] == b'-') {
                j += 1;
            }
            if j < bytes.len() && bytes[j].is_ascii_digit() {
                self.pos = j;
                while self.pos < bytes.len() && bytes[self.pos].is_ascii_digit() {
                    self.pos += 1;
                }
            }
        }
        let span = Span {
            start,
            end: self.pos,
        };
        let text = self.src[start..self.pos].replace('_', "");
        let value: f64 = text.parse().map_err(|_| ParseError {
            message: format!("`{}` is not a number", &self.src[start..self.pos]),
            span,
            help: None,
        })?;
        self.toks.push((Tok::Num(value), span));
        // A unit literal: a `[` right after the number (spaces allowed).
        let mut j = self.pos;
        while j < bytes.len() && bytes[j] == b' ' {
            j += 1;
        }
        if j < bytes.len() && bytes[j] == b'[' {
            let Some(close) = self.src[j..].find(']') else {
                return Err(ParseError {
                    message: "the unit after this number has no closing `]`".into(),
                    span: Span {
                        start: j,
                        end: j + 1,
                    },
                    help: Some("write a unit literal as `1000[W]`".into()),
                });
            };
            let unit = self.src[j + 1..j + close].trim().to_string();
            self.pos = j + close + 1;
            self.toks.push((
                Tok::Unit(unit),
                Span {
                    start: j,
                    end: self.pos,
                },
            ));
        }
        Ok(())
    }

    fn string(&mut self, quote: char) -> Result<(), ParseError> {
        let start = self.pos;
        self.pos += 1;
        let mut out = String::new();
        let mut chars = self.src[self.pos..].char_indices();
        while let Some((i, c)) = chars.next() {
            if c == quote {
                self.pos += i + 1;
                self.toks.push((
                    Tok::Str(out),
                    Span {
                        start,
                        end: self.pos,
                    },
                ));
                return Ok(());
            }
            if c == '\\' {
                if let Some((_, e)) = chars.next() {
                    out.push(match e {
                        'n' => '\n',
                        't' => '\t',
                        other => other,
                    });
                }
                continue;
            }
            out.push(c);
        }
        Err(ParseError {
            message: "this text has no closing quote".into(),
            span: Span {
                start,
                end: self.src.len(),
            },
            help: Some(format!("end the text with {quote}")),
        })
    }
}

/// Parses a formula.
pub fn parse(src: &str) -> Result<Expr, ParseError> {
    if src.len() > MAX_LEN {
        return Err(ParseError {
            message: format!(
                "the formula is {} bytes long, more than the {MAX_LEN} accepted",
                src.len()
            ),
            span: Span { start: 0, end: 1 },
            help: Some("split it into named figures or derived columns".into()),
        });
    }
    let toks = lex(src)?;
    let mut p = Parser {
        toks,
        i: 0,
        depth: 0,
        chain: 0,
    };
    if matches!(p.peek(), Tok::End) {
        return Err(ParseError {
            message: "the formula is empty".into(),
            span: Span::default(),
            help: None,
        });
    }
    let e = p.expr()?;
    match p.peek() {
        Tok::End => Ok(e),
        _ => {
            let span = p.span();
            Err(ParseError {
                message: format!("unexpected {} after a complete expression", p.describe()),
                span,
                help: Some("is an operator missing between two values?".into()),
            })
        }
    }
}

struct Parser {
    toks: Vec<(Tok, Span)>,
    i: usize,
    depth: usize,
    /// Operators of the chains being parsed (`a + b + c` adds one per operator), so that
    /// `depth + chain` bounds the depth of the tree.
    chain: usize,
}

impl Parser {
    fn peek(&self) -> &Tok {
        &self.toks[self.i].0
    }
    fn span(&self) -> Span {
        self.toks[self.i].1
    }
    fn bump(&mut self) -> (Tok, Span) {
        let t = self.toks[self.i].clone();
        if self.i + 1 < self.toks.len() {
            self.i += 1;
        }
        t
    }
    fn is_op(&self, op: &str) -> bool {
        matches!(self.peek(), Tok::Op(o) if *o == op)
    }
    fn is_kw(&self, kw: &str) -> bool {
        matches!(self.peek(), Tok::Ident(i) if i == kw)
    }
    fn describe(&self) -> String {
        match self.peek() {
            Tok::Num(n) => format!("number `{n}`"),
            Tok::Unit(u) => format!("unit `[{u}]`"),
            Tok::Str(s) => format!("text \"{s}\""),
            Tok::Ident(i) => format!("`{i}`"),
            Tok::Op(o) => format!("`{o}`"),
            Tok::End => "end of formula".into(),
        }
    }
    fn expect_op(&mut self, op: &str, what: &str) -> Result<Span, ParseError> {
        if self.is_op(op) {
            return Ok(self.bump().1);
        }
        Err(ParseError {
            message: format!("expected `{op}` {what}, found {}", self.describe()),
            span: self.span(),
            help: None,
        })
    }
    fn enter(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ParseError {
                message: format!("the formula nests more than {MAX_DEPTH} levels deep"),
                span: self.span(),
                help: Some("split it into named figures".into()),
            });
        }
        self.check_tree()
    }
    /// One more operator in a chain (`+`, `~`, `.column`, ...).
    fn link(&mut self) -> Result<(), ParseError> {
        self.chain += 1;
        self.check_tree()
    }
    fn check_tree(&self) -> Result<(), ParseError> {
        if self.depth + self.chain > MAX_TREE_DEPTH {
            return Err(ParseError {
                message: format!(
                    "the formula chains more than {MAX_TREE_DEPTH} operations into one expression"
                ),
                span: self.span(),
                help: Some(
                    "split it into named figures or derived columns, or add up a column with \
                     `sum(...)` instead of writing every term"
                        .into(),
                ),
            });
        }
        Ok(())
    }

    fn expr(&mut self) -> Result<Expr, ParseError> {
        self.enter()?;
        let then = self.or()?;
        let r = if self.is_kw("if") {
            self.bump();
            let cond = self.or()?;
            if !self.is_kw("else") {
                return Err(ParseError {
                    message: format!(
                        "expected `else` after `... if condition`, found {}",
                        self.describe()
                    ),
                    span: self.span(),
                    help: Some("write `a if condition else b`".into()),
                });
            }
            self.bump();
            let otherwise = self.expr()?;
            let span = then.span.to(otherwise.span);
            Expr {
                kind: ExprKind::Cond {
                    then: Box::new(then),
                    cond: Box::new(cond),
                    otherwise: Box::new(otherwise),
                },
                span,
            }
        } else {
            then
        };
        self.depth -= 1;
        Ok(r)
    }

    fn binary_level(
        &mut self,
        ops: &[(&str, BinOp)],
        next: fn(&mut Parser) -> Result<Expr, ParseError>,
    ) -> Result<Expr, ParseError> {
        let mut left = next(self)?;
        let chain = self.chain;
        loop {
            let found = ops.iter().find(|(tok, _)| {
                if tok.chars().all(char::is_alphabetic) {
                    self.is_kw(tok)
                } else {
                    self.is_op(tok)
                }
            });
            let Some((_, op)) = found else {
                self.chain = chain;
                return Ok(left);
            };
            let op = *op;
            self.bump();
            self.link()?;
            self.enter()?;
            let right = next(self)?;
            self.depth -= 1;
            let span = left.span.to(right.span);
            left = Expr {
                kind: ExprKind::Binary(op, Box::new(left), Box::new(right)),
                span,
            };
        }
    }

    fn or(&mut self) -> Result<Expr, ParseError> {
        self.binary_level(&[("or", BinOp::Or)], Parser::and)
    }
    fn and(&mut self) -> Result<Expr, ParseError> {
        self.binary_level(&[("and", BinOp::And)], Parser::not)
    }
    fn not(&mut self) -> Result<Expr, ParseError> {
        if self.is_kw("not") {
            let (_, s) = self.bump();
            self.enter()?;
            let e = self.not()?;
            self.depth -= 1;
            let span = s.to(e.span);
            return Ok(Expr {
                kind: ExprKind::Unary(UnOp::Not, Box::new(e)),
                span,
            });
        }
        self.compare()
    }
    fn compare(&mut self) -> Result<Expr, ParseError> {
        self.binary_level(
            &[
                ("==", BinOp::Eq),
                ("!=", BinOp::Ne),
                ("<=", BinOp::Le),
                (">=", BinOp::Ge),
                ("<", BinOp::Lt),
                (">", BinOp::Gt),
            ],
            Parser::concat,
        )
    }
    fn concat(&mut self) -> Result<Expr, ParseError> {
        self.binary_level(&[("~", BinOp::Concat)], Parser::sum)
    }
    fn sum(&mut self) -> Result<Expr, ParseError> {
        self.binary_level(&[("+", BinOp::Add), ("-", BinOp::Sub)], Parser::product)
    }
    fn product(&mut self) -> Result<Expr, ParseError> {
        self.binary_level(&[("*", BinOp::Mul), ("/", BinOp::Div)], Parser::unary)
    }
    fn unary(&mut self) -> Result<Expr, ParseError> {
        if self.is_op("-") || self.is_op("+") {
            let (tok, s) = self.bump();
            self.enter()?;
            let e = self.unary()?;
            self.depth -= 1;
            let span = s.to(e.span);
            if tok == Tok::Op("+") {
                return Ok(e);
            }
            return Ok(Expr {
                kind: ExprKind::Unary(UnOp::Neg, Box::new(e)),
                span,
            });
        }
        self.power()
    }
    fn power(&mut self) -> Result<Expr, ParseError> {
        let base = self.postfix()?;
        if self.is_op("**") {
            self.bump();
            self.enter()?;
            let exp = self.unary()?;
            self.depth -= 1;
            let span = base.span.to(exp.span);
            return Ok(Expr {
                kind: ExprKind::Binary(BinOp::Pow, Box::new(base), Box::new(exp)),
                span,
            });
        }
        Ok(base)
    }
    fn postfix(&mut self) -> Result<Expr, ParseError> {
        let mut e = self.primary()?;
        let chain = self.chain;
        loop {
            if self.is_op(".") {
                self.bump();
                self.link()?;
                let (tok, s) = self.bump();
                let Tok::Ident(name) = tok else {
                    return Err(ParseError {
                        message: "expected a column name after `.`".into(),
                        span: s,
                        help: None,
                    });
                };
                let span = e.span.to(s);
                e = Expr {
                    kind: ExprKind::Attr(Box::new(e), name),
                    span,
                };
            } else if self.is_op("[") {
                self.bump();
                self.link()?;
                let (tok, s) = self.bump();
                let key = match tok {
                    Tok::Str(k) => k,
                    _ => {
                        return Err(ParseError {
                            message: "expected a row key in quotes inside `[ ]`".into(),
                            span: s,
                            help: Some("write a look-up as `gpus[\"rtx-4090\"].vram`".into()),
                        })
                    }
                };
                let close = self.expect_op("]", "after the row key")?;
                let span = e.span.to(close);
                e = Expr {
                    kind: ExprKind::Index(Box::new(e), key),
                    span,
                };
            } else {
                self.chain = chain;
                return Ok(e);
            }
        }
    }
    fn primary(&mut self) -> Result<Expr, ParseError> {
        let (tok, span) = self.bump();
        match tok {
            Tok::Num(n) => {
                if let Tok::Unit(u) = self.peek().clone() {
                    let (_, us) = self.bump();
                    return Ok(Expr {
                        kind: ExprKind::NumUnit(n, u),
                        span: span.to(us),
                    });
                }
                Ok(Expr {
                    kind: ExprKind::Num(n),
                    span,
                })
            }
            Tok::Str(s) => Ok(Expr {
                kind: ExprKind::Str(s),
                span,
            }),
            Tok::Ident(name) => match name.as_str() {
                "true" | "True" => Ok(Expr {
                    kind: ExprKind::Bool(true),
                    span,
                }),
                "false" | "False" => Ok(Expr {
                    kind: ExprKind::Bool(false),
                    span,
                }),
                "and" | "or" | "if" | "else" | "not" => Err(ParseError {
                    message: format!("`{name}` cannot start a value"),
                    span,
                    help: Some("is a value missing before it?".into()),
                }),
                _ if self.is_op("(") => self.call(name, span),
                _ => Ok(Expr {
                    kind: ExprKind::Name(name),
                    span,
                }),
            },
            Tok::Op("(") => {
                self.enter()?;
                let e = self.expr()?;
                self.depth -= 1;
                let close = self
                    .expect_op(")", "to close the parenthesis")
                    .map_err(|e| ParseError {
                        help: Some("every `(` needs its `)`: add the one that is missing".into()),
                        ..e
                    })?;
                Ok(Expr {
                    kind: e.kind,
                    span: span.to(close),
                })
            }
            Tok::Unit(u) => Err(ParseError {
                message: format!("a unit `[{u}]` must follow a number"),
                span,
                help: Some("write `1[tok]`".into()),
            }),
            Tok::End => Err(ParseError {
                message: "the formula ends where a value was expected".into(),
                span,
                help: None,
            }),
            Tok::Op(o) => Err(ParseError {
                message: format!("expected a value, found `{o}`"),
                span,
                help: None,
            }),
        }
    }
    fn call(&mut self, name: String, name_span: Span) -> Result<Expr, ParseError> {
        self.bump(); // (
        let mut args = Vec::new();
        let mut kwargs = Vec::new();
        while !self.is_op(")") {
            let is_kwarg = matches!(self.peek(), Tok::Ident(_))
                && matches!(self.toks.get(self.i + 1), Some((Tok::Op("="), _)));
            if is_kwarg {
                let (Tok::Ident(k), _) = self.bump() else {
                    unreachable!("checked above")
                };
                self.bump();
                kwargs.push((k, self.expr()?));
            } else {
                if !kwargs.is_empty() {
                    return Err(ParseError {
                        message: "a positional argument cannot follow a named one".into(),
                        span: self.span(),
                        help: None,
                    });
                }
                args.push(self.expr()?);
            }
            if !self.is_op(",") {
                break;
            }
            self.bump();
        }
        let close = self.expect_op(")", &format!("to close the call of `{name}`"))?;
        Ok(Expr {
            kind: ExprKind::Call { name, args, kwargs },
            span: name_span.to(close),
        })
    }
}
