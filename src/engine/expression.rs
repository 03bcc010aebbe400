//! The part of Okta Expression Language that apps put in token claims: the user's, the app's
//! and the app user's attributes (`user.email`, `user.profile.department`, `app.clientId`,
//! `appuser.role`, `access.scope`), group membership (`isMemberOfGroupName("admins")`,
//! `Groups.startsWith("OKTA", "app-", 10)`), `String.*` and `Arrays.*` functions, `+` to join
//! strings, comparisons, `AND`/`OR`/`!`, `cond ? a : b` and `a ?: b`, and array literals
//! `{"a", "b"}`.
//!
//! An expression is parsed once, when its claim is saved, so that an unknown name or a
//! function given the wrong number of arguments is refused then; evaluating it reads nothing
//! but what its [`Context`] holds. Only an expression that names groups needs the user's
//! groups ([`Expression::needs_groups`]).

use std::fmt;

use serde_json::{Map, Value};

use crate::model::{Client, Membership, User};

/// The most groups `Groups.startsWith` and its kin may be asked for, as in Okta.
pub const MAX_GROUPS_LIMIT: i64 = 100;

/// The longest expression taken, in characters: Okta's limit on a claim's value.
pub const MAX_LENGTH: usize = 1024;

/// How deeply parentheses, operators and arguments may nest: far beyond what a claim needs,
/// and well inside the stack a request's task has.
const MAX_DEPTH: usize = 32;

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Expression {
    root: Node,
    needs_groups: bool,
    needs_app_user: bool,
}

/// Why an expression cannot be parsed: what was found, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError(String);

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SyntaxError {}

/// Why an expression has no value for this user (a type that does not fit, a bad regex).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvaluationError(String);

impl fmt::Display for EvaluationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for EvaluationError {}

