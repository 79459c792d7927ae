//! A small syntax tree over the tokens: calls with arguments and closures, strings, property
//! paths, lists, maps, assignments and `if`. Anything else Groovy allows is kept as a
//! [`ExprKind::Compound`] of its parts, so calls nested anywhere are still found.
//!
//! Only a lexical error or unbalanced brackets fail a file; the parser itself always makes
//! progress and never rejects input.

use std::ops::Range;

use crate::lexer::{self, Lexed, StrLit, Token, TokenKind};

/// Statements of a file or a closure.
pub type Block = Vec<Expr>;

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub range: Range<usize>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// Index into [`File::strings`].
    Str(usize),
    /// `a.b.c` — identifiers only (`env['X']` with a constant key is `env.X`).
    Path(Vec<String>),
    /// A property of something that is not a plain path (`docker.image('x').id`).
    Member(Box<Expr>, String),
    Number,
    Call(Box<Call>),
    List(Vec<Expr>),
    /// `[key: value]`; keys as written (quotes removed).
    Map(Vec<Arg>),
    Closure(Block),
    Assign {
        target: Box<Expr>,
        value: Box<Expr>,
    },
    If {
        condition: Box<Expr>,
        then: Block,
        otherwise: Block,
    },
    /// `@Name(args)`.
    Annotation(Box<Call>),
    /// A method definition: `def name(params) { body }`, `void name(String a) { … }`.
    Function {
        name: String,
        body: Block,
    },
    /// Operands joined only by `+`, `?:` or a ternary: a value built from its operands'
    /// text (a string concatenation, or a choice between them).
    Concat(Vec<Expr>),
    /// Operators, casts, loops: the operands in order.
    Compound(Vec<Expr>),
    Other,
}

/// `receiver.name(args) { closure }`, `name args`, `name { closure }`.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub receiver: Option<Expr>,
    pub name: String,
    pub name_range: Range<usize>,
    pub args: Vec<Arg>,
    pub closure: Option<Block>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Arg {
    pub name: Option<String>,
    pub value: Expr,
}

impl Call {
    /// The named argument `name`.
    pub fn named(&self, name: &str) -> Option<&Expr> {
        self.args
            .iter()
            .find(|a| a.name.as_deref() == Some(name))
            .map(|a| &a.value)
    }

    /// The `index`-th positional argument.
    pub fn positional(&self, index: usize) -> Option<&Expr> {
        self.args
            .iter()
            .filter(|a| a.name.is_none())
            .nth(index)
            .map(|a| &a.value)
    }

    /// The closure passed last, in braces or as the last argument.
    pub fn body(&self) -> Option<&Block> {
        self.closure.as_ref().or_else(|| {
            self.args.last().and_then(|a| match &a.value.kind {
                ExprKind::Closure(block) => Some(block),
                _ => None,
            })
        })
    }
}

/// A parsed Jenkinsfile.
#[derive(Debug, Clone)]
pub struct File {
    pub source: String,
    pub statements: Block,
    pub strings: Vec<StrLit>,
    pub comments: Vec<Range<usize>>,
}

impl File {
    pub fn string(&self, expr: &Expr) -> Option<&StrLit> {
        match expr.kind {
            ExprKind::Str(index) => self.strings.get(index),
            _ => None,
        }
    }

    /// The value of a string literal without interpolation.
    pub fn constant<'f>(&'f self, expr: &Expr) -> Option<&'f str> {
        self.string(expr).and_then(StrLit::constant)
    }
}

/// Why a file could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub message: String,
    pub range: Range<usize>,
    /// A nesting limit rather than invalid syntax.
    pub limit: bool,
}

/// Deeper bracket nesting than this is refused (no real pipeline comes close; the parser
/// recurses per level).
const MAX_DEPTH: usize = 200;

