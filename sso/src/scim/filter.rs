//! The filter grammar of RFC 7644 §3.4.2.2, parsed into a [`Filter`] and evaluated on a resource's JSON.
//!
//! ```text
//! FILTER    = attrExp / logExp / valuePath / *1"not" "(" FILTER ")"
//! valuePath = attrPath "[" valFilter "]"
//! attrExp   = (attrPath SP "pr") / (attrPath SP compareOp SP compValue)
//! logExp    = FILTER SP ("and" / "or") SP FILTER
//! compValue = false / null / true / number / string
//! ```
//!
//! `not` binds tighter than `and`, `and` than `or` (§3.4.2.2); operators and keywords are read without case.
//! A filter longer than [`MAX_FILTER_BYTES`] or nested deeper than [`MAX_DEPTH`] is refused before it can cost
//! much, so a request cannot exhaust the stack.

use super::error::ScimError;
use super::path::{AttrPath, lookup, member};
use serde_json::Value;

/// The longest filter read, in bytes.
pub const MAX_FILTER_BYTES: usize = 4096;
/// The deepest nesting of parentheses, `not` and brackets.
pub const MAX_DEPTH: usize = 32;

/// A parsed filter.
#[derive(Clone, Debug, PartialEq)]
pub enum Filter {
    /// `attrPath op value`.
    Compare {
        /// The attribute.
        path: AttrPath,
        /// The operator.
        op: CompareOp,
        /// The value.
        value: CompValue,
    },
    /// `attrPath pr`.
    Present(AttrPath),
    /// `a and b`.
    And(Box<Filter>, Box<Filter>),
    /// `a or b`.
    Or(Box<Filter>, Box<Filter>),
    /// `not (a)`.
    Not(Box<Filter>),
    /// `emails[type eq "work"]`: some value of a multi-valued attribute matches the inner filter.
    ValuePath {
        /// The multi-valued attribute.
        path: AttrPath,
        /// The filter on each of its values (paths relative to the value).
        filter: Box<Filter>,
    },
}

/// A comparison operator (RFC 7644 §3.4.2.2, Table 3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompareOp {
    /// Equal.
    Eq,
    /// Not equal.
    Ne,
    /// Contains.
    Co,
    /// Starts with.
    Sw,
    /// Ends with.
    Ew,
    /// Greater than.
    Gt,
    /// Greater or equal.
    Ge,
    /// Less than.
    Lt,
    /// Less or equal.
    Le,
}

impl CompareOp {
    fn parse(word: &str) -> Option<Self> {
        Some(match word.to_ascii_lowercase().as_str() {
            "eq" => Self::Eq,
            "ne" => Self::Ne,
            "co" => Self::Co,
            "sw" => Self::Sw,
            "ew" => Self::Ew,
            "gt" => Self::Gt,
            "ge" => Self::Ge,
            "lt" => Self::Lt,
            "le" => Self::Le,
            _ => return None,
        })
    }
}

/// A literal compared against (`compValue`).
#[derive(Clone, Debug, PartialEq)]
pub enum CompValue {
    /// A JSON string.
    Str(String),
    /// A JSON number.
    Num(f64),
    /// `true` or `false`.
    Bool(bool),
    /// `null`.
    Null,
}

/// How an evaluation reads the resource: its core schema URI (a path naming it is a top-level attribute) and
/// which attributes compare with case (RFC 7643's `caseExact`).
#[derive(Clone, Copy, Debug)]
pub struct Schema<'a> {
    /// The core schema URI.
    pub core: &'a str,
    /// The top-level attributes whose strings compare with case.
    pub case_exact: &'a [&'a str],
}

impl Filter {
    /// Parse `text`, or a 400 `invalidFilter` saying where it fails.
    pub fn parse(text: &str) -> Result<Self, ScimError> {
        if text.len() > MAX_FILTER_BYTES {
            return Err(ScimError::filter(format!("the filter is longer than {MAX_FILTER_BYTES} bytes: shorten it")));
        }
        let tokens = tokenize(text)?;
        let mut parser = Parser { tokens, at: 0, depth: 0 };
        let filter = parser.or(false)?;
        match parser.tokens.get(parser.at) {
            None => Ok(filter),
            Some(t) => Err(ScimError::filter(format!("unexpected {} after a complete filter", t.describe()))),
        }
    }