/// What an expression may read.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The user; `None` for client credentials.
    pub user: Option<&'a User>,
    /// The app the token is for.
    pub app: &'a Client,
    /// The app user's profile (`appuser.*`), if the user has one for this app.
    pub app_user: Option<&'a Map<String, Value>>,
    /// The user's groups, `Everyone` included; read only when [`Expression::needs_groups`].
    pub groups: &'a [Membership],
    /// The scopes granted (`access.scope`).
    pub scopes: &'a [String],
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Literal(Value),
    Array(Vec<Node>),
    /// `user.profile.email`, `app.clientId`, `appuser.role`, `access.scope`.
    Attribute(Root, Vec<String>),
    Call(Function, Vec<Node>),
    Not(Box<Node>),
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    Compare(Comparison, Box<Node>, Box<Node>),
    Concat(Box<Node>, Box<Node>),
    Conditional(Box<Node>, Box<Node>, Box<Node>),
    /// `a ?: b`: `a` unless it is null.
    Elvis(Box<Node>, Box<Node>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Root {
    User,
    App,
    AppUser,
    Access,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Comparison {
    Equal,
    NotEqual,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

/// A function, with how many arguments it takes (`None`: one or more).
macro_rules! functions {
    ($($variant:ident = $name:literal, $arity:expr;)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        enum Function {
            $($variant,)*
        }

        impl Function {
            fn named(name: &str) -> Option<Self> {
                match name {
                    $($name => Some(Function::$variant),)*
                    _ => None,
                }
            }

            fn name(self) -> &'static str {
                match self {
                    $(Function::$variant => $name,)*
                }
            }

            fn arity(self) -> Option<usize> {
                match self {
                    $(Function::$variant => $arity,)*
                }
            }
        }
    };
}

functions! {
    IsMemberOfGroupName = "isMemberOfGroupName", Some(1);
    IsMemberOfGroup = "isMemberOfGroup", Some(1);
    IsMemberOfAnyGroup = "isMemberOfAnyGroup", None;
    IsMemberOfGroupNameStartsWith = "isMemberOfGroupNameStartsWith", Some(1);
    IsMemberOfGroupNameContains = "isMemberOfGroupNameContains", Some(1);
    IsMemberOfGroupNameRegex = "isMemberOfGroupNameRegex", Some(1);
    GroupsStartsWith = "Groups.startsWith", Some(3);
    GroupsEndsWith = "Groups.endsWith", Some(3);
    GroupsContains = "Groups.contains", Some(3);
    StringToLowerCase = "String.toLowerCase", Some(1);
    StringToUpperCase = "String.toUpperCase", Some(1);
    StringStartsWith = "String.startsWith", Some(2);
    StringEndsWith = "String.endsWith", Some(2);
    StringContains = "String.stringContains", Some(2);
    StringLen = "String.len", Some(1);
    StringSubstringBefore = "String.substringBefore", Some(2);
    StringSubstringAfter = "String.substringAfter", Some(2);
    StringReplace = "String.replace", Some(3);
    StringJoin = "String.join", None;
    ArraysContains = "Arrays.contains", Some(2);
    ArraysSize = "Arrays.size", Some(1);
    ArraysIsEmpty = "Arrays.isEmpty", Some(1);
    ArraysToCsvString = "Arrays.toCsvString", Some(1);
    UserInternalProperty = "user.getInternalProperty", Some(1);
}

impl Function {
    fn reads_groups(self) -> bool {
        matches!(
            self,
            Function::IsMemberOfGroupName
                | Function::IsMemberOfGroup
                | Function::IsMemberOfAnyGroup
                | Function::IsMemberOfGroupNameStartsWith
                | Function::IsMemberOfGroupNameContains
                | Function::IsMemberOfGroupNameRegex
                | Function::GroupsStartsWith
                | Function::GroupsEndsWith
                | Function::GroupsContains
        )
    }
}

impl Expression {
    /// Parses an expression; the error says what is wrong and where.
    pub fn parse(text: &str) -> Result<Self, SyntaxError> {
        if text.chars().count() > MAX_LENGTH {
            return Err(SyntaxError(format!(
                "the expression is longer than {MAX_LENGTH} characters"
            )));
        }
        let tokens = tokenize(text)?;
        let mut parser = Parser {
            tokens,
            position: 0,
            depth: 0,
            needs_groups: false,
            needs_app_user: false,
        };
        let root = parser.expression()?;
        if let Some((token, at)) = parser.tokens.get(parser.position) {
            return Err(SyntaxError(format!(
                "unexpected {} at character {}",
                token.describe(),
                at + 1
            )));
        }
        Ok(Expression {
            root,
            needs_groups: parser.needs_groups,
            needs_app_user: parser.needs_app_user,
        })
    }

    /// Whether evaluating it reads the user's groups.
    pub fn needs_groups(&self) -> bool {
        self.needs_groups
    }

    /// Whether evaluating it reads the app user's profile (`appuser.*`).
    pub fn needs_app_user(&self) -> bool {
        self.needs_app_user
    }

    /// Its value for the context: `Null` when what it names is not there.
    pub fn evaluate(&self, context: &Context<'_>) -> Result<Value, EvaluationError> {
        evaluate(&self.root, context)
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Text(String),
    Number(f64),
    Name(String),
    Symbol(&'static str),
}

impl Token {
    fn describe(&self) -> String {
        match self {
            Token::Text(text) => format!("string {text:?}"),
            Token::Number(number) => format!("number {number}"),
            Token::Name(name) => format!("{name:?}"),
            Token::Symbol(symbol) => format!("{symbol:?}"),
        }
    }
}

/// Symbols, longest first so that `<=` is not read as `<` then `=`.
const SYMBOLS: [&str; 20] = [
    "?:", "==", "!=", "<=", ">=", "&&", "||", "<", ">", "!", "?", ":", "+", "(", ")", "{", "}",
    "[", "]", ",",
];

fn tokenize(text: &str) -> Result<Vec<(Token, usize)>, SyntaxError> {
    let mut tokens = Vec::new();
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        // Positions are reported in characters; `byte` slices the text.
        let (byte, c) = chars[i];
        let at = i;
        if c.is_whitespace() {
            i += 1;
        } else if c == '"' || c == '\'' {
            let mut value = String::new();
            i += 1;
            loop {
                let Some(&(_, next)) = chars.get(i) else {
                    return Err(SyntaxError(format!(
                        "the string starting at character {} is not closed",
                        at + 1
                    )));
                };
                i += 1;
                match next {
                    '\\' => {
                        let Some(&(_, escaped)) = chars.get(i) else {
                            continue;
                        };
                        i += 1;
                        value.push(match escaped {
                            'n' => '\n',
                            't' => '\t',
                            other => other,
                        });
                    }
                    quote if quote == c => break,
                    other => value.push(other),
                }
            }
            tokens.push((Token::Text(value), at));
        } else if c.is_ascii_digit() {
            let start = i;
            while chars
                .get(i)
                .is_some_and(|(_, c)| c.is_ascii_digit() || *c == '.')
            {
                i += 1;
            }
            let literal: String = chars[start..i].iter().map(|(_, c)| c).collect();
            let number = literal.parse().map_err(|_| {
                SyntaxError(format!(
                    "{literal:?} at character {} is not a number",
                    at + 1
                ))
            })?;
            tokens.push((Token::Number(number), at));
        } else if c.is_alphabetic() || c == '_' || c == '$' {
            let start = i;
            while chars
                .get(i)
                .is_some_and(|(_, c)| c.is_alphanumeric() || *c == '_' || *c == '$')
            {
                i += 1;
            }
            let name: String = chars[start..i].iter().map(|(_, c)| c).collect();
            tokens.push((Token::Name(name), at));
        } else if c == '.' {
            tokens.push((Token::Symbol("."), at));
            i += 1;
        } else {
            let rest = &text[byte..];
            let Some(symbol) = SYMBOLS.iter().find(|symbol| rest.starts_with(**symbol)) else {
                return Err(SyntaxError(format!(
                    "unexpected {c:?} at character {}",
                    at + 1
                )));
            };
            tokens.push((Token::Symbol(symbol), at));
            i += symbol.chars().count();
        }
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<(Token, usize)>,
    position: usize,
    /// How many expressions are being parsed inside one another.
    depth: usize,
    needs_groups: bool,
    needs_app_user: bool,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.position).map(|(token, _)| token)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self
            .tokens
            .get(self.position)
            .map(|(token, _)| token.clone());
        self.position += 1;
        token
    }

    fn eat_symbol(&mut self, symbol: &str) -> bool {
        if self.peek() == Some(&Token::Symbol(symbol_of(symbol))) {
            self.position += 1;
            true
        } else {
            false
        }
    }

    /// Whether the next token is one of the keywords (any case) or symbols, consuming it.
    fn eat_operator(&mut self, keyword: &str, symbol: &str) -> bool {
        match self.peek() {
            Some(Token::Name(name)) if name.eq_ignore_ascii_case(keyword) => {
                self.position += 1;
                true
            }
            _ => self.eat_symbol(symbol),
        }
    }

    fn expect_symbol(&mut self, symbol: &str) -> Result<(), SyntaxError> {
        if self.eat_symbol(symbol) {
            return Ok(());
        }
        Err(self.unexpected(&format!("{symbol:?}")))
    }

    fn unexpected(&self, wanted: &str) -> SyntaxError {
        match self.tokens.get(self.position) {
            Some((token, at)) => SyntaxError(format!(
                "expected {wanted} at character {}, found {}",
                at + 1,
                token.describe()
            )),
            None => SyntaxError(format!("expected {wanted}, found the end")),
        }
    }

    fn expression(&mut self) -> Result<Node, SyntaxError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(SyntaxError(format!(
                "the expression nests more than {MAX_DEPTH} levels deep"
            )));
        }
        let parsed = self.conditional();
        self.depth -= 1;
        parsed
    }

    fn conditional(&mut self) -> Result<Node, SyntaxError> {
        let condition = self.elvis()?;
        if self.eat_symbol("?") {
            let then = self.expression()?;
            self.expect_symbol(":")?;
            let otherwise = self.expression()?;
            return Ok(Node::Conditional(
                Box::new(condition),
                Box::new(then),
                Box::new(otherwise),
            ));
        }
        Ok(condition)
    }

    fn elvis(&mut self) -> Result<Node, SyntaxError> {
        let mut node = self.or()?;
        while self.eat_symbol("?:") {
            node = Node::Elvis(Box::new(node), Box::new(self.or()?));
        }
        Ok(node)
    }

    fn or(&mut self) -> Result<Node, SyntaxError> {
        let mut node = self.and()?;
        while self.eat_operator("OR", "||") {
            node = Node::Or(Box::new(node), Box::new(self.and()?));
        }
        Ok(node)
    }

    fn and(&mut self) -> Result<Node, SyntaxError> {
        let mut node = self.not()?;
        while self.eat_operator("AND", "&&") {
            node = Node::And(Box::new(node), Box::new(self.not()?));
        }
        Ok(node)
    }

    fn not(&mut self) -> Result<Node, SyntaxError> {
        if self.eat_operator("NOT", "!") {
            self.depth += 1;
            if self.depth > MAX_DEPTH {
                return Err(SyntaxError(format!(
                    "the expression nests more than {MAX_DEPTH} levels deep"
                )));
            }
            let negated = self.not();
            self.depth -= 1;
            return Ok(Node::Not(Box::new(negated?)));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Node, SyntaxError> {
        let left = self.concat()?;
        let comparison = match self.peek() {
            Some(Token::Symbol("==")) => Comparison::Equal,
            Some(Token::Symbol("!=")) => Comparison::NotEqual,
            Some(Token::Symbol("<")) => Comparison::Less,
            Some(Token::Symbol("<=")) => Comparison::LessOrEqual,
            Some(Token::Symbol(">")) => Comparison::Greater,
            Some(Token::Symbol(">=")) => Comparison::GreaterOrEqual,
            _ => return Ok(left),
        };
        self.position += 1;
        let right = self.concat()?;
        Ok(Node::Compare(comparison, Box::new(left), Box::new(right)))
    }

    fn concat(&mut self) -> Result<Node, SyntaxError> {
        let mut node = self.primary()?;
        while self.eat_symbol("+") {
            node = Node::Concat(Box::new(node), Box::new(self.primary()?));
        }
        Ok(node)
    }

    fn arguments(&mut self, close: &str) -> Result<Vec<Node>, SyntaxError> {
        let mut arguments = Vec::new();
        if self.eat_symbol(close) {
            return Ok(arguments);
        }
        loop {
            arguments.push(self.expression()?);
            if self.eat_symbol(close) {
                return Ok(arguments);
            }
            self.expect_symbol(",")?;
        }
    }

    fn primary(&mut self) -> Result<Node, SyntaxError> {
        let at = self.tokens.get(self.position).map_or(0, |(_, at)| *at);
        match self.next() {
            Some(Token::Text(text)) => Ok(Node::Literal(Value::String(text))),
            Some(Token::Number(number)) => Ok(Node::Literal(number_value(number))),
            Some(Token::Symbol("(")) => {
                let node = self.expression()?;
                self.expect_symbol(")")?;
                Ok(node)
            }
            Some(Token::Symbol("{")) => Ok(Node::Array(self.arguments("}")?)),
            Some(Token::Name(name)) => self.named(name, at),
            Some(token) => {
                self.position -= 1;
                Err(SyntaxError(format!(
                    "expected a value at character {}, found {}",
                    at + 1,
                    token.describe()
                )))
            }
            None => Err(SyntaxError("expected a value, found the end".to_owned())),
        }
    }

    /// A name and what follows it: a literal (`true`, `null`), a function call
    /// (`isMemberOfGroupName(…)`, `String.toLowerCase(…)`), or an attribute path.
    fn named(&mut self, first: String, at: usize) -> Result<Node, SyntaxError> {
        match first.as_str() {
            "true" => return Ok(Node::Literal(Value::Bool(true))),
            "false" => return Ok(Node::Literal(Value::Bool(false))),
            "null" => return Ok(Node::Literal(Value::Null)),
            _ => {}
        }
        let mut path = vec![first];
        while self.eat_symbol(".") {
            match self.next() {
                Some(Token::Name(name)) => path.push(name),
                _ => {
                    self.position -= 1;
                    return Err(self.unexpected("a name after \".\""));
                }
            }
        }
        let dotted = path.join(".");
        if self.eat_symbol("(") {
            let Some(function) = Function::named(&dotted) else {
                return Err(SyntaxError(format!(
                    "unknown function {dotted:?} at character {}",
                    at + 1
                )));
            };
            let arguments = self.arguments(")")?;
            let fits = match function.arity() {
                Some(arity) => arguments.len() == arity,
                None => !arguments.is_empty(),
            };
            if !fits {
                let wanted = function
                    .arity()
                    .map_or_else(|| "at least 1".to_owned(), |arity| arity.to_string());
                return Err(SyntaxError(format!(
                    "{} takes {wanted} argument(s), not {}",
                    function.name(),
                    arguments.len()
                )));
            }
            self.needs_groups |= function.reads_groups();
            return Ok(Node::Call(function, arguments));
        }
        let root = match path[0].as_str() {
            "user" => Root::User,
            "app" => Root::App,
            "appuser" => Root::AppUser,
            "access" => Root::Access,
            other => {
                return Err(SyntaxError(format!(
                    "unknown name {other:?} at character {}: expressions read user, app, \
                     appuser and access",
                    at + 1
                )))
            }
        };
        let attributes = path.split_off(1);
        self.needs_app_user |= root == Root::AppUser;
        let valid = match root {
            Root::User | Root::AppUser => !attributes.is_empty(),
            Root::App => matches!(
                attributes.first().map(String::as_str),
                Some("id" | "clientId" | "label" | "name" | "profile")
            ),
            Root::Access => attributes == ["scope"],
        };
        if !valid {
            return Err(SyntaxError(format!(
                "{dotted:?} at character {} names no attribute",
                at + 1
            )));
        }
        Ok(Node::Attribute(root, attributes))
    }
}

fn symbol_of(symbol: &str) -> &'static str {
    SYMBOLS
        .iter()
        .copied()
        .chain(std::iter::once("."))
        .find(|known| *known == symbol)
        .unwrap_or("")
}

fn number_value(number: f64) -> Value {
    if number.fract() == 0.0 && number.abs() < 9.0e15 {
        // Whole numbers stay integers in the token, as Okta writes them.
        #[expect(
            clippy::cast_possible_truncation,
            reason = "whole and well inside i64's range, checked above"
        )]
        Value::from(number as i64)
    } else {
        serde_json::Number::from_f64(number).map_or(Value::Null, Value::Number)
    }
}