pub fn parse(source: &str) -> Result<File, SyntaxError> {
    let Lexed {
        tokens,
        strings,
        comments,
    } = lexer::lex(source).map_err(|e| SyntaxError {
        message: e.message,
        range: e.range,
        limit: false,
    })?;
    reject_yaml_pipeline(source, &tokens)?;
    check_brackets(source, &tokens)?;
    let mut parser = Parser {
        src: source,
        tokens: &tokens,
        strings: &strings,
        pos: 0,
    };
    let statements = parser.block();
    Ok(File {
        source: source.to_owned(),
        statements,
        strings,
        comments,
    })
}

/// A file starting with a `pipeline:` mapping is a Pipeline-as-YAML definition (a plugin's
/// format), not Groovy: reading it as Groovy would silently find nothing.
fn reject_yaml_pipeline(src: &str, tokens: &[Token]) -> Result<(), SyntaxError> {
    match tokens {
        [first, second, ..]
            if first.kind == TokenKind::Ident
                && &src[first.range.clone()] == "pipeline"
                && second.kind == TokenKind::Punct
                && &src[second.range.clone()] == ":" =>
        {
            Err(SyntaxError {
                message: "a Pipeline-as-YAML definition (`pipeline:` mapping), not a Groovy \
                          Jenkinsfile"
                    .to_owned(),
                range: first.range.start..second.range.end,
                limit: false,
            })
        }
        _ => Ok(()),
    }
}

