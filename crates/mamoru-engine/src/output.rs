//! Rule outputs: compiling a format string (`... user=%user.name parent=%proc.aname[2] %tolower(proc.name)`) into
//! literal text and field tokens, and rendering it for an event into a message and typed output fields.
//!
//! Parsing follows libsinsp's formatter: at each `%` an optional width (`%20proc.name`) and then the longest prefix
//! that is a valid field (with an optional `[arg]`) or transformer expression; the text after it is literal again.
//! Falco prepends `*` to rule outputs, so a missing value prints `<NA>` (and is `null` in the output fields).

use crate::compile::{CompileError, Compiler, ErrorKind};
use crate::slots::{Scratch, SlotId, SlotTable};
use crate::text::write_value;
use mamoru_fields::{resolve_field_name, ArgSpec, Catalog, Source, TypeClass, Value};
use mamoru_rules::ast::{Operand, Pos, TransformArg, Transformer};
use std::collections::BTreeMap;

/// A value in an alert's output fields, typed as Falco's JSON output types it.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldJson {
    /// The field had no value.
    Null,
    U64(u64),
    I64(i64),
    F64(f64),
    Bool(bool),
    String(String),
    /// A list field: one entry per value.
    Array(Vec<FieldJson>),
}

pub(crate) struct OutputFormat {
    tokens: Vec<Token>,
}

enum Token {
    Literal(Vec<u8>),
    Field(FieldToken),
}

struct FieldToken {
    /// The field as written in the format (`proc.aname[2]`), the key in the output fields.
    key: String,
    slot: SlotId,
    width: usize,
    class: TypeClass,
    is_list: bool,
}

const TRANSFORMERS: [(&str, Transformer); 8] = [
    ("tolower", Transformer::ToLower),
    ("toupper", Transformer::ToUpper),
    ("b64", Transformer::B64),
    ("basename", Transformer::Basename),
    ("len", Transformer::Len),
    ("join", Transformer::Join),
    ("concat", Transformer::Concat),
    ("getopt", Transformer::Getopt),
];

fn pos_at(offset: usize) -> Pos {
    Pos {
        offset,
        line: 1,
        col: offset as u32 + 1,
    }
}

fn format_error(msg: impl Into<String>, offset: usize, unknown: bool) -> CompileError {
    CompileError {
        msg: msg.into(),
        pos: pos_at(offset),
        kind: if unknown { ErrorKind::Unknown } else { ErrorKind::Other },
    }
}

impl OutputFormat {
    /// Compiles `format` (a rule's output, without Falco's leading `*`).
    pub(crate) fn compile<S: Source>(format: &str, c: &mut Compiler<'_, S>) -> Result<OutputFormat, CompileError> {
        let b = format.as_bytes();
        let mut tokens = Vec::new();
        let mut literal_start = 0;
        let mut j = 0;
        while j < b.len() {
            if b[j] != b'%' {
                j += 1;
                continue;
            }
            if literal_start < j {
                tokens.push(Token::Literal(b[literal_start..j].to_vec()));
            }
            if j + 1 == b.len() {
                return Err(format_error(
                    "invalid formatting syntax: formatting cannot end with a %",
                    j,
                    false,
                ));
            }
            let mut k = j + 1;
            let mut width = 0usize;
            while k < b.len() && b[k].is_ascii_digit() {
                width = width.saturating_mul(10).saturating_add((b[k] - b'0') as usize);
                k += 1;
            }
            if k == b.len() {
                return Err(format_error(
                    "invalid formatting syntax: formatting cannot end with a number",
                    j,
                    false,
                ));
            }
            let (operand, len) = parse_operand(format, k, c.catalog)
                .ok_or_else(|| format_error(format!("invalid formatting token {}", &format[k..]), k, true))?;
            let info = c.compile_operand(&operand)?;
            tokens.push(Token::Field(FieldToken {
                key: format[k..k + len].to_string(),
                slot: info.slot,
                width,
                class: info.ty.class(),
                is_list: info.is_list,
            }));
            j = k + len;
            literal_start = j;
        }
        if literal_start < b.len() {
            tokens.push(Token::Literal(b[literal_start..].to_vec()));
        }
        Ok(OutputFormat { tokens })
    }

