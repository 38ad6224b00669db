//! The condition parser: Falco's filter grammar (libs `filter/parser.h`), with the same accept/reject behaviour and
//! error texts.
//!
//! The boolean layer (`or`, `and`, `not`, parentheses) is parsed with an explicit stack, so nesting costs heap, not
//! call stack; only transformer nesting (`tolower(toupper(...))`) recurses, and every level of both is counted
//! against Falco's depth limit (1000 by default), so a hostile condition ends in "exceeded max depth limit" instead of
//! a stack overflow. Keywords are matched as byte prefixes exactly as libsinsp does (`and`/`or` need a following
//! blank or `(`, word operators a following space, `exists` and list operators nothing).

use crate::ast::{CmpOp, Expr, Modifier, Operand, Pos, Rhs, TransformArg, Transformer};

/// The depth limit Falco's rule loader sets on the parser.
pub const MAX_PARSE_DEPTH: u32 = 1000;

/// A syntax error in a condition, positioned where parsing stopped (as libsinsp reports it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    pub message: String,
    pub pos: Pos,
}

/// Parses a condition with Falco's rule-loader depth limit ([`MAX_PARSE_DEPTH`]).
pub fn parse_condition(text: &str) -> Result<Expr, ParseError> {
    parse_condition_with_max_depth(text, MAX_PARSE_DEPTH)
}

/// Parses a condition with an explicit depth limit (libsinsp's own default is 100).
pub fn parse_condition_with_max_depth(text: &str, max_depth: u32) -> Result<Expr, ParseError> {
    Parser::new(text, max_depth).parse()
}

/// The comparison operators an exception's `comps` may name (libsinsp `parser::supported_operators`).
pub fn supported_operators() -> &'static [&'static str] {
    &[
        "exists",
        "<=",
        "<",
        ">=",
        ">",
        "==",
        "=",
        "!=",
        "glob",
        "iglob",
        "contains",
        "icontains",
        "bcontains",
        "startswith",
        "bstartswith",
        "endswith",
        "regex",
        "intersects",
        "in",
        "pmatch",
    ]
}

/// The list operators (`in`, `intersects`, `pmatch`).
pub fn list_operators() -> &'static [&'static str] {
    &["intersects", "in", "pmatch"]
}

/// The string-operator modifiers, as written after the operator.
pub fn operator_modifiers() -> &'static [&'static str] {
    &["oneof", "anyof", "allof"]
}

const NUM_OPS: [(&str, CmpOp); 4] = [("<=", CmpOp::Le), ("<", CmpOp::Lt), (">=", CmpOp::Ge), (">", CmpOp::Gt)];

const STR_OPS: [(&str, CmpOp); 12] = [
    ("==", CmpOp::Eq),
    ("=", CmpOp::Eq),
    ("!=", CmpOp::Ne),
    ("glob ", CmpOp::Glob),
    ("iglob ", CmpOp::IGlob),
    ("contains ", CmpOp::Contains),
    ("icontains ", CmpOp::IContains),
    ("bcontains ", CmpOp::BContains),
    ("startswith ", CmpOp::StartsWith),
    ("bstartswith ", CmpOp::BStartsWith),
    ("endswith ", CmpOp::EndsWith),
    ("regex ", CmpOp::Regex),
];

const LIST_OPS: [(&str, CmpOp); 3] = [
    ("intersects", CmpOp::Intersects),
    ("in", CmpOp::In),
    ("pmatch", CmpOp::PMatch),
];

const MODIFIERS: [(&str, Modifier); 3] = [
    ("oneof ", Modifier::OneOf),
    ("anyof ", Modifier::AnyOf),
    ("allof ", Modifier::AllOf),
];

const TRANSFORMERS: [(&str, Transformer); 8] = [
    ("tolower(", Transformer::ToLower),
    ("toupper(", Transformer::ToUpper),
    ("b64(", Transformer::B64),
    ("basename(", Transformer::Basename),
    ("len(", Transformer::Len),
    ("join(", Transformer::Join),
    ("concat(", Transformer::Concat),
    ("getopt(", Transformer::Getopt),
];

const TRANSFORMER_NAMES: &str = "'val', 'tolower', 'toupper', 'b64', 'basename', 'len', 'join', 'concat', 'getopt'";