fn line_of(src: &str, offset: usize) -> usize {
    src.as_bytes()[..offset.min(src.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

fn check_brackets(src: &str, tokens: &[Token]) -> Result<(), SyntaxError> {
    let mut stack: Vec<&Token> = Vec::new();
    for token in tokens.iter().filter(|t| t.kind == TokenKind::Punct) {
        let text = &src[token.range.clone()];
        match text {
            "(" | "[" | "{" => {
                stack.push(token);
                if stack.len() > MAX_DEPTH {
                    return Err(SyntaxError {
                        message: format!("brackets nested deeper than {MAX_DEPTH} levels"),
                        range: token.range.clone(),
                        limit: true,
                    });
                }
            }
            ")" | "]" | "}" => {
                let expected = match text {
                    ")" => "(",
                    "]" => "[",
                    _ => "{",
                };
                match stack.pop() {
                    Some(open) if &src[open.range.clone()] == expected => {}
                    Some(open) => {
                        return Err(SyntaxError {
                            message: format!(
                                "`{text}` does not close the `{}` opened on line {}",
                                &src[open.range.clone()],
                                line_of(src, open.range.start)
                            ),
                            range: token.range.clone(),
                            limit: false,
                        });
                    }
                    None => {
                        return Err(SyntaxError {
                            message: format!("unbalanced `{text}`"),
                            range: token.range.clone(),
                            limit: false,
                        });
                    }
                }
            }
            _ => {}
        }
    }
    match stack.pop() {
        Some(open) => Err(SyntaxError {
            message: format!("`{}` is never closed", &src[open.range.clone()]),
            range: open.range.clone(),
            limit: false,
        }),
        None => Ok(()),
    }
}

const MODIFIERS: &[&str] = &[
    "def",
    "final",
    "static",
    "private",
    "public",
    "protected",
    "abstract",
    "synchronized",
];

/// Return types of method definitions that are not capitalised class names.
const PRIMITIVE_TYPES: &[&str] = &[
    "void", "boolean", "int", "long", "double", "float", "char", "byte", "short",
];

/// Words that are operators between operands.
const WORD_OPERATORS: &[&str] = &["in", "instanceof", "as"];

struct Parser<'a> {
    src: &'a str,
    tokens: &'a [Token],
    strings: &'a [StrLit],
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn text(&self, token: &Token) -> &str {
        &self.src[token.range.clone()]
    }

    fn at(&self, text: &str) -> bool {
        self.peek()
            .is_some_and(|t| !matches!(t.kind, TokenKind::Str(_)) && self.text(t) == text)
    }

    fn at_same_line(&self, text: &str) -> bool {
        self.at(text) && self.peek().is_some_and(|t| !t.newline_before)
    }

    fn eat(&mut self, text: &str) -> bool {
        if self.at(text) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn end_of(&self, fallback: usize) -> usize {
        self.pos
            .checked_sub(1)
            .and_then(|i| self.tokens.get(i))
            .map_or(fallback, |t| t.range.end)
    }

    fn start(&self) -> usize {
        self.peek().map_or(self.src.len(), |t| t.range.start)
    }

    fn at_closer(&self) -> bool {
        self.peek()
            .is_some_and(|t| t.kind == TokenKind::Punct && matches!(self.text(t), ")" | "]" | "}"))
    }

    /// Statements up to (not including) a closing `}` or the end.
    fn block(&mut self) -> Block {
        let mut statements = Vec::new();
        while let Some(token) = self.peek() {
            let text = self.text(token);
            if token.kind == TokenKind::Punct && text == "}" {
                break;
            }
            if token.kind == TokenKind::Punct && matches!(text, ";" | "," | ")" | "]" | ":") {
                self.pos += 1;
                continue;
            }
            let before = self.pos;
            let statement = self.statement();
            if self.pos == before {
                self.pos += 1;
            } else {
                statements.push(statement);
            }
        }
        statements
    }

    /// `{ … }` at the current `{`.
    fn braced_block(&mut self) -> Block {
        self.eat("{");
        let block = self.block();
        self.eat("}");
        block
    }

    fn statement(&mut self) -> Expr {
        let start = self.start();
        let Some(token) = self.peek().cloned() else {
            return self.other(start);
        };
        if token.kind == TokenKind::Ident {
            match self.text(&token) {
                "if" => return self.if_statement(),
                "for" | "while" | "switch" | "catch" => {
                    self.pos += 1;
                    let mut parts = Vec::new();
                    if self.at("(") {
                        parts.push(self.parenthesized());
                    }
                    if self.at("{") {
                        let block_start = self.start();
                        let block = self.braced_block();
                        parts.push(self.expr_at(ExprKind::Closure(block), block_start));
                    }
                    return self.expr_at(ExprKind::Compound(parts), start);
                }
                "try" | "finally" | "else" | "do" => {
                    self.pos += 1;
                    if self.at("{") {
                        let block = self.braced_block();
                        return self.expr_at(ExprKind::Closure(block), start);
                    }
                    return self.other(start);
                }
                "import" | "package" => {
                    self.pos += 1;
                    while self
                        .peek()
                        .is_some_and(|t| !t.newline_before && self.text(t) != ";")
                    {
                        self.pos += 1;
                    }
                    return self.other(start);
                }
                "return" | "throw" | "assert" => {
                    self.pos += 1;
                    if self.peek().is_none_or(|t| t.newline_before) || self.at_closer() {
                        return self.other(start);
                    }
                    let value = self.expression();
                    return self.expr_at(ExprKind::Compound(vec![value]), start);
                }
                "case" => {
                    self.pos += 1;
                    let value = self.expression();
                    self.eat(":");
                    return self.expr_at(ExprKind::Compound(vec![value]), start);
                }
                "default"
                    if self
                        .tokens
                        .get(self.pos + 1)
                        .is_some_and(|t| self.text(t) == ":") =>
                {
                    self.pos += 2;
                    return self.other(start);
                }
                "break" | "continue" => {
                    self.pos += 1;
                    return self.other(start);
                }
                "class" | "interface" | "enum" | "trait" => {
                    while self.peek().is_some_and(|t| self.text(t) != "{") {
                        self.pos += 1;
                    }
                    let block = self.braced_block();
                    return self.expr_at(ExprKind::Closure(block), start);
                }
                word if MODIFIERS.contains(&word) => {
                    if let Some(function) = self.function(start) {
                        return function;
                    }
                    self.pos += 1;
                    return self.statement();
                }
                word if PRIMITIVE_TYPES.contains(&word) || word.starts_with(char::is_uppercase) => {
                    if let Some(function) = self.function(start) {
                        return function;
                    }
                }
                _ => {}
            }
        }
        self.expression_statement()
    }

    /// `[modifiers] [Type] name(params) {` at the current token; restores the position and
    /// returns `None` when the tokens are not a method definition.
    fn function(&mut self, start: usize) -> Option<Expr> {
        let saved = self.pos;
        let ident_at = |parser: &Self, i: usize| {
            parser
                .tokens
                .get(i)
                .filter(|t| t.kind == TokenKind::Ident)
                .map(|t| parser.text(t).to_owned())
        };
        while ident_at(self, self.pos).is_some_and(|w| MODIFIERS.contains(&w.as_str())) {
            self.pos += 1;
        }
        // An optional return type, then the name.
        if ident_at(self, self.pos).is_some() && ident_at(self, self.pos + 1).is_some() {
            self.pos += 1;
        }
        let name = ident_at(self, self.pos);
        let opens = self
            .tokens
            .get(self.pos + 1)
            .is_some_and(|t| t.kind == TokenKind::Punct && self.text(t) == "(");
        let (Some(name), true) = (name, opens) else {
            self.pos = saved;
            return None;
        };
        // Skip the parameter list to its `)` (brackets are balanced).
        let mut depth = 0usize;
        let mut i = self.pos + 1;
        while let Some(token) = self.tokens.get(i) {
            if token.kind == TokenKind::Punct {
                match self.text(token) {
                    "(" | "[" | "{" => depth += 1,
                    ")" | "]" | "}" => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
            }
            i += 1;
        }
        let body_opens = self
            .tokens
            .get(i + 1)
            .is_some_and(|t| t.kind == TokenKind::Punct && self.text(t) == "{");
        if !body_opens {
            self.pos = saved;
            return None;
        }
        self.pos = i + 1;
        let body = self.braced_block();
        Some(self.expr_at(ExprKind::Function { name, body }, start))
    }

    fn if_statement(&mut self) -> Expr {
        let start = self.start();
        self.pos += 1;
        let condition = if self.at("(") {
            self.parenthesized()
        } else {
            self.other(start)
        };
        let then = self.branch();
        let otherwise = if self.eat("else") {
            if self.at("if") {
                vec![self.if_statement()]
            } else {
                self.branch()
            }
        } else {
            Vec::new()
        };
        self.expr_at(
            ExprKind::If {
                condition: Box::new(condition),
                then,
                otherwise,
            },
            start,
        )
    }

    /// The body of `if`/`else`: a block or one statement.
    fn branch(&mut self) -> Block {
        if self.at("{") {
            self.braced_block()
        } else if self.peek().is_none() || self.at_closer() {
            Vec::new()
        } else {
            vec![self.statement()]
        }
    }

    /// A statement that is an expression, a command call (`sh 'x'`, `agent any`) or an
    /// assignment.
    fn expression_statement(&mut self) -> Expr {
        let start = self.start();
        let head = self.postfix();
        let is_command = matches!(head.kind, ExprKind::Path(_) | ExprKind::Member(..))
            && self.starts_command_argument();
        let expr = if is_command {
            let (receiver, name, name_range) = split_callee(head);
            let args = self.arguments_until_line_end();
            let closure = if self.at_same_line("{") {
                Some(self.braced_block())
            } else {
                None
            };
            self.expr_at(
                ExprKind::Call(Box::new(Call {
                    receiver,
                    name,
                    name_range,
                    args,
                    closure,
                })),
                start,
            )
        } else {
            head
        };
        self.binary_rest(expr, start)
    }

    /// Whether the next token (on the same line) begins an argument of a parenthesis-free call.
    fn starts_command_argument(&self) -> bool {
        let Some(token) = self.peek() else {
            return false;
        };
        if token.newline_before {
            return false;
        }
        match token.kind {
            TokenKind::Str(_) | TokenKind::Number => true,
            TokenKind::Ident => !WORD_OPERATORS.contains(&self.text(token)),
            TokenKind::Punct => {
                matches!(self.text(token), "[" | "-" | "!") && {
                    // `a [0]` is indexing in practice; `sh ['x']` does not occur. A `-` or `!`
                    // glued to the next token is an argument (`echo -1`), spaced it is binary.
                    let glued = self
                        .tokens
                        .get(self.pos + 1)
                        .is_some_and(|n| n.range.start == token.range.end);
                    self.text(token) != "[" && glued
                }
            }
        }
    }

    fn arguments_until_line_end(&mut self) -> Vec<Arg> {
        let mut args = Vec::new();
        loop {
            if self.peek().is_none() || self.at_closer() || self.at(";") {
                break;
            }
            let before = self.pos;
            args.push(self.argument());
            if self.pos == before {
                break;
            }
            if !self.eat(",") {
                break;
            }
        }
        args
    }

    /// `name: value` or `value`.
    fn argument(&mut self) -> Arg {
        if let (Some(first), Some(second)) = (self.peek(), self.tokens.get(self.pos + 1))
            && self.text(second) == ":"
            && second.kind == TokenKind::Punct
        {
            let name = match first.kind {
                TokenKind::Ident | TokenKind::Number => Some(self.text(first).to_owned()),
                TokenKind::Str(index) => self.strings.get(index).map(|s| s.cooked.clone()),
                TokenKind::Punct => None,
            };
            if let Some(name) = name {
                self.pos += 2;
                let value = self.expression();
                return Arg {
                    name: Some(name),
                    value,
                };
            }
        }
        Arg {
            name: None,
            value: self.expression(),
        }
    }

    fn expression(&mut self) -> Expr {
        let start = self.start();
        let first = self.unary();
        self.binary_rest(first, start)
    }

    /// Operators after `first`; `=` makes an assignment.
    fn binary_rest(&mut self, first: Expr, start: usize) -> Expr {
        let mut operands = vec![first];
        let mut only_concat = true;
        while let Some(token) = self.peek() {
            let text = self.text(token);
            let is_operator = match token.kind {
                TokenKind::Punct => !matches!(
                    text,
                    "(" | ")" | "[" | "]" | "{" | "}" | "," | ";" | "." | "?." | "*." | ".&" | "@"
                ),
                TokenKind::Ident => WORD_OPERATORS.contains(&text),
                _ => false,
            };
            // A line break ends the statement unless the operator continues it (`.`-chains
            // are handled in `postfix`).
            if !is_operator
                || (token.newline_before && !matches!(text, "?" | ":" | "&&" | "||" | "+"))
            {
                break;
            }
            // Closure parameters (`{ a, b -> … }`) end here; the body follows as statements.
            if text == "->" {
                self.pos += 1;
                break;
            }
            if matches!(text, "=" | "+=" | "-=" | "?=") && operands.len() == 1 {
                self.pos += 1;
                // `def out = sh script: 'x', returnStdout: true` is a command call.
                let value = self.expression_statement();
                let target = operands.pop().unwrap_or_else(|| self.other(start));
                return self.expr_at(
                    ExprKind::Assign {
                        target: Box::new(target),
                        value: Box::new(value),
                    },
                    start,
                );
            }
            // `:` closes a ternary or a map entry the caller handles.
            if text == ":" && !operands_have_ternary(self, start) {
                break;
            }
            only_concat &= matches!(text, "+" | "?" | ":" | "?:");
            self.pos += 1;
            if self.peek().is_none() || self.at_closer() {
                break;
            }
            operands.push(self.unary());
        }
        if operands.len() == 1 {
            operands.pop().unwrap_or_else(|| self.other(start))
        } else if only_concat {
            self.expr_at(ExprKind::Concat(operands), start)
        } else {
            self.expr_at(ExprKind::Compound(operands), start)
        }
    }

    fn unary(&mut self) -> Expr {
        let start = self.start();
        let mut prefixes = 0;
        while self.peek().is_some_and(|t| {
            (t.kind == TokenKind::Punct
                && matches!(self.text(t), "!" | "-" | "+" | "~" | "++" | "--"))
                || (t.kind == TokenKind::Ident && self.text(t) == "new")
        }) {
            self.pos += 1;
            prefixes += 1;
        }
        let operand = self.postfix();
        if prefixes == 0 {
            operand
        } else {
            self.expr_at(ExprKind::Compound(vec![operand]), start)
        }
    }

    fn postfix(&mut self) -> Expr {
        let start = self.start();
        let mut expr = self.primary();
        while let Some(token) = self.peek() {
            let text = self.text(token);
            match (token.kind, text) {
                (TokenKind::Punct, "." | "?." | "*." | ".&") => {
                    let Some(name_token) = self.tokens.get(self.pos + 1) else {
                        break;
                    };
                    let name = match name_token.kind {
                        TokenKind::Ident => self.text(name_token).to_owned(),
                        TokenKind::Str(index) => self
                            .strings
                            .get(index)
                            .map_or_else(String::new, |s| s.cooked.clone()),
                        _ => break,
                    };
                    self.pos += 2;
                    expr = match expr.kind {
                        ExprKind::Path(mut segments) => {
                            segments.push(name);
                            self.expr_at(ExprKind::Path(segments), start)
                        }
                        _ => self.expr_at(ExprKind::Member(Box::new(expr), name), start),
                    };
                }
                (TokenKind::Punct, "(") if !token.newline_before => {
                    self.pos += 1;
                    let args = self.arguments_until(")");
                    let closure = if self.at_same_line("{") {
                        Some(self.braced_block())
                    } else {
                        None
                    };
                    expr = self.call(expr, args, closure, start);
                }
                (TokenKind::Punct, "[") if !token.newline_before => {
                    self.pos += 1;
                    let index = self.arguments_until("]");
                    let key = match index.as_slice() {
                        [Arg { name: None, value }] => match value.kind {
                            ExprKind::Str(i) => self
                                .strings
                                .get(i)
                                .and_then(StrLit::constant)
                                .map(str::to_owned),
                            _ => None,
                        },
                        _ => None,
                    };
                    expr = match (expr.kind, key) {
                        (ExprKind::Path(mut segments), Some(key)) => {
                            segments.push(key);
                            self.expr_at(ExprKind::Path(segments), start)
                        }
                        (kind, _) => {
                            let mut parts = vec![Expr {
                                kind,
                                range: expr.range,
                            }];
                            parts.extend(index.into_iter().map(|a| a.value));
                            self.expr_at(ExprKind::Compound(parts), start)
                        }
                    };
                }
                (TokenKind::Punct, "{")
                    if matches!(expr.kind, ExprKind::Path(_) | ExprKind::Member(..)) =>
                {
                    let closure = Some(self.braced_block());
                    expr = self.call(expr, Vec::new(), closure, start);
                }
                (TokenKind::Punct, "++" | "--") if !token.newline_before => self.pos += 1,
                _ => break,
            }
        }
        expr
    }

    fn call(&self, callee: Expr, args: Vec<Arg>, closure: Option<Block>, start: usize) -> Expr {
        let (receiver, name, name_range) = split_callee(callee);
        self.expr_at(
            ExprKind::Call(Box::new(Call {
                receiver,
                name,
                name_range,
                args,
                closure,
            })),
            start,
        )
    }

    fn arguments_until(&mut self, close: &str) -> Vec<Arg> {
        let mut args = Vec::new();
        while self.peek().is_some() && !self.at(close) {
            if self.eat(",") {
                continue;
            }
            if self.at_closer() {
                // A closer of another kind cannot occur in balanced input; skip defensively.
                self.pos += 1;
                continue;
            }
            let before = self.pos;
            args.push(self.argument());
            if self.pos == before {
                self.pos += 1;
            }
        }
        self.eat(close);
        args
    }

    fn parenthesized(&mut self) -> Expr {
        let start = self.start();
        self.eat("(");
        let parts = self.arguments_until(")");
        let mut values: Vec<Expr> = parts.into_iter().map(|a| a.value).collect();
        if values.len() == 1 {
            let mut only = values.pop().unwrap_or_else(|| self.other(start));
            only.range = start..self.end_of(start);
            only
        } else {
            self.expr_at(ExprKind::Compound(values), start)
        }
    }

    fn primary(&mut self) -> Expr {
        let start = self.start();
        let Some(token) = self.peek().cloned() else {
            return self.other(start);
        };
        match token.kind {
            TokenKind::Str(index) => {
                self.pos += 1;
                self.expr_at(ExprKind::Str(index), start)
            }
            TokenKind::Number => {
                self.pos += 1;
                self.expr_at(ExprKind::Number, start)
            }
            TokenKind::Ident => {
                self.pos += 1;
                self.expr_at(ExprKind::Path(vec![self.text(&token).to_owned()]), start)
            }
            TokenKind::Punct => match self.text(&token) {
                "(" => self.parenthesized(),
                "[" => {
                    self.pos += 1;
                    let entries = self.arguments_until("]");
                    // `[:]` is the empty map.
                    let is_map = entries.iter().any(|a| a.name.is_some())
                        || (entries.is_empty()
                            && self.src[start..self.end_of(start)].contains(':'));
                    if is_map {
                        self.expr_at(ExprKind::Map(entries), start)
                    } else {
                        let items = entries.into_iter().map(|a| a.value).collect();
                        self.expr_at(ExprKind::List(items), start)
                    }
                }
                "{" => {
                    let block = self.braced_block();
                    self.expr_at(ExprKind::Closure(block), start)
                }
                "@" => {
                    self.pos += 1;
                    let annotation = self.postfix();
                    match annotation.kind {
                        ExprKind::Call(call) => self.expr_at(ExprKind::Annotation(call), start),
                        ExprKind::Path(_) => {
                            let call = self.call(annotation, Vec::new(), None, start);
                            match call.kind {
                                ExprKind::Call(call) => {
                                    self.expr_at(ExprKind::Annotation(call), start)
                                }
                                _ => self.other(start),
                            }
                        }
                        _ => annotation,
                    }
                }
                // `[:]` reaches here as `:` inside brackets; closers end the caller's list.
                ")" | "]" | "}" => self.other(start),
                _ => {
                    self.pos += 1;
                    self.other(start)
                }
            },
        }
    }

    fn expr_at(&self, kind: ExprKind, start: usize) -> Expr {
        Expr {
            kind,
            range: start..self.end_of(start).max(start),
        }
    }

    fn other(&self, start: usize) -> Expr {
        self.expr_at(ExprKind::Other, start)
    }
}

/// Whether a `?` was seen since `start` without its `:` (then `:` belongs to the ternary).
fn operands_have_ternary(parser: &Parser<'_>, start: usize) -> bool {
    let mut open = 0i32;
    for token in parser.tokens[..parser.pos].iter().rev() {
        if token.range.start < start {
            break;
        }
        if token.kind == TokenKind::Punct {
            match parser.text(token) {
                "?" => open += 1,
                ":" => open -= 1,
                _ => {}
            }
        }
    }
    open > 0
}

/// `a.b.c` → receiver `a.b`, name `c`; anything else → no receiver.
fn split_callee(callee: Expr) -> (Option<Expr>, String, Range<usize>) {
    match callee.kind {
        ExprKind::Path(mut segments) => {
            let name = segments.pop().unwrap_or_default();
            let name_start = callee.range.end.saturating_sub(name.len());
            let receiver = (!segments.is_empty()).then(|| Expr {
                kind: ExprKind::Path(segments),
                range: callee.range.start..name_start.saturating_sub(1).max(callee.range.start),
            });
            (receiver, name, name_start..callee.range.end)
        }
        ExprKind::Member(object, name) => {
            let name_start = callee.range.end.saturating_sub(name.len());
            (Some(*object), name, name_start..callee.range.end)
        }
        _ => {
            let range = callee.range.clone();
            (Some(callee), String::new(), range)
        }
    }
}

/// Every call in `block`, depth first, including calls inside arguments and closures.
pub fn visit_calls<'a>(block: &'a [Expr], visit: &mut dyn FnMut(&'a Call)) {
    for expr in block {
        visit_expr_calls(expr, visit);
    }
}

pub fn visit_expr_calls<'a>(expr: &'a Expr, visit: &mut dyn FnMut(&'a Call)) {
    match &expr.kind {
        ExprKind::Call(call) | ExprKind::Annotation(call) => {
            visit(call);
            if let Some(receiver) = &call.receiver {
                visit_expr_calls(receiver, visit);
            }
            for arg in &call.args {
                visit_expr_calls(&arg.value, visit);
            }
            if let Some(block) = &call.closure {
                visit_calls(block, visit);
            }
        }
        ExprKind::Member(object, _) => visit_expr_calls(object, visit),
        ExprKind::List(items)
        | ExprKind::Compound(items)
        | ExprKind::Concat(items)
        | ExprKind::Closure(items) => {
            visit_calls(items, visit);
        }
        ExprKind::Map(entries) => {
            for entry in entries {
                visit_expr_calls(&entry.value, visit);
            }
        }
        ExprKind::Assign { target, value } => {
            visit_expr_calls(target, visit);
            visit_expr_calls(value, visit);
        }
        ExprKind::Function { body, .. } => visit_calls(body, visit),
        ExprKind::If {
            condition,
            then,
            otherwise,
        } => {
            visit_expr_calls(condition, visit);
            visit_calls(then, visit);
            visit_calls(otherwise, visit);
        }
        ExprKind::Str(_) | ExprKind::Path(_) | ExprKind::Number | ExprKind::Other => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn calls(source: &str) -> Vec<String> {
        let file = parse(source).expect("parses");
        let mut names = Vec::new();
        visit_calls(&file.statements, &mut |call| names.push(call.name.clone()));
        names
    }

    #[test]
    fn declarative_skeleton() {
        let names = calls(
            "pipeline {\n agent { label 'x' }\n stages {\n  stage('a') {\n   steps { sh \"echo }\" }\n  }\n }\n}\n",
        );
        assert_eq!(
            names,
            [
                "pipeline", "agent", "label", "stages", "stage", "steps", "sh"
            ]
        );
    }

    #[test]
    fn named_arguments_and_chains() {
        let file = parse(
            "def out = sh(script: 'git log', returnStdout: true).trim()\ndocker.image('m').inside('-u 0') { sh 'make' }\n",
        )
        .expect("parses");
        let mut found = Vec::new();
        visit_calls(&file.statements, &mut |call| {
            found.push((call.name.clone(), call.args.len(), call.closure.is_some()));
        });
        assert!(found.contains(&("sh".to_owned(), 2, false)), "{found:?}");
        assert!(found.contains(&("inside".to_owned(), 1, true)), "{found:?}");
        assert!(found.contains(&("image".to_owned(), 1, false)), "{found:?}");
    }

    #[test]
    fn if_else_and_assignments() {
        let file =
            parse("if (env.CHANGE_ID) {\n sh 'a'\n} else if (x) { sh 'b' } else sh 'c'\nX = 1")
                .expect("parses");
        assert!(matches!(file.statements[0].kind, ExprKind::If { .. }));
        assert!(matches!(file.statements[1].kind, ExprKind::Assign { .. }));
    }

    #[test]
    fn unbalanced_brackets_are_errors() {
        assert!(parse("pipeline {\n stages {\n}\n").is_err());
        assert!(parse("foo(]").is_err());
        assert!(parse("}").is_err());
        let yaml = parse("pipeline:\n  agent:\n    none:\n").expect_err("YAML");
        assert!(
            yaml.message.contains("Pipeline-as-YAML"),
            "{}",
            yaml.message
        );
    }

    #[test]
    fn annotation_with_list() {
        let file = parse("@Library(['a@1.0', 'b']) _\n").expect("parses");
        match &file.statements[0].kind {
            ExprKind::Annotation(call) => {
                assert_eq!(call.name, "Library");
                assert!(matches!(call.args[0].value.kind, ExprKind::List(_)));
            }
            other => panic!("{other:?}"),
        }
    }
}