    /// Whether `resource` matches.
    pub fn matches(&self, resource: &Value, schema: &Schema<'_>) -> bool {
        match self {
            Self::And(a, b) => a.matches(resource, schema) && b.matches(resource, schema),
            Self::Or(a, b) => a.matches(resource, schema) || b.matches(resource, schema),
            Self::Not(a) => !a.matches(resource, schema),
            Self::Present(path) => values(resource, path, schema).iter().any(|v| present(v)),
            Self::Compare { path, op, value } => {
                let exact = path.sub.is_none() && schema.case_exact.iter().any(|a| path.attr.eq_ignore_ascii_case(a));
                let found = values(resource, path, schema);
                match op {
                    // `ne` holds when no value equals, absent ones included.
                    CompareOp::Ne => !found.iter().any(|v| compare(v, CompareOp::Eq, value, exact)),
                    _ if found.is_empty() => *value == CompValue::Null && *op == CompareOp::Eq,
                    _ => found.iter().any(|v| compare(v, *op, value, exact)),
                }
            }
            Self::ValuePath { path, filter } => {
                let inner = Schema { core: "", case_exact: &[] };
                match lookup(resource, path, schema.core) {
                    Some(Value::Array(items)) => items.iter().any(|item| filter.matches(item, &inner)),
                    Some(item @ Value::Object(_)) => filter.matches(item, &inner),
                    _ => false,
                }
            }
        }
    }
}

/// The values `path` names: a multi-valued attribute's each, a complex one's sub-attribute (or its `value`).
fn values<'a>(resource: &'a Value, path: &AttrPath, schema: &Schema<'_>) -> Vec<&'a Value> {
    let Some(found) = lookup(resource, path, schema.core) else { return Vec::new() };
    let items: Vec<&Value> = match found {
        Value::Array(items) => items.iter().collect(),
        one => vec![one],
    };
    items
        .into_iter()
        .filter_map(|item| match (&path.sub, item) {
            (Some(sub), _) => member(item, sub),
            // A complex value compared as a whole compares its `value` (RFC 7643 §2.4).
            (None, Value::Object(_)) => member(item, "value"),
            (None, v) => Some(v),
        })
        .collect()
}

fn present(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        _ => true,
    }
}