fn quoted_list(items: &[&str]) -> String {
    items.iter().map(|s| format!("'{s}'")).collect::<Vec<_>>().join(", ")
}

/// Blanks as the parser skips them between tokens.
fn is_blank(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | 0x08 | b'\r' | b'\n')
}

/// POSIX `[:space:]`, used by the token regexes.
fn is_posix_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic()
}

fn is_ident_rest(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Where a pending operand of the boolean layer starts (which libsinsp function would be entered next).
#[derive(Clone, Copy)]
enum Entry {
    Or,
    And,
    Not,
    Group,
}

/// An open construct of the boolean layer.
enum Frame {
    Or(Vec<Expr>),
    And(Vec<Expr>),
    /// `parse_not` in progress; `check_open` when it went through `parse_check` into a parenthesis.
    Not {
        negate: bool,
        check_open: bool,
    },
    /// Inside parentheses, waiting for `)`.
    Group,
}

/// A transformer whose arguments are being read; `list` is set inside a `( ... )` argument list.
struct TransformFrame {
    kind: Transformer,
    pos: Pos,
    args: Vec<TransformArg>,
    list: Option<Vec<TransformArg>>,
}

impl TransformFrame {
    fn new(kind: Transformer, pos: Pos) -> Self {
        TransformFrame {
            kind,
            pos,
            args: Vec::new(),
            list: None,
        }
    }
}

enum LastToken {
    Span(usize, usize),
    Text(String),
}

struct Parser<'a> {
    src: &'a [u8],
    pos: Pos,
    depth: u32,
    max_depth: u32,
    last: LastToken,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str, max_depth: u32) -> Self {
        Parser {
            src: text.as_bytes(),
            pos: Pos {
                offset: 0,
                line: 1,
                col: 1,
            },
            depth: 0,
            max_depth,
            last: LastToken::Span(0, 0),
        }
    }

    fn parse(mut self) -> Result<Expr, ParseError> {
        if self.src.is_empty() {
            return self.fail("filter input string is empty");
        }
        let expr = self.parse_boolean()?;
        if self.depth != 0 {
            return self.fail("parser fatal error: recursion is unbalanced");
        }
        if self.pos.offset != self.src.len() {
            let last = self.last_text();
            return self.fail(format!("unexpected token after '{last}', expecting 'or', 'and'"));
        }
        Ok(expr)
    }

    // ----- the boolean layer, iteratively -----

    fn parse_boolean(&mut self) -> Result<Expr, ParseError> {
        let mut stack: Vec<Frame> = Vec::new();
        let mut entry = Entry::Or;
        loop {
            let mut value = self.descend(&mut stack, entry)?;
            // Climb back up until some frame wants another operand.
            loop {
                let Some(top) = stack.last_mut() else {
                    return Ok(value);
                };
                match top {
                    Frame::Not { negate, check_open } => {
                        let (negate, check_open) = (*negate, *check_open);
                        stack.pop();
                        if check_open {
                            self.leave();
                        }
                        self.leave();
                        if negate {
                            value = Expr::Not(Box::new(value));
                        }
                    }
                    Frame::Group => {
                        self.lex_blank();
                        if !self.lex_str(")") {
                            return self.fail("expected a ')' token");
                        }
                        stack.pop();
                        self.leave();
                    }
                    Frame::And(children) => {
                        children.push(value);
                        self.lex_blank();
                        if self.lex_str("and") {
                            entry = self.after_keyword("and")?;
                            break;
                        }
                        let children = match stack.pop() {
                            Some(Frame::And(children)) => children,
                            _ => return self.fail("parser fatal error: unbalanced 'and'"),
                        };
                        self.leave();
                        value = join_children(children, Expr::And);
                    }
                    Frame::Or(children) => {
                        children.push(value);
                        self.lex_blank();
                        if self.lex_str("or") {
                            entry = match self.after_keyword("or")? {
                                Entry::Not => Entry::And,
                                other => other,
                            };
                            break;
                        }
                        let children = match stack.pop() {
                            Some(Frame::Or(children)) => children,
                            _ => return self.fail("parser fatal error: unbalanced 'or'"),
                        };
                        self.leave();
                        value = join_children(children, Expr::Or);
                    }
                }
            }
        }
    }

    /// After `and`/`or`: a blank continues with the next operand, `(` opens a group, anything else is an error.
    fn after_keyword(&mut self, keyword: &str) -> Result<Entry, ParseError> {
        if self.lex_blank() {
            return Ok(Entry::Not);
        }
        if self.lex_str("(") {
            return Ok(Entry::Group);
        }
        self.fail(format!("expected blank or '(' after '{keyword}'"))
    }

    /// Opens frames from `entry` down to the next check and returns that check.
    fn descend(&mut self, stack: &mut Vec<Frame>, mut entry: Entry) -> Result<Expr, ParseError> {
        loop {
            match entry {
                Entry::Group => {
                    self.enter()?;
                    stack.push(Frame::Group);
                    self.lex_blank();
                    entry = Entry::Or;
                }
                Entry::Or => {
                    self.enter()?;
                    self.lex_blank();
                    stack.push(Frame::Or(Vec::new()));
                    entry = Entry::And;
                }
                Entry::And => {
                    self.enter()?;
                    self.lex_blank();
                    stack.push(Frame::And(Vec::new()));
                    entry = Entry::Not;
                }
                Entry::Not => {
                    self.enter()?;
                    self.lex_blank();
                    let mut negate = false;
                    while self.lex_not_blank() {
                        negate = !negate;
                    }
                    if self.lex_str("not(") {
                        stack.push(Frame::Not {
                            negate: !negate,
                            check_open: false,
                        });
                        entry = Entry::Group;
                        continue;
                    }
                    // parse_check
                    self.enter()?;
                    self.lex_blank();
                    let pos = self.pos;
                    if self.lex_str("(") {
                        stack.push(Frame::Not {
                            negate,
                            check_open: true,
                        });
                        entry = Entry::Group;
                        continue;
                    }
                    let check = self.parse_check_leaf(pos)?;
                    self.leave();
                    self.leave();
                    return Ok(if negate { Expr::Not(Box::new(check)) } else { check });
                }
            }
        }
    }

    // ----- checks -----

    fn parse_check_leaf(&mut self, pos: Pos) -> Result<Expr, ParseError> {
        if self.lex_field_name() {
            let name = self.last_text();
            let field = self.parse_field_remainder(name, pos)?;
            return self.parse_comparison(field, pos);
        }
        if let Some(kind) = self.lex_transformer_type() {
            self.lex_blank();
            let lhs = self.parse_transformer_remainder(kind, pos)?;
            return self.parse_comparison(lhs, pos);
        }
        if self.lex_identifier() {
            return Ok(Expr::Macro {
                name: self.last_text(),
                pos,
            });
        }
        self.fail("expected a '(' token, a field check, or an identifier")
    }

    fn parse_field_remainder(&mut self, name: String, pos: Pos) -> Result<Operand, ParseError> {
        self.enter()?;
        let arg = self.parse_optional_field_arg()?;
        self.leave();
        Ok(Operand::Field { name, arg, pos })
    }

    /// `[arg]` right after a field name or a transformer's `)`.
    fn parse_optional_field_arg(&mut self) -> Result<Option<String>, ParseError> {
        if !self.lex_str("[") {
            return Ok(None);
        }
        let arg = if let Some(quoted) = self.lex_quoted_str()? {
            quoted
        } else if self.lex_field_arg_bare_str() {
            self.last_text()
        } else {
            return self.fail("expected a valid field argument: a quoted string or a bare string");
        };
        if !self.lex_str("]") {
            return self.fail("expected a ']' token");
        }
        Ok(Some(arg))
    }

    /// After `name(`: arguments, `)`, and an optional `[arg]`. Nested transformers are parsed with an explicit
    /// stack (one frame per open transformer), each counted against the depth limit.
    fn parse_transformer_remainder(&mut self, kind: Transformer, pos: Pos) -> Result<Operand, ParseError> {
        let mut frames = vec![TransformFrame::new(kind, pos)];
        self.enter()?;
        self.lex_blank();
        loop {
            // Read one argument (or open a nested transformer / list) in the innermost open construct.
            let in_list = frames.last().is_some_and(|f| f.list.is_some());
            let arg_pos = self.pos;
            let mut arg = if let Some(kind) = self.lex_transformer_type() {
                self.lex_blank();
                self.enter()?;
                frames.push(TransformFrame::new(kind, arg_pos));
                self.lex_blank();
                continue;
            } else if self.lex_field_name() {
                let name = self.last_text();
                TransformArg::Operand(self.parse_field_remainder(name, arg_pos)?)
            } else if let Some(quoted) = self.lex_quoted_str()? {
                TransformArg::Literal(quoted)
            } else if self.lex_hex_num() || self.lex_num() {
                TransformArg::Literal(self.last_text())
            } else if !in_list && self.lex_str("(") {
                self.lex_blank();
                if self.lex_str(")") {
                    TransformArg::List(Vec::new())
                } else {
                    if let Some(top) = frames.last_mut() {
                        top.list = Some(Vec::new());
                    }
                    continue;
                }
            } else {
                return self.fail(format!(
                    "expected a field or a nested valid transformer: {TRANSFORMER_NAMES}"
                ));
            };
            // Hand the finished argument to its construct; close constructs as long as they end here.
            loop {
                let Some(top) = frames.last_mut() else {
                    return self.fail("parser fatal error: unbalanced transformer");
                };
                if let Some(list) = top.list.as_mut() {
                    list.push(arg);
                    self.lex_blank();
                    if self.lex_str(",") {
                        self.lex_blank();
                        break;
                    }
                    if !self.lex_str(")") {
                        return self.fail("expected a ')' token");
                    }
                    arg = TransformArg::List(top.list.take().unwrap_or_default());
                }
                let Some(top) = frames.last_mut() else {
                    return self.fail("parser fatal error: unbalanced transformer");
                };
                top.args.push(arg);
                self.lex_blank();
                if self.lex_str(",") {
                    self.lex_blank();
                    break;
                }
                if !self.lex_str(")") {
                    return self.fail("expected a ')' token closing the transformer");
                }
                let field_arg = self.parse_optional_field_arg()?;
                self.leave();
                let Some(done) = frames.pop() else {
                    return self.fail("parser fatal error: unbalanced transformer");
                };
                let operand = Operand::Transform {
                    kind: done.kind,
                    args: done.args,
                    arg: field_arg,
                    pos: done.pos,
                };
                if frames.is_empty() {
                    return Ok(operand);
                }
                arg = TransformArg::Operand(operand);
            }
        }
    }

    /// The operator and right-hand side after a field or transformer.
    fn parse_comparison(&mut self, lhs: Operand, pos: Pos) -> Result<Expr, ParseError> {
        self.enter()?;
        self.lex_blank();
        if self.lex_str("exists") {
            self.leave();
            return Ok(Expr::Exists { lhs, pos });
        }
        self.lex_blank();
        let (op, modifier, rhs) = if let Some(op) = self.lex_op(&NUM_OPS) {
            (op, None, self.parse_num_value_or_transformer()?)
        } else if let Some(op) = self.lex_op(&STR_OPS) {
            match self.try_parse_modifier()? {
                Some((modifier, rhs)) => (op, Some(modifier), rhs),
                None => (op, None, self.parse_str_value_or_transformer(false)?),
            }
        } else if let Some(op) = self.lex_op(&LIST_OPS) {
            (op, None, self.parse_list_value_or_transformer()?)
        } else {
            let ops = quoted_list(supported_operators());
            return self.fail(format!("expected a valid check operator: one of {ops}"));
        };
        self.leave();
        Ok(Expr::Compare {
            lhs,
            op,
            modifier,
            rhs,
            pos,
        })
    }

    /// `oneof|anyof|allof` followed by a list or a list name; otherwise nothing is consumed (the word is then an
    /// ordinary string value).
    fn try_parse_modifier(&mut self) -> Result<Option<(Modifier, Rhs)>, ParseError> {
        let saved_pos = self.pos;
        self.lex_blank();
        let Some(modifier) = MODIFIERS.iter().find_map(|(text, m)| self.lex_str(text).then_some(*m)) else {
            self.pos = saved_pos;
            return Ok(None);
        };
        self.lex_blank();
        if self.lex_str("(") {
            self.enter()?;
            let values = self.parse_paren_list_rest()?;
            self.leave();
            return Ok(Some((modifier, Rhs::List(values))));
        }
        let ident_len = self.match_identifier();
        if ident_len > 0 {
            let word = &self.src[self.pos.offset..self.pos.offset + ident_len];
            if !matches!(word, b"and" | b"or" | b"not") {
                self.lex_span(ident_len);
                return Ok(Some((modifier, Rhs::ListName(self.last_text()))));
            }
        }
        self.pos = saved_pos;
        Ok(None)
    }

    fn parse_num_value_or_transformer(&mut self) -> Result<Rhs, ParseError> {
        self.enter()?;
        self.lex_blank();
        if let Some(operand) = self.try_parse_transformer_or_val()? {
            self.leave();
            return Ok(Rhs::Operand(operand));
        }
        if self.lex_hex_num() || self.lex_num() {
            self.leave();
            return Ok(Rhs::Value(self.last_text()));
        }
        self.fail(format!(
            "expected a number value or a field with a valid transformer: {TRANSFORMER_NAMES}"
        ))
    }

    fn parse_str_value_or_transformer(&mut self, no_transformer: bool) -> Result<Rhs, ParseError> {
        self.enter()?;
        self.lex_blank();
        if !no_transformer {
            if let Some(operand) = self.try_parse_transformer_or_val()? {
                self.leave();
                return Ok(Rhs::Operand(operand));
            }
        }
        if let Some(quoted) = self.lex_quoted_str()? {
            self.leave();
            return Ok(Rhs::Value(quoted));
        }
        if self.lex_bare_str() {
            self.leave();
            return Ok(Rhs::Value(self.last_text()));
        }
        if no_transformer {
            return self.fail("expected a string value");
        }
        self.fail(format!(
            "expected a string value or a field with a valid transformer: {TRANSFORMER_NAMES}"
        ))
    }

    fn parse_list_value_or_transformer(&mut self) -> Result<Rhs, ParseError> {
        self.enter()?;
        self.lex_blank();
        if self.lex_str("(") {
            let values = self.parse_paren_list_rest()?;
            self.leave();
            return Ok(Rhs::List(values));
        }
        if let Some(operand) = self.try_parse_transformer_or_val()? {
            self.leave();
            return Ok(Rhs::Operand(operand));
        }
        if self.lex_identifier() {
            self.leave();
            return Ok(Rhs::ListName(self.last_text()));
        }
        self.fail(format!(
            "expected a list, an identifier, or a field with a valid transformer: {TRANSFORMER_NAMES}"
        ))
    }

    /// The values of a `( ... )` list after its `(`, and the closing `)`.
    fn parse_paren_list_rest(&mut self) -> Result<Vec<String>, ParseError> {
        self.lex_blank();
        let mut values = Vec::new();
        let depth_before = self.depth;
        // libsinsp treats any failure to read a first value as an empty list (and then wants a ')').
        if let Ok(first) = self.parse_str_value_or_transformer(true) {
            values.push(rhs_value(first));
            self.lex_blank();
            while self.lex_str(",") {
                let next = self.parse_str_value_or_transformer(true)?;
                values.push(rhs_value(next));
                self.lex_blank();
            }
        } else {
            self.depth = depth_before;
        }
        if !self.lex_str(")") {
            return self.fail("expected a ')' token");
        }
        Ok(values)
    }

    /// `val(field)` or a transformer on the right-hand side; `None` (nothing consumed) otherwise.
    fn try_parse_transformer_or_val(&mut self) -> Result<Option<Operand>, ParseError> {
        self.enter()?;
        self.lex_blank();
        let pos = self.pos;
        if self.lex_str("val(") {
            self.lex_blank();
            let field_pos = self.pos;
            if !self.lex_field_name() {
                return self.fail("expected a field within 'val' transformer");
            }
            let name = self.last_text();
            let field = self.parse_field_remainder(name, field_pos)?;
            self.lex_blank();
            if !self.lex_str(")") {
                return self.fail("expected a ')' token closing the transformer");
            }
            self.leave();
            return Ok(Some(field));
        }
        if let Some(kind) = self.lex_transformer_type() {
            self.lex_blank();
            let operand = self.parse_transformer_remainder(kind, pos)?;
            self.leave();
            return Ok(Some(operand));
        }
        self.leave();
        Ok(None)
    }

    // ----- bookkeeping -----

    fn enter(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth >= self.max_depth {
            return self.fail(format!("exceeded max depth limit of {}", self.max_depth));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    fn fail<T>(&self, message: impl Into<String>) -> Result<T, ParseError> {
        Err(ParseError {
            message: message.into(),
            pos: self.pos,
        })
    }

    fn last_text(&self) -> String {
        match &self.last {
            LastToken::Span(a, b) => String::from_utf8_lossy(&self.src[*a..*b]).into_owned(),
            LastToken::Text(s) => s.clone(),
        }
    }

    fn peek_at(&self, i: usize) -> u8 {
        self.src.get(self.pos.offset + i).copied().unwrap_or(0)
    }

    fn advance(&mut self, n: usize) {
        let end = (self.pos.offset + n).min(self.src.len());
        for &b in &self.src[self.pos.offset..end] {
            self.pos.col += 1;
            if b == b'\r' || b == b'\n' {
                self.pos.col = 1;
                self.pos.line += 1;
            }
        }
        self.pos.offset = end;
    }

    /// Consumes `len` bytes as the last token.
    fn lex_span(&mut self, len: usize) {
        self.last = LastToken::Span(self.pos.offset, self.pos.offset + len);
        self.advance(len);
    }

    /// Consumes the bytes matched by `accept`, at least one; the token is only taken if it is non-empty.
    fn lex_run(&mut self, accept: impl Fn(u8) -> bool) -> bool {
        let len = self.src[self.pos.offset..]
            .iter()
            .take_while(|&&b| b != 0 && accept(b))
            .count();
        if len == 0 {
            return false;
        }
        self.lex_span(len);
        true
    }

    fn lex_blank(&mut self) -> bool {
        let len = self.src[self.pos.offset..].iter().take_while(|&&b| is_blank(b)).count();
        self.advance(len);
        len > 0
    }

    fn lex_str(&mut self, s: &str) -> bool {
        if self.src[self.pos.offset..].starts_with(s.as_bytes()) {
            self.lex_span(s.len());
            return true;
        }
        false
    }

    fn lex_op(&mut self, ops: &[(&str, CmpOp)]) -> Option<CmpOp> {
        ops.iter().find_map(|(text, op)| self.lex_str(text).then_some(*op))
    }

    fn lex_transformer_type(&mut self) -> Option<Transformer> {
        TRANSFORMERS
            .iter()
            .find_map(|(text, kind)| self.lex_str(text).then_some(*kind))
    }

    /// `not` followed by at least one POSIX space.
    fn lex_not_blank(&mut self) -> bool {
        if !self.src[self.pos.offset..].starts_with(b"not") || !is_posix_space(self.peek_at(3)) {
            return false;
        }
        let spaces = self.src[self.pos.offset + 3..]
            .iter()
            .take_while(|&&b| is_posix_space(b))
            .count();
        self.lex_span(3 + spaces);
        true
    }

    /// Length of an identifier (`[a-zA-Z]+[a-zA-Z0-9_]*`) at the cursor, 0 if none.
    fn match_identifier(&self) -> usize {
        identifier_len(&self.src[self.pos.offset..])
    }

    fn lex_identifier(&mut self) -> bool {
        let len = self.match_identifier();
        if len == 0 {
            return false;
        }
        self.lex_span(len);
        true
    }

    /// A dotted field name: identifier segments joined by `.`, at least two.
    fn lex_field_name(&mut self) -> bool {
        let rest = &self.src[self.pos.offset..];
        let mut len = identifier_len(rest);
        if len == 0 {
            return false;
        }
        let mut segments = 1;
        while rest.get(len) == Some(&b'.') && rest.get(len + 1).is_some_and(|&b| is_ident_start(b)) {
            len += 1 + identifier_len(&rest[len + 1..]);
            segments += 1;
        }
        if segments < 2 {
            return false;
        }
        self.lex_span(len);
        true
    }

    fn lex_field_arg_bare_str(&mut self) -> bool {
        self.lex_run(|b| !matches!(b, b'[' | b']' | b'"' | b'\'') && !is_posix_space(b))
    }

    fn lex_bare_str(&mut self) -> bool {
        self.lex_run(|b| !matches!(b, b'(' | b')' | b'"' | b'\'' | b'=' | b',') && !is_posix_space(b))
    }

    fn lex_hex_num(&mut self) -> bool {
        let len = hex_len(&self.src[self.pos.offset..]);
        if len == 0 {
            return false;
        }
        self.lex_span(len);
        true
    }

    fn lex_num(&mut self) -> bool {
        let len = number_len(&self.src[self.pos.offset..]);
        if len == 0 {
            return false;
        }
        self.lex_span(len);
        true
    }

    /// A `"..."` or `'...'` string, ending at the first matching quote not preceded by a backslash, unescaped.
    /// `None` (nothing consumed) when there is no quote here or it is never closed.
    fn lex_quoted_str(&mut self) -> Result<Option<String>, ParseError> {
        let start = self.pos.offset;
        let quote = self.peek_at(0);
        if quote != b'"' && quote != b'\'' {
            return Ok(None);
        }
        let mut prev = quote;
        let mut end = None;
        for (i, &b) in self.src[start + 1..].iter().enumerate() {
            if b == 0 {
                break;
            }
            if b == quote && prev != b'\\' {
                end = Some(start + 1 + i);
                break;
            }
            prev = b;
        }
        let Some(end) = end else {
            return Ok(None);
        };
        self.advance(end + 1 - start);
        let inner = String::from_utf8_lossy(&self.src[start + 1..end]);
        let value = unescape(&inner, quote).map_err(|message| ParseError { message, pos: self.pos })?;
        self.last = LastToken::Text(value.clone());
        Ok(Some(value))
    }
}

fn join_children(mut children: Vec<Expr>, make: fn(Vec<Expr>) -> Expr) -> Expr {
    if children.len() == 1 {
        if let Some(only) = children.pop() {
            return only;
        }
    }
    make(children)
}

fn rhs_value(rhs: Rhs) -> String {
    match rhs {
        Rhs::Value(v) | Rhs::ListName(v) => v,
        // parse_str_value_or_transformer(true) only produces values.
        Rhs::List(_) | Rhs::Operand(_) => String::new(),
    }
}

pub(crate) fn identifier_len(s: &[u8]) -> usize {
    match s.first() {
        Some(&b) if is_ident_start(b) => 1 + s[1..].iter().take_while(|&&b| is_ident_rest(b)).count(),
        _ => 0,
    }
}

/// `0[xX][0-9a-fA-F]+`
pub(crate) fn hex_len(s: &[u8]) -> usize {
    if s.len() < 3 || s[0] != b'0' || !matches!(s[1], b'x' | b'X') {
        return 0;
    }
    let digits = s[2..].iter().take_while(|b| b.is_ascii_hexdigit()).count();
    if digits == 0 {
        0
    } else {
        2 + digits
    }
}

/// `[+-]?[0-9]+\.?[0-9]*([eE][+-][0-9]+)?`
pub(crate) fn number_len(s: &[u8]) -> usize {
    let digits_at = |i: usize| {
        s.get(i..)
            .map_or(0, |t| t.iter().take_while(|b| b.is_ascii_digit()).count())
    };
    let mut i = usize::from(matches!(s.first(), Some(b'+' | b'-')));
    let int = digits_at(i);
    if int == 0 {
        return 0;
    }
    i += int;
    if s.get(i) == Some(&b'.') {
        i += 1;
        i += digits_at(i);
    }
    if matches!(s.get(i), Some(b'e' | b'E')) && matches!(s.get(i + 1), Some(b'+' | b'-')) {
        let exp = digits_at(i + 2);
        if exp > 0 {
            i += 2 + exp;
        }
    }
    i
}

/// libsinsp's string unescaping (filter/escaping.cpp).
fn unescape(inner: &str, quote: u8) -> Result<String, String> {
    let mut out = String::with_capacity(inner.len());
    let mut escaped = false;
    for c in inner.chars() {
        if !escaped {
            if c == '\\' {
                escaped = true;
            } else {
                out.push(c);
            }
            continue;
        }
        escaped = false;
        match c {
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            // `\ ` is a legacy spelling of a backslash that Falco keeps accepting.
            ' ' | '\\' => out.push('\\'),
            '/' => out.push('/'),
            '"' if quote == b'"' => out.push('"'),
            '"' => return Err("invalid \\\" escape in '-quoted string".to_string()),
            '\'' if quote == b'\'' => out.push('\''),
            '\'' => return Err("invalid \\' escape in \"-quoted string".to_string()),
            other => return Err(format!("unsupported string escape sequence: \\{other}")),
        }
    }
    Ok(out)
}
