//! Okta's `filter` and `search` expressions (SCIM filtering, RFC 7644 §3.4.2.2), as the System
//! Log and the Groups API take them: comparisons of an object's attributes (`eventType eq
//! "user.session.start"`, `outcome.result eq "FAILURE"`, `target.id eq "…"`, `published gt
//! "2026-…"`, `profile.name sw "app-"`, `type eq "OKTA_GROUP"`) joined by `and`, `or`, `not` and
//! parentheses. Evaluated against the rendered object: an attribute inside a list (`target`)
//! matches if any element does.

use serde_json::Value;

/// A parsed filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// Both hold.
    And(Box<Filter>, Box<Filter>),
    /// Either holds.
    Or(Box<Filter>, Box<Filter>),
    /// It does not hold.
    Not(Box<Filter>),
    /// The attribute is present and not null.
    Present(String),
    /// `attribute op value`.
    Compare {
        /// Dotted path, e.g. `outcome.result`.
        attribute: String,
        /// The operator.
        op: Op,
        /// What it is compared with.
        value: Value,
    },
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
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
    /// Greater than or equal.
    Ge,
    /// Less than.
    Lt,
    /// Less than or equal.
    Le,
}

/// Why a filter could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FilterError(String);

impl Filter {
    /// Parses `text`.
    pub fn parse(text: &str) -> Result<Self, FilterError> {
        let tokens = tokenize(text)?;
        let mut parser = Parser { tokens, at: 0 };
        let filter = parser.or()?;
        match parser.tokens.get(parser.at) {
            None => Ok(filter),
            Some(token) => Err(FilterError(format!("unexpected {}", token.describe()))),
        }
    }

    /// Whether `event` satisfies the filter.
    pub fn matches(&self, event: &Value) -> bool {
        match self {
            Filter::And(left, right) => left.matches(event) && right.matches(event),
            Filter::Or(left, right) => left.matches(event) || right.matches(event),
            Filter::Not(inner) => !inner.matches(event),
            Filter::Present(attribute) => values_at(event, attribute)
                .iter()
                .any(|value| !value.is_null()),
            Filter::Compare {
                attribute,
                op,
                value,
            } => {
                let found = values_at(event, attribute);
                match op {
                    // `ne` holds when no value equals, including when there is none.
                    Op::Ne => !found.iter().any(|candidate| equal(candidate, value)),
                    _ => found.iter().any(|candidate| compare(candidate, *op, value)),
                }
            }
        }
    }

    /// The event type a match must have, if the filter demands exactly one: lets the store
    /// select by it.
    pub fn required_event_type(&self) -> Option<&str> {
        match self {
            Filter::Compare {
                attribute,
                op: Op::Eq,
                value: Value::String(event_type),
            } if attribute == "eventType" => Some(event_type),
            Filter::And(left, right) => left
                .required_event_type()
                .or_else(|| right.required_event_type()),
            _ => None,
        }
    }
}

/// Every value at a dotted path, looking into each element of a list on the way.
fn values_at<'a>(event: &'a Value, path: &str) -> Vec<&'a Value> {
    let mut current = vec![event];
    for segment in path.split('.') {
        let mut next = Vec::new();
        for value in current {
            match value {
                Value::Array(items) => {
                    next.extend(items.iter().filter_map(|item| field(item, segment)))
                }
                other => next.extend(field(other, segment)),
            }
        }
        current = next;
    }
    current
        .into_iter()
        .flat_map(|value| match value {
            Value::Array(items) => items.iter().collect(),
            other => vec![other],
        })
        .collect()
}

/// A field of an object, its name matched regardless of case, as SCIM attribute names are.
fn field<'a>(value: &'a Value, name: &str) -> Option<&'a Value> {
    let object = value.as_object()?;
    object.get(name).or_else(|| {
        object
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value)
    })
}

fn equal(candidate: &Value, value: &Value) -> bool {
    match (candidate, value) {
        (Value::String(candidate), Value::String(value)) => candidate.eq_ignore_ascii_case(value),
        (Value::Number(candidate), Value::Number(value)) => candidate.as_f64() == value.as_f64(),
        (candidate, value) => candidate == value,
    }
}