fn compare(found: &Value, op: CompareOp, wanted: &CompValue, exact: bool) -> bool {
    match (found, wanted) {
        (Value::String(s), CompValue::Str(w)) => {
            let (s, w) = if exact { (s.clone(), w.clone()) } else { (s.to_lowercase(), w.to_lowercase()) };
            match op {
                CompareOp::Eq => s == w,
                CompareOp::Ne => s != w,
                CompareOp::Co => s.contains(&w),
                CompareOp::Sw => s.starts_with(&w),
                CompareOp::Ew => s.ends_with(&w),
                CompareOp::Gt => s > w,
                CompareOp::Ge => s >= w,
                CompareOp::Lt => s < w,
                CompareOp::Le => s <= w,
            }
        }
        (Value::Number(n), CompValue::Num(w)) => {
            let Some(n) = n.as_f64() else { return false };
            match op {
                CompareOp::Eq => n == *w,
                CompareOp::Ne => n != *w,
                CompareOp::Gt => n > *w,
                CompareOp::Ge => n >= *w,
                CompareOp::Lt => n < *w,
                CompareOp::Le => n <= *w,
                CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
            }
        }
        (Value::Bool(b), CompValue::Bool(w)) => match op {
            CompareOp::Eq => b == w,
            CompareOp::Ne => b != w,
            _ => false,
        },
        (Value::Null, CompValue::Null) => op == CompareOp::Eq,
        _ => op == CompareOp::Ne,
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Open,
    Close,
    OpenBracket,
    CloseBracket,
    Str(String),
    Word(String),
}

impl Token {
    fn describe(&self) -> String {
        match self {
            Self::Open => "\"(\"".to_owned(),
            Self::Close => "\")\"".to_owned(),
            Self::OpenBracket => "\"[\"".to_owned(),
            Self::CloseBracket => "\"]\"".to_owned(),
            Self::Str(s) => format!("the string {s:?}"),
            Self::Word(w) => format!("{w:?}"),
        }
    }

    fn keyword(&self, word: &str) -> bool {
        matches!(self, Self::Word(w) if w.eq_ignore_ascii_case(word))
    }
}

fn tokenize(text: &str) -> Result<Vec<Token>, ScimError> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        match c {
            c if c.is_whitespace() => {}
            '(' => tokens.push(Token::Open),
            ')' => tokens.push(Token::Close),
            '[' => tokens.push(Token::OpenBracket),
            ']' => tokens.push(Token::CloseBracket),
            '"' => {
                // A JSON string: find its closing quote, skipping escaped characters, and let serde_json read it.
                let mut end = None;
                let mut escaped = false;
                for (i, c) in chars.by_ref() {
                    match (escaped, c) {
                        (true, _) => escaped = false,
                        (false, '\\') => escaped = true,
                        (false, '"') => {
                            end = Some(i);
                            break;
                        }
                        _ => {}
                    }
                }
                let Some(end) = end else {
                    return Err(ScimError::filter("a string is not closed: end it with a double quote"));
                };
                let literal = text.get(start..=end).unwrap_or_default();
                let value: String = serde_json::from_str(literal)
                    .map_err(|e| ScimError::filter(format!("the string {literal} is not a JSON string: {e}")))?;
                tokens.push(Token::Str(value));
            }
            _ => {
                let mut end = start + c.len_utf8();
                while let Some(&(i, c)) = chars.peek() {
                    if c.is_whitespace() || "()[]\"".contains(c) {
                        break;
                    }
                    end = i + c.len_utf8();
                    chars.next();
                }
                tokens.push(Token::Word(text.get(start..end).unwrap_or_default().to_owned()));
            }
        }
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token
    }

    fn deeper(&mut self) -> Result<(), ScimError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ScimError::filter(format!("the filter nests deeper than {MAX_DEPTH} levels: flatten it")));
        }
        Ok(())
    }

    /// `or` chains; `in_value` inside brackets (no further valuePath).
    fn or(&mut self, in_value: bool) -> Result<Filter, ScimError> {
        let mut left = self.and(in_value)?;
        while self.peek().is_some_and(|t| t.keyword("or")) {
            self.at += 1;
            let right = self.and(in_value)?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self, in_value: bool) -> Result<Filter, ScimError> {
        let mut left = self.unary(in_value)?;
        while self.peek().is_some_and(|t| t.keyword("and")) {
            self.at += 1;
            let right = self.unary(in_value)?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self, in_value: bool) -> Result<Filter, ScimError> {
        match self.next() {
            None => Err(ScimError::filter("the filter ends where an expression was expected")),
            Some(Token::Open) => self.group(in_value),
            Some(t) if t.keyword("not") => {
                if self.next() != Some(Token::Open) {
                    return Err(ScimError::filter("\"not\" must be followed by a filter in parentheses: not (…)"));
                }
                Ok(Filter::Not(Box::new(self.group(in_value)?)))
            }
            Some(Token::Word(word)) => self.attr_exp(&word, in_value),
            Some(t) => Err(ScimError::filter(format!("{} where an attribute was expected", t.describe()))),
        }
    }

    /// After an opening parenthesis: a filter and its closing one.
    fn group(&mut self, in_value: bool) -> Result<Filter, ScimError> {
        self.deeper()?;
        let inner = self.or(in_value)?;
        if self.next() != Some(Token::Close) {
            return Err(ScimError::filter("a parenthesis is not closed: add \")\""));
        }
        self.depth -= 1;
        Ok(inner)
    }

    fn attr_exp(&mut self, word: &str, in_value: bool) -> Result<Filter, ScimError> {
        let path = AttrPath::parse(word).map_err(ScimError::filter)?;
        match self.next() {
            Some(Token::OpenBracket) if in_value => {
                Err(ScimError::filter("a value filter cannot hold another one: use one [ … ] per attribute"))
            }
            Some(Token::OpenBracket) => {
                if path.sub.is_some() {
                    return Err(ScimError::filter(format!(
                        "{word}[…]: a value filter follows an attribute, not a sub-attribute"
                    )));
                }
                self.deeper()?;
                let inner = self.or(true)?;
                if self.next() != Some(Token::CloseBracket) {
                    return Err(ScimError::filter("a value filter is not closed: add \"]\""));
                }
                self.depth -= 1;
                Ok(Filter::ValuePath { path, filter: Box::new(inner) })
            }
            Some(t) if t.keyword("pr") => Ok(Filter::Present(path)),
            Some(Token::Word(op)) => {
                let Some(op) = CompareOp::parse(&op) else {
                    return Err(ScimError::filter(format!(
                        "{op:?} is not an operator: use eq, ne, co, sw, ew, gt, ge, lt, le or pr"
                    )));
                };
                let value = self.comp_value()?;
                if matches!(value, CompValue::Bool(_) | CompValue::Null) && !matches!(op, CompareOp::Eq | CompareOp::Ne)
                {
                    return Err(ScimError::filter("true, false and null compare with eq or ne only"));
                }
                Ok(Filter::Compare { path, op, value })
            }
            Some(t) => Err(ScimError::filter(format!("{} after {word:?}: an operator was expected", t.describe()))),
            None => Err(ScimError::filter(format!("the filter ends after {word:?}: add an operator and a value"))),
        }
    }

    fn comp_value(&mut self) -> Result<CompValue, ScimError> {
        match self.next() {
            Some(Token::Str(s)) => Ok(CompValue::Str(s)),
            Some(Token::Word(w)) => match w.as_str() {
                "true" => Ok(CompValue::Bool(true)),
                "false" => Ok(CompValue::Bool(false)),
                "null" => Ok(CompValue::Null),
                number => match serde_json::from_str::<serde_json::Number>(number).ok().and_then(|n| n.as_f64()) {
                    Some(n) => Ok(CompValue::Num(n)),
                    None => Err(ScimError::filter(format!(
                        "{number:?} is not a value: quote strings (\"…\"), or use a number, true, false or null"
                    ))),
                },
            },
            Some(t) => Err(ScimError::filter(format!("{} where a value was expected", t.describe()))),
            None => Err(ScimError::filter("the filter ends where a value was expected")),
        }
    }
}