fn evaluate(node: &Node, context: &Context<'_>) -> Result<Value, EvaluationError> {
    Ok(match node {
        Node::Literal(value) => value.clone(),
        Node::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| evaluate(item, context))
                .collect::<Result<_, _>>()?,
        ),
        Node::Attribute(root, path) => attribute(*root, path, context),
        Node::Call(function, arguments) => {
            let values = arguments
                .iter()
                .map(|argument| evaluate(argument, context))
                .collect::<Result<Vec<_>, _>>()?;
            call(*function, &values, context)?
        }
        Node::Not(inner) => Value::Bool(!truth(&evaluate(inner, context)?)?),
        Node::And(left, right) => {
            Value::Bool(truth(&evaluate(left, context)?)? && truth(&evaluate(right, context)?)?)
        }
        Node::Or(left, right) => {
            Value::Bool(truth(&evaluate(left, context)?)? || truth(&evaluate(right, context)?)?)
        }
        Node::Compare(comparison, left, right) => {
            let (left, right) = (evaluate(left, context)?, evaluate(right, context)?);
            Value::Bool(compare(*comparison, &left, &right)?)
        }
        Node::Concat(left, right) => {
            let (left, right) = (evaluate(left, context)?, evaluate(right, context)?);
            match (&left, &right) {
                (Value::Number(a), Value::Number(b)) => {
                    number_value(a.as_f64().unwrap_or(0.0) + b.as_f64().unwrap_or(0.0))
                }
                _ => Value::String(format!("{}{}", text_of(&left), text_of(&right))),
            }
        }
        Node::Conditional(condition, then, otherwise) => {
            if truth(&evaluate(condition, context)?)? {
                evaluate(then, context)?
            } else {
                evaluate(otherwise, context)?
            }
        }
        Node::Elvis(value, fallback) => match evaluate(value, context)? {
            Value::Null => evaluate(fallback, context)?,
            value => value,
        },
    })
}