fn compare(candidate: &Value, op: Op, value: &Value) -> bool {
    if op == Op::Eq {
        return equal(candidate, value);
    }
    match (candidate, value) {
        (Value::String(candidate), Value::String(value))
            if matches!(op, Op::Gt | Op::Ge | Op::Lt | Op::Le) =>
        {
            // Times are compared as times, whatever their precision (`…:00Z`, `…:00.123Z`).
            let times = humantime::parse_rfc3339_weak(candidate)
                .and_then(|candidate| Ok((candidate, humantime::parse_rfc3339_weak(value)?)));
            let ordering = match times {
                Ok((candidate, value)) => candidate.cmp(&value),
                Err(_) => candidate.to_lowercase().cmp(&value.to_lowercase()),
            };
            match op {
                Op::Gt => ordering.is_gt(),
                Op::Ge => ordering.is_ge(),
                Op::Lt => ordering.is_lt(),
                _ => ordering.is_le(),
            }
        }
        (Value::String(candidate), Value::String(value)) => {
            let (candidate, value) = (candidate.to_lowercase(), value.to_lowercase());
            match op {
                Op::Co => candidate.contains(&value),
                Op::Sw => candidate.starts_with(&value),
                Op::Ew => candidate.ends_with(&value),
                // ISO 8601 times in one zone compare as text.
                Op::Gt => candidate > value,
                Op::Ge => candidate >= value,
                Op::Lt => candidate < value,
                Op::Le => candidate <= value,
                Op::Eq | Op::Ne => false,
            }
        }
        (Value::Number(candidate), Value::Number(value)) => {
            let (Some(candidate), Some(value)) = (candidate.as_f64(), value.as_f64()) else {
                return false;
            };
            match op {
                Op::Gt => candidate > value,
                Op::Ge => candidate >= value,
                Op::Lt => candidate < value,
                Op::Le => candidate <= value,
                _ => false,
            }
        }
        _ => false,
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Literal(Value),
    Open,
    Close,
}

impl Token {
    fn describe(&self) -> String {
        match self {
            Token::Word(word) => format!("{word:?}"),
            Token::Literal(value) => format!("value {value}"),
            Token::Open => "\"(\"".to_owned(),
            Token::Close => "\")\"".to_owned(),
        }
    }
}

fn tokenize(text: &str) -> Result<Vec<Token>, FilterError> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' => {
                chars.next();
                tokens.push(Token::Open);
            }
            ')' => {
                chars.next();
                tokens.push(Token::Close);
            }
            '"' => {
                chars.next();
                let mut literal = String::from("\"");
                let mut closed = false;
                while let Some((_, c)) = chars.next() {
                    literal.push(c);
                    if c == '\\' {
                        if let Some((_, escaped)) = chars.next() {
                            literal.push(escaped);
                        }
                    } else if c == '"' {
                        closed = true;
                        break;
                    }
                }
                if !closed {
                    return Err(FilterError(format!(
                        "the string starting at {start} is not closed"
                    )));
                }
                let value: Value = serde_json::from_str(&literal)
                    .map_err(|_| FilterError(format!("{literal} is not a valid string")))?;
                tokens.push(Token::Literal(value));
            }
            _ => {
                let mut word = String::new();
                while let Some(&(_, c)) = chars.peek() {
                    if c.is_whitespace() || c == '(' || c == ')' || c == '"' {
                        break;
                    }
                    word.push(c);
                    chars.next();
                }
                tokens.push(Token::Word(word));
            }
        }
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn keyword(&mut self, keyword: &str) -> bool {
        match self.tokens.get(self.at) {
            Some(Token::Word(word)) if word.eq_ignore_ascii_case(keyword) => {
                self.at += 1;
                true
            }
            _ => false,
        }
    }

    fn or(&mut self) -> Result<Filter, FilterError> {
        let mut left = self.and()?;
        while self.keyword("or") {
            left = Filter::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Filter, FilterError> {
        let mut left = self.unary()?;
        while self.keyword("and") {
            left = Filter::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Filter, FilterError> {
        if self.keyword("not") {
            return Ok(Filter::Not(Box::new(self.unary()?)));
        }
        match self.tokens.get(self.at).cloned() {
            Some(Token::Open) => {
                self.at += 1;
                let inner = self.or()?;
                if self.tokens.get(self.at) != Some(&Token::Close) {
                    return Err(FilterError("a \"(\" is not closed".to_owned()));
                }
                self.at += 1;
                Ok(inner)
            }
            Some(Token::Word(attribute)) => {
                self.at += 1;
                self.comparison(attribute)
            }
            Some(other) => Err(FilterError(format!(
                "expected an attribute, found {}",
                other.describe()
            ))),
            None => Err(FilterError("the expression ends too soon".to_owned())),
        }
    }

    fn comparison(&mut self, attribute: String) -> Result<Filter, FilterError> {
        if !attribute
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_')
        {
            return Err(FilterError(format!("{attribute:?} is not an attribute")));
        }
        let Some(Token::Word(op)) = self.tokens.get(self.at).cloned() else {
            return Err(FilterError(format!(
                "expected an operator after {attribute:?}"
            )));
        };
        self.at += 1;
        let op = match op.to_ascii_lowercase().as_str() {
            "pr" => return Ok(Filter::Present(attribute)),
            "eq" => Op::Eq,
            "ne" => Op::Ne,
            "co" => Op::Co,
            "sw" => Op::Sw,
            "ew" => Op::Ew,
            "gt" => Op::Gt,
            "ge" => Op::Ge,
            "lt" => Op::Lt,
            "le" => Op::Le,
            other => {
                return Err(FilterError(format!(
                    "{other:?} is not an operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr)"
                )))
            }
        };
        let value = match self.tokens.get(self.at).cloned() {
            Some(Token::Literal(value)) => value,
            Some(Token::Word(word)) => match word.as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                "null" => Value::Null,
                number => serde_json::from_str::<serde_json::Number>(number)
                    .map(Value::Number)
                    .map_err(|_| {
                        FilterError(format!(
                            "{number:?} is not a value; strings are quoted: \"{number}\""
                        ))
                    })?,
            },
            _ => {
                return Err(FilterError(format!(
                    "expected a value after {attribute} {op:?}"
                )))
            }
        };
        self.at += 1;
        Ok(Filter::Compare {
            attribute,
            op,
            value,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event() -> Value {
        json!({
            "eventType": "user.session.start",
            "published": "2026-12-02T05:00:00.123Z",
            "outcome": { "result": "FAILURE", "reason": "INVALID_CREDENTIALS" },
            "actor": { "id": "00u1", "alternateId": "alice@example.com" },
            "target": [{ "id": "0oa1", "type": "AppInstance" }, { "id": "00u1", "type": "User" }],
            "client": { "ipAddress": null },
        })
    }

    fn holds(filter: &str) -> bool {
        Filter::parse(filter).unwrap().matches(&event())
    }

    #[test]
    fn comparisons_and_logic_match_as_okta_documents() {
        assert!(holds(r#"eventType eq "user.session.start""#));
        assert!(!holds(r#"eventType eq "user.session.end""#));
        assert!(holds(
            r#"eventType eq "user.session.start" and outcome.result eq "FAILURE""#
        ));
        assert!(holds(
            r#"(eventType eq "x" or eventType sw "user.session") and actor.id eq "00u1""#
        ));
        assert!(holds(r#"target.id eq "0oa1" and target.type eq "User""#));
        assert!(holds(r#"not (outcome.result eq "SUCCESS")"#));
        assert!(holds(r#"outcome.reason co "credentials""#));
        assert!(holds(r#"published gt "2026-12-02T04:59:59.999Z""#));
        assert!(!holds(r#"published lt "2026-12-02T05:00:00.000Z""#));
        assert!(
            holds(r#"published gt "2026-12-02T05:00:00Z""#),
            "whatever the precision"
        );
        assert!(holds("actor.alternateId pr"));
        assert!(!holds("client.ipAddress pr"));
        assert!(holds(r#"target.id ne "0oa2""#));
        assert!(holds(r#"EVENTTYPE EQ "user.session.start""#));
    }

    #[test]
    fn a_malformed_filter_is_refused_with_what_is_wrong() {
        for (filter, problem) in [
            (r#"eventType eq "open"#, "is not closed"),
            ("eventType eq user.session.start", "strings are quoted"),
            (r#"eventType is "x""#, "is not an operator"),
            (r#"(eventType eq "x""#, "is not closed"),
            (r#"eventType eq "x" and"#, "ends too soon"),
            (r#"eventType eq "x" "y""#, "unexpected"),
        ] {
            let err = Filter::parse(filter).expect_err(filter).to_string();
            assert!(err.contains(problem), "{filter}: {err}");
        }
    }

    #[test]
    fn a_required_event_type_is_found_under_and_only() {
        let required = |filter: &str| {
            Filter::parse(filter)
                .unwrap()
                .required_event_type()
                .map(str::to_owned)
        };
        assert_eq!(
            required(r#"outcome.result eq "FAILURE" and eventType eq "user.session.start""#),
            Some("user.session.start".to_owned())
        );
        assert_eq!(required(r#"eventType eq "a" or eventType eq "b""#), None);
    }
}
