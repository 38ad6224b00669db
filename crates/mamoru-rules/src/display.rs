//! The canonical printer for conditions (libsinsp `ast::as_string` style): `and`/`or` groups in parentheses,
//! `not x`, values quoted only when needed. Unlike libsinsp, a value is also quoted when it would not read back as a
//! bare string (empty, or containing `(`, `)`, `,`, `=`), so the printed text always re-parses to the same tree.
//!
//! Printing walks the boolean layer with an explicit stack, and [`Expr::depth`] / [`Expr::node_count`] are
//! iterative, so arbitrarily deep trees are safe to print and measure.

use crate::ast::{Expr, Modifier, Operand, Rhs, TransformArg};
use crate::parser::{hex_len, number_len};
use std::fmt::{self, Display, Formatter, Write};

impl Modifier {
    /// The modifier as written after an operator.
    pub fn as_str(self) -> &'static str {
        match self {
            Modifier::OneOf => "oneof",
            Modifier::AnyOf => "anyof",
            Modifier::AllOf => "allof",
        }
    }
}

impl Expr {
    /// Nesting depth of the boolean layer (a single check is 1), computed without recursion.
    pub fn depth(&self) -> usize {
        let mut max = 0;
        let mut stack = vec![(self, 1usize)];
        while let Some((e, d)) = stack.pop() {
            max = max.max(d);
            match e {
                Expr::And(children) | Expr::Or(children) => stack.extend(children.iter().map(|c| (c, d + 1))),
                Expr::Not(child) => stack.push((child, d + 1)),
                Expr::Macro { .. } | Expr::Exists { .. } | Expr::Compare { .. } => {}
            }
        }
        max
    }

    /// Number of boolean-layer nodes (checks, macro references, and/or/not), computed without recursion.
    pub fn node_count(&self) -> usize {
        let mut count = 0;
        let mut stack = vec![self];
        while let Some(e) = stack.pop() {
            count += 1;
            match e {
                Expr::And(children) | Expr::Or(children) => stack.extend(children.iter()),
                Expr::Not(child) => stack.push(child),
                Expr::Macro { .. } | Expr::Exists { .. } | Expr::Compare { .. } => {}
            }
        }
        count
    }
}

enum Piece<'a> {
    Expr(&'a Expr),
    Text(&'static str),
}

impl Display for Expr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let mut stack = vec![Piece::Expr(self)];
        while let Some(piece) = stack.pop() {
            let e = match piece {
                Piece::Text(t) => {
                    f.write_str(t)?;
                    continue;
                }
                Piece::Expr(e) => e,
            };
            match e {
                Expr::And(children) => push_group(&mut stack, children, " and "),
                Expr::Or(children) => push_group(&mut stack, children, " or "),
                Expr::Not(child) => {
                    stack.push(Piece::Expr(child));
                    stack.push(Piece::Text("not "));
                }
                // A bare `not` followed by a blank would read back as the operator.
                Expr::Macro { name, .. } if name == "not" => f.write_str("(not)")?,
                Expr::Macro { name, .. } => f.write_str(name)?,
                Expr::Exists { lhs, .. } => write!(f, "{lhs} exists")?,
                Expr::Compare {
                    lhs, op, modifier, rhs, ..
                } => {
                    write!(f, "{lhs} {} ", op.as_str())?;
                    if let Some(m) = modifier {
                        write!(f, "{} ", m.as_str())?;
                    }
                    write!(f, "{rhs}")?;
                }
            }
        }
        Ok(())
    }
}

/// Schedules `(c1 sep c2 sep ...)` on the print stack (pushed in reverse).
fn push_group<'a>(stack: &mut Vec<Piece<'a>>, children: &'a [Expr], sep: &'static str) {
    stack.push(Piece::Text(")"));
    for (i, child) in children.iter().enumerate().rev() {
        stack.push(Piece::Expr(child));
        if i > 0 {
            stack.push(Piece::Text(sep));
        }
    }
    stack.push(Piece::Text("("));
}

impl Display for Operand {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Operand::Field { name, arg, .. } => {
                f.write_str(name)?;
                write_field_arg(f, arg.as_deref())
            }
            Operand::Transform { kind, args, arg, .. } => {
                write!(f, "{}(", kind.name())?;
                write_transform_args(f, args)?;
                f.write_char(')')?;
                write_field_arg(f, arg.as_deref())
            }
        }
    }
}

fn write_field_arg(f: &mut Formatter<'_>, arg: Option<&str>) -> fmt::Result {
    match arg {
        None => Ok(()),
        Some(a) if is_bare_field_arg(a) => write!(f, "[{a}]"),
        Some(a) => write!(f, "[{}]", quote(a)),
    }
}

fn write_transform_args(f: &mut Formatter<'_>, args: &[TransformArg]) -> fmt::Result {
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        match a {
            TransformArg::Operand(o) => write!(f, "{o}")?,
            TransformArg::Literal(l) if is_number(l) => f.write_str(l)?,
            TransformArg::Literal(l) => f.write_str(&quote(l))?,
            TransformArg::List(items) => {
                f.write_char('(')?;
                write_transform_args(f, items)?;
                f.write_char(')')?;
            }
        }
    }
    Ok(())
}

impl Display for Rhs {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Rhs::Value(v) => f.write_str(&format_value(v)),
            Rhs::List(values) => {
                f.write_char('(')?;
                for (i, v) in values.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    f.write_str(&format_value(v))?;
                }
                f.write_char(')')
            }
            Rhs::ListName(name) => f.write_str(name),
            Rhs::Operand(field @ Operand::Field { .. }) => write!(f, "val({field})"),
            Rhs::Operand(transform) => write!(f, "{transform}"),
        }
    }
}

/// A value as the printer writes it: bare when it reads back as a bare string, else double-quoted and escaped.
pub fn format_value(v: &str) -> String {
    if is_bare_value(v) {
        v.to_string()
    } else {
        quote(v)
    }
}

fn is_bare_value(v: &str) -> bool {
    !v.is_empty()
        && v.bytes().all(|b| {
            !matches!(b, b'(' | b')' | b'"' | b'\'' | b'=' | b',' | b'\\' | 0 | 0x08)
                && !matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
        })
}

fn is_bare_field_arg(a: &str) -> bool {
    !a.is_empty()
        && a.bytes().all(|b| {
            !matches!(b, b'[' | b']' | b'"' | b'\'' | b'\\' | 0 | 0x08)
                && !matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
        })
}

fn is_number(v: &str) -> bool {
    let b = v.as_bytes();
    !b.is_empty() && (hex_len(b) == b.len() || number_len(b) == b.len())
}

fn quote(v: &str) -> String {
    let mut out = String::with_capacity(v.len() + 2);
    out.push('"');
    let mut chars = v.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            // A backslash right before the closing quote would stop the lexer from seeing the quote; `\ ` is the
            // legacy spelling of a backslash that libsinsp still accepts.
            '\\' if chars.peek().is_none() => out.push_str("\\ "),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            other => out.push(other),
        }
    }
    out.push('"');
    out
}