fn attribute(root: Root, path: &[String], context: &Context<'_>) -> Value {
    let lookup = |map: &Map<String, Value>, path: &[String]| {
        let mut value = map.get(path.first()?)?;
        for key in &path[1..] {
            value = value.get(key)?;
        }
        Some(value.clone())
    };
    let found = match root {
        Root::User => context.user.and_then(|user| match path[0].as_str() {
            "id" if path.len() == 1 => Some(Value::String(user.id.as_str().to_owned())),
            "login" if path.len() == 1 => Some(Value::String(user.login.clone())),
            "status" if path.len() == 1 => Some(Value::String(user.status.as_str().to_owned())),
            "profile" if path.len() > 1 => lookup(&user.profile, &path[1..]),
            _ => lookup(&user.profile, path),
        }),
        Root::AppUser => context.app_user.and_then(|profile| lookup(profile, path)),
        Root::App => match path[0].as_str() {
            "id" | "clientId" => Some(Value::String(context.app.id.as_str().to_owned())),
            "label" => Some(Value::String(context.app.label.clone())),
            "name" => Some(Value::String("oidc_client".to_owned())),
            _ => None,
        },
        Root::Access => Some(Value::Array(
            context
                .scopes
                .iter()
                .map(|scope| Value::String(scope.clone()))
                .collect(),
        )),
    };
    found.unwrap_or(Value::Null)
}