    /// Renders the message and the output fields (sorted by key, one entry per distinct key).
    pub(crate) fn render<S: Source>(
        &self,
        slots: &SlotTable<S>,
        ev: &S::Event<'_>,
        sc: &mut Scratch,
    ) -> (String, Vec<(String, FieldJson)>) {
        let mut msg = Vec::new();
        let mut fields = BTreeMap::new();
        let mut text = Vec::new();
        for t in &self.tokens {
            let f = match t {
                Token::Literal(l) => {
                    msg.extend_from_slice(l);
                    continue;
                }
                Token::Field(f) => f,
            };
            let (a, b) = slots.range(f.slot, ev, sc);
            text.clear();
            let json = if a == b {
                text.extend_from_slice(b"<NA>");
                FieldJson::Null
            } else if f.is_list {
                text.push(b'(');
                let mut items = Vec::with_capacity(b - a);
                for i in a..b {
                    if let Some(v) = sc.value(i) {
                        if i > a {
                            text.push(b',');
                        }
                        write_value(v, f.class, &mut text);
                        items.push(json_value(v, f.class));
                    }
                }
                text.push(b')');
                FieldJson::Array(items)
            } else {
                match sc.value(a) {
                    Some(v) => {
                        write_value(v, f.class, &mut text);
                        json_value(v, f.class)
                    }
                    None => FieldJson::Null,
                }
            };
            if f.width > 0 {
                text.resize(f.width, b' ');
            }
            msg.extend_from_slice(&text);
            fields.entry(f.key.clone()).or_insert(json);
        }
        (String::from_utf8_lossy(&msg).into_owned(), fields.into_iter().collect())
    }
}

fn json_value(v: Value<'_>, class: TypeClass) -> FieldJson {
    match (class, v) {
        (TypeClass::Numeric, Value::U64(x)) => FieldJson::U64(x),
        (TypeClass::Numeric, Value::I64(x)) => FieldJson::I64(x),
        (TypeClass::Numeric, Value::Double(x)) => FieldJson::F64(x),
        (TypeClass::Bool, Value::Bool(b)) => FieldJson::Bool(b),
        (TypeClass::Bool, Value::U64(x)) => FieldJson::Bool(x != 0),
        (_, other) => {
            let mut text = Vec::new();
            write_value(other, class, &mut text);
            FieldJson::String(String::from_utf8_lossy(&text).into_owned())
        }
    }
}

fn is_field_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'.'
}

/// Parses the longest field or transformer expression at `format[start..]`; returns it and its length in bytes.
fn parse_operand<S: Source>(format: &str, start: usize, catalog: &dyn Catalog<S>) -> Option<(Operand, usize)> {
    let rest = &format[start..];
    for (name, kind) in TRANSFORMERS {
        if rest.starts_with(name) && rest.as_bytes().get(name.len()) == Some(&b'(') {
            if let Some(found) = parse_transformer(format, start, name.len() + 1, kind, catalog) {
                return Some(found);
            }
        }
    }
    parse_field(format, start, catalog)
}

fn parse_transformer<S: Source>(
    format: &str,
    start: usize,
    open: usize,
    kind: Transformer,
    catalog: &dyn Catalog<S>,
) -> Option<(Operand, usize)> {
    let b = format.as_bytes();
    let mut k = start + open;
    let mut args = Vec::new();
    loop {
        while b.get(k) == Some(&b' ') {
            k += 1;
        }
        match *b.get(k)? {
            q @ (b'"' | b'\'') => {
                let end = k + 1 + format[k + 1..].find(q as char)?;
                args.push(TransformArg::Literal(format[k + 1..end].to_string()));
                k = end + 1;
            }
            _ => {
                let (o, len) = parse_operand(format, k, catalog)?;
                args.push(TransformArg::Operand(o));
                k += len;
            }
        }
        while b.get(k) == Some(&b' ') {
            k += 1;
        }
        match *b.get(k)? {
            b',' => k += 1,
            b')' => {
                k += 1;
                break;
            }
            _ => return None,
        }
    }
    let operand = Operand::Transform {
        kind,
        args,
        arg: None,
        pos: pos_at(start),
    };
    Some((operand, k - start))
}

fn parse_field<S: Source>(format: &str, start: usize, catalog: &dyn Catalog<S>) -> Option<(Operand, usize)> {
    let b = format.as_bytes();
    let mut end = start;
    while end < b.len() && is_field_char(b[end]) {
        end += 1;
    }
    while end > start && b[end - 1] == b'.' {
        end -= 1;
    }
    let fields = catalog.fields();
    let candidate = &format[start..end];
    // Longest valid prefix: the whole candidate if the catalogue binds it, else the longest catalogue entry.
    let (name_len, takes_arg) = if catalog.bind(candidate, None).is_ok() {
        let takes = resolve_field_name(fields, candidate)
            .map(|(info, dotted)| dotted.is_none() && !matches!(info.arg, ArgSpec::None))
            .unwrap_or(false);
        (candidate.len(), takes)
    } else {
        (1..=candidate.len()).rev().find_map(|len| {
            let (info, dotted) = resolve_field_name(fields, &candidate[..len])?;
            Some((len, dotted.is_none() && !matches!(info.arg, ArgSpec::None)))
        })?
    };
    let name = &format[start..start + name_len];
    let mut consumed = name_len;
    let mut arg = None;
    if takes_arg && b.get(start + name_len) == Some(&b'[') {
        let open = start + name_len + 1;
        let close = open + format[open..].find(']')?;
        arg = Some(format[open..close].to_string());
        consumed = close + 1 - start;
    }
    let operand = Operand::Field {
        name: name.to_string(),
        arg,
        pos: pos_at(start),
    };
    Some((operand, consumed))
}