fn call(
    function: Function,
    arguments: &[Value],
    context: &Context<'_>,
) -> Result<Value, EvaluationError> {
    let text = |index: usize| text_argument(function, arguments, index);
    let groups = || context.groups.iter().filter(|_| context.user.is_some());
    let any_group = |matches: &dyn Fn(&Membership) -> bool| Value::Bool(groups().any(matches));
    Ok(match function {
        Function::IsMemberOfGroupName => {
            let name = text(0)?;
            any_group(&|group| group.name == name)
        }
        Function::IsMemberOfGroup => {
            let id = text(0)?;
            any_group(&|group| group.id == id)
        }
        Function::IsMemberOfAnyGroup => {
            let mut ids = Vec::new();
            for argument in arguments {
                match argument {
                    Value::Array(items) => ids.extend(items.iter().filter_map(Value::as_str)),
                    Value::String(id) => ids.push(id),
                    _ => return Err(type_error(function, "group ids")),
                }
            }
            any_group(&|group| ids.contains(&group.id.as_str()))
        }
        Function::IsMemberOfGroupNameStartsWith => {
            let prefix = text(0)?;
            any_group(&|group| group.name.starts_with(prefix))
        }
        Function::IsMemberOfGroupNameContains => {
            let part = text(0)?;
            any_group(&|group| group.name.contains(part))
        }
        Function::IsMemberOfGroupNameRegex => {
            let pattern = whole_match(text(0)?)?;
            any_group(&|group| pattern.is_match(&group.name))
        }
        Function::GroupsStartsWith | Function::GroupsEndsWith | Function::GroupsContains => {
            let source = text(0)?;
            let pattern = text(1)?.to_lowercase();
            let limit = match arguments.get(2).and_then(Value::as_i64) {
                Some(limit) if (1..=MAX_GROUPS_LIMIT).contains(&limit) => limit,
                _ => {
                    return Err(EvaluationError(format!(
                        "{}: the limit must be a number from 1 to {MAX_GROUPS_LIMIT}",
                        function.name()
                    )))
                }
            };
            // authd's groups are Okta's own; a source naming another directory or an app has
            // none.
            if !source.eq_ignore_ascii_case("OKTA") {
                return Ok(Value::Array(Vec::new()));
            }
            let matches = |name: &str| {
                let name = name.to_lowercase();
                match function {
                    Function::GroupsStartsWith => name.starts_with(&pattern),
                    Function::GroupsEndsWith => name.ends_with(&pattern),
                    _ => name.contains(&pattern),
                }
            };
            // By name, so that which groups a limit keeps does not depend on their ids.
            let mut names: Vec<&str> = groups()
                .filter(|group| matches(&group.name))
                .map(|group| group.name.as_str())
                .collect();
            names.sort_unstable();
            names.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
            Value::from(names)
        }
        Function::StringToLowerCase => map_text(&arguments[0], str::to_lowercase),
        Function::StringToUpperCase => map_text(&arguments[0], str::to_uppercase),
        Function::StringStartsWith => Value::Bool(text(0)?.starts_with(text(1)?)),
        Function::StringEndsWith => Value::Bool(text(0)?.ends_with(text(1)?)),
        Function::StringContains => Value::Bool(text(0)?.contains(text(1)?)),
        Function::StringLen => Value::from(text(0)?.chars().count()),
        Function::StringSubstringBefore => {
            let (value, separator) = (text(0)?, text(1)?);
            Value::String(
                value
                    .split_once(separator)
                    .map_or(value, |(before, _)| before)
                    .to_owned(),
            )
        }
        Function::StringSubstringAfter => {
            let (value, separator) = (text(0)?, text(1)?);
            Value::String(
                value
                    .split_once(separator)
                    .map_or("", |(_, after)| after)
                    .to_owned(),
            )
        }
        Function::StringReplace => Value::String(text(0)?.replace(text(1)?, text(2)?)),
        Function::StringJoin => {
            let separator = text(0)?;
            let parts: Vec<String> = arguments[1..].iter().map(text_of).collect();
            Value::String(parts.join(separator))
        }
        Function::ArraysContains => match &arguments[0] {
            Value::Array(items) => Value::Bool(items.iter().any(|item| item == &arguments[1])),
            Value::Null => Value::Bool(false),
            _ => return Err(type_error(function, "an array")),
        },
        Function::ArraysSize => match &arguments[0] {
            Value::Array(items) => Value::from(items.len()),
            Value::Null => Value::from(0),
            _ => return Err(type_error(function, "an array")),
        },
        Function::ArraysIsEmpty => match &arguments[0] {
            Value::Array(items) => Value::Bool(items.is_empty()),
            Value::Null => Value::Bool(true),
            _ => return Err(type_error(function, "an array")),
        },
        Function::ArraysToCsvString => match &arguments[0] {
            Value::Array(items) => {
                Value::String(items.iter().map(text_of).collect::<Vec<_>>().join(","))
            }
            _ => return Err(type_error(function, "an array")),
        },
        Function::UserInternalProperty => {
            let Some(user) = context.user else {
                return Ok(Value::Null);
            };
            match text(0)? {
                "id" => Value::String(user.id.as_str().to_owned()),
                "status" => Value::String(user.status.as_str().to_owned()),
                "created" => Value::String(user.created_at.to_okta_string()),
                "lastUpdated" => Value::String(user.updated_at.to_okta_string()),
                _ => Value::Null,
            }
        }
    })
}

/// A regex that must match a whole name, as Java's `matches` does.
fn whole_match(pattern: &str) -> Result<regex::Regex, EvaluationError> {
    crate::model::whole_name_regex(pattern).map_err(EvaluationError)
}

fn text_argument(
    function: Function,
    arguments: &[Value],
    index: usize,
) -> Result<&str, EvaluationError> {
    arguments
        .get(index)
        .and_then(Value::as_str)
        .ok_or_else(|| type_error(function, "text"))
}

fn type_error(function: Function, wanted: &str) -> EvaluationError {
    EvaluationError(format!("{} takes {wanted}", function.name()))
}

fn map_text(value: &Value, map: impl Fn(&str) -> String) -> Value {
    match value {
        Value::String(text) => Value::String(map(text)),
        _ => Value::Null,
    }
}

/// A value as `+` joins it: text as it is, null as `null` (as Okta's expressions do).
fn text_of(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

fn truth(value: &Value) -> Result<bool, EvaluationError> {
    match value {
        Value::Bool(value) => Ok(*value),
        Value::Null => Ok(false),
        other => Err(EvaluationError(format!(
            "a condition must be true or false, not {other}"
        ))),
    }
}

fn compare(comparison: Comparison, left: &Value, right: &Value) -> Result<bool, EvaluationError> {
    let ordering = match (left, right) {
        (Value::Number(a), Value::Number(b)) => a
            .as_f64()
            .unwrap_or(f64::NAN)
            .partial_cmp(&b.as_f64().unwrap_or(f64::NAN)),
        (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
        _ => None,
    };
    Ok(match comparison {
        Comparison::Equal => ordering.map_or(left == right, |order| order.is_eq()),
        Comparison::NotEqual => ordering.map_or(left != right, |order| order.is_ne()),
        _ => {
            let Some(order) = ordering else {
                return Err(EvaluationError(format!(
                    "{left} and {right} cannot be ordered"
                )));
            };
            match comparison {
                Comparison::Less => order.is_lt(),
                Comparison::LessOrEqual => order.is_le(),
                Comparison::Greater => order.is_gt(),
                _ => order.is_ge(),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        ApplicationType, ClientId, Status, Timestamp, TokenEndpointAuthMethod, UserId, UserStatus,
    };
    use serde_json::json;

    fn user() -> User {
        let profile = json!({
            "firstName": "Alice", "lastName": "Example", "email": "Alice@Example.com",
            "department": "Engineering", "roles": ["admin", "dev"]
        });
        User {
            id: UserId::parse("00ualice000000000001").unwrap(),
            status: UserStatus::Active,
            login: "alice@example.com".to_owned(),
            profile: profile.as_object().unwrap().clone(),
            password_hash: None,
            created_at: Timestamp::from_unix(0),
            activated_at: None,
            status_changed_at: None,
            last_login_at: None,
            updated_at: Timestamp::from_unix(0),
            password_changed_at: None,
            failed_sign_ins: 0,
            locked_until: None,
            tokens_valid_after: None,
            groups_revision: 0,
        }
    }

    fn app() -> Client {
        Client {
            id: ClientId::parse("0oaapp00000000000001").unwrap(),
            label: "My App".to_owned(),
            application_type: ApplicationType::Web,
            redirect_uris: vec![],
            post_logout_redirect_uris: vec![],
            grant_types: vec![],
            response_types: vec![],
            token_endpoint_auth_method: TokenEndpointAuthMethod::ClientSecretBasic,
            secret_hashes: vec![],
            allow_plain_pkce: false,
            jwks: None,
            status: Status::Active,
            created_at: Timestamp::from_unix(0),
            updated_at: Timestamp::from_unix(0),
            tokens_valid_after: None,
            refresh_token: Default::default(),
            groups_claim: None,
        }
    }

    fn group(id: &str, name: &str) -> Membership {
        Membership {
            id: id.to_owned(),
            name: name.to_owned(),
        }
    }

    fn value_of(expression: &str) -> Value {
        let user = user();
        let app = app();
        let groups = [
            group("00geveryone", "Everyone"),
            group("00gadmins", "Admins"),
            group("00gapp1", "app-billing"),
            group("00gapp2", "App-Reports"),
            group("00gother", "Support"),
        ];
        let app_user = json!({ "role": "editor" });
        let scopes = ["openid".to_owned(), "groups".to_owned()];
        let context = Context {
            user: Some(&user),
            app: &app,
            app_user: app_user.as_object(),
            groups: &groups,
            scopes: &scopes,
        };
        Expression::parse(expression)
            .unwrap_or_else(|err| panic!("{expression}: {err}"))
            .evaluate(&context)
            .unwrap_or_else(|err| panic!("{expression}: {err}"))
    }

    #[test]
    fn attributes_of_the_user_the_app_and_the_app_user() {
        assert_eq!(value_of("user.email"), json!("Alice@Example.com"));
        assert_eq!(value_of("user.profile.department"), json!("Engineering"));
        assert_eq!(value_of("user.login"), json!("alice@example.com"));
        assert_eq!(value_of("user.id"), json!("00ualice000000000001"));
        assert_eq!(
            value_of("user.getInternalProperty(\"id\")"),
            json!("00ualice000000000001")
        );
        assert_eq!(value_of("user.nickName"), Value::Null);
        assert_eq!(value_of("app.clientId"), json!("0oaapp00000000000001"));
        assert_eq!(value_of("app.label"), json!("My App"));
        assert_eq!(value_of("appuser.role"), json!("editor"));
        assert_eq!(value_of("access.scope"), json!(["openid", "groups"]));
    }

    #[test]
    fn group_functions() {
        assert_eq!(value_of("isMemberOfGroupName(\"Admins\")"), json!(true));
        assert_eq!(value_of("isMemberOfGroupName(\"admins\")"), json!(false));
        assert_eq!(value_of("isMemberOfGroup(\"00gother\")"), json!(true));
        assert_eq!(
            value_of("isMemberOfAnyGroup(\"00gnone\", \"00gapp1\")"),
            json!(true)
        );
        assert_eq!(value_of("isMemberOfAnyGroup(\"00gnone\")"), json!(false));
        assert_eq!(
            value_of("isMemberOfGroupNameStartsWith(\"Sup\")"),
            json!(true)
        );
        assert_eq!(
            value_of("isMemberOfGroupNameContains(\"port\")"),
            json!(true)
        );
        assert_eq!(
            value_of("isMemberOfGroupNameRegex(\"app-.*\")"),
            json!(true)
        );
        // The regex matches whole names only.
        assert_eq!(value_of("isMemberOfGroupNameRegex(\"app\")"), json!(false));
        assert_eq!(
            value_of("Groups.startsWith(\"OKTA\", \"app-\", 10)"),
            json!(["App-Reports", "app-billing"])
        );
        assert_eq!(
            // By name: which groups a limit keeps does not depend on their ids.
            value_of("Groups.startsWith(\"OKTA\", \"app-\", 1)"),
            json!(["App-Reports"])
        );
        assert_eq!(
            value_of("Groups.contains(\"OKTA\", \"port\", 100)"),
            json!(["App-Reports", "Support"])
        );
        assert_eq!(
            value_of("Groups.endsWith(\"OKTA\", \"ONE\", 100)"),
            json!(["Everyone"])
        );
        assert_eq!(
            value_of("Groups.startsWith(\"active_directory\", \"app\", 10)"),
            json!([])
        );
    }

    #[test]
    fn strings_arrays_operators_and_conditionals() {
        assert_eq!(
            value_of("String.toLowerCase(user.email)"),
            json!("alice@example.com")
        );
        assert_eq!(value_of("String.toUpperCase(\"ab\")"), json!("AB"));
        assert_eq!(
            value_of("user.firstName + \" \" + user.lastName"),
            json!("Alice Example")
        );
        assert_eq!(
            value_of("String.substringBefore(user.email, \"@\")"),
            json!("Alice")
        );
        assert_eq!(value_of("String.len(\"héllo\")"), json!(5));
        assert_eq!(
            value_of("Arrays.contains(user.roles, \"admin\")"),
            json!(true)
        );
        assert_eq!(
            value_of("Arrays.contains({\"a\", \"b\"}, \"c\")"),
            json!(false)
        );
        assert_eq!(value_of("Arrays.size(user.roles)"), json!(2));
        assert_eq!(
            value_of("isMemberOfGroupName(\"Admins\") ? \"admin\" : \"user\""),
            json!("admin")
        );
        assert_eq!(
            value_of("user.department == \"Sales\" OR user.department == \"Engineering\""),
            json!(true)
        );
        assert_eq!(
            value_of("!isMemberOfGroupName(\"Admins\") && true"),
            json!(false)
        );
        assert_eq!(value_of("user.nickName ?: user.firstName"), json!("Alice"));
        assert_eq!(value_of("String.len(user.login) > 3"), json!(true));
        assert_eq!(value_of("'single' + 'quoted'"), json!("singlequoted"));
        assert_eq!(value_of("1 + 2"), json!(3));
    }

    #[test]
    fn syntax_errors_say_what_and_where() {
        let error = |text: &str| Expression::parse(text).unwrap_err().to_string();
        assert_eq!(error("user.email +"), "expected a value, found the end");
        assert_eq!(
            error("\"open"),
            "the string starting at character 1 is not closed"
        );
        assert!(error("Groups.startsWith(\"OKTA\", \"a\")").contains("takes 3 argument(s), not 2"));
        assert!(error("String.reverse(user.email)").contains("unknown function \"String.reverse\""));
        assert!(error("session.id").contains("unknown name \"session\""));
        assert!(error("user").contains("names no attribute"));
        assert!(error("app.secret").contains("names no attribute"));
        assert!(error("user.email user.login").contains("unexpected \"user\" at character 12"));
        assert!(error("a ? b").contains("unknown name"));
        assert!(error("isMemberOfGroupName(\"a\" ? \"b\")").contains("expected \":\""));
        assert!(error("user.email # 1").contains("unexpected '#' at character 12"));
    }

    #[test]
    fn only_group_expressions_need_groups() {
        assert!(Expression::parse("Groups.startsWith(\"OKTA\", \"a\", 5)")
            .unwrap()
            .needs_groups());
        assert!(Expression::parse("user.x ?: isMemberOfGroup(\"00g1\")")
            .unwrap()
            .needs_groups());
        assert!(!Expression::parse("String.toLowerCase(user.email)")
            .unwrap()
            .needs_groups());
    }

    #[test]
    fn evaluation_errors_are_reported_not_panics() {
        let user = user();
        let app = app();
        let context = Context {
            user: Some(&user),
            app: &app,
            app_user: None,
            groups: &[],
            scopes: &[],
        };
        for (expression, message) in [
            (
                "Groups.startsWith(\"OKTA\", \"a\", 101)",
                "limit must be a number from 1 to 100",
            ),
            ("user.email ? 1 : 2", "must be true or false"),
            (
                "isMemberOfGroupNameRegex(\"(\")",
                "is not a regular expression",
            ),
            ("Arrays.size(user.email)", "takes an array"),
            ("user.email < 3", "cannot be ordered"),
        ] {
            let err = Expression::parse(expression)
                .unwrap()
                .evaluate(&context)
                .unwrap_err();
            assert!(err.to_string().contains(message), "{expression}: {err}");
        }
    }
}
