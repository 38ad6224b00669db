//! Compiling condition ASTs against a field catalogue: binding fields to slots, type checking operators and
//! right-hand sides with libsinsp's rules and error texts, parsing constants once, and building [`Node`] trees.

use crate::check::{FieldCmp, Node, NumDomain, NumOp, Quant, Test};
use crate::consts::{parse_bool, parse_ip, parse_net, parse_number, unhex, Num};
use crate::optimize::{combine, worth_caching};
use crate::pmatch::PathSet;
use crate::sets::{BytesSet, CodeSet, NumSet, PrefixSet};
use crate::slots::{ConcatPart, MapOp, SlotId, SlotKind, SlotTable};
use aho_corasick::AhoCorasick;
use mamoru_fields::{BindError, BoundField, Catalog, FieldType, Source, TypeClass};
use mamoru_rules::ast::{CmpOp, Expr, Modifier, Operand, Pos, Rhs, TransformArg, Transformer};
use memchr::memmem::Finder;
use rustc_hash::FxHashMap;

/// Why a condition (or an output token) did not compile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CompileError {
    pub msg: String,
    pub pos: Pos,
    pub kind: ErrorKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorKind {
    /// Unknown field (or formatting token): a rule with `skip-if-unknown-filter` is skipped with a warning.
    Unknown,
    /// A macro reference survived expansion; the loader has already reported it.
    UndefinedMacro,
    Other,
}

impl CompileError {
    fn new(msg: impl Into<String>, pos: Pos) -> CompileError {
        CompileError {
            msg: msg.into(),
            pos,
            kind: ErrorKind::Other,
        }
    }
}

/// A warning found while compiling (`LOAD_COMPILE_CONDITION`, `LOAD_DEPRECATED_ITEM`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Warning {
    pub code: &'static str,
    pub msg: String,
    pub pos: Pos,
}

/// The code of a deprecated-field warning; its `msg` is the field name, worded by where it was found.
pub(crate) const DEPRECATED_ITEM: &str = "LOAD_DEPRECATED_ITEM";

/// What a compiled operand is: its slot and its (transformed) type.
#[derive(Debug, Clone)]
pub(crate) struct OperandInfo {
    pub slot: SlotId,
    pub ty: FieldType,
    pub is_list: bool,
    pub any_of: bool,
    pub no_rhs: bool,
    pub no_transformer: bool,
    /// The underlying field's name, for messages (`proc.name` for `tolower(proc.name)`).
    pub name: String,
    /// Canonical text of the operand (`proc.aname[2]`, `tolower(proc.name)`): the slot key.
    pub text: String,
}

/// Predicates (sub-conditions) shared between rules, by canonical text: each gets a per-event result cache.
#[derive(Default)]
pub(crate) struct SharedPredicates {
    ids: FxHashMap<String, u32>,
}

impl SharedPredicates {
    pub(crate) fn len(&self) -> usize {
        self.ids.len()
    }
}

/// Sub-conditions longer than this (as text) are not cached: their keys would cost more than they save.
const MAX_PREDICATE_KEY: usize = 4096;

pub(crate) struct Compiler<'a, S: Source> {
    pub catalog: &'a dyn Catalog<S>,
    pub slots: &'a mut SlotTable<S>,
    pub shared: &'a mut SharedPredicates,
    pub warnings: Vec<Warning>,
}

impl<'a, S: Source> Compiler<'a, S> {
    pub(crate) fn new(
        catalog: &'a dyn Catalog<S>,
        slots: &'a mut SlotTable<S>,
        shared: &'a mut SharedPredicates,
    ) -> Self {
        Compiler {
            catalog,
            slots,
            shared,
            warnings: Vec::new(),
        }
    }

    /// Compiles a condition. Every sub-condition is tagged with the id of its canonical text, so identical
    /// sub-conditions (typically expanded macros) share one per-event result; see [`crate::optimize::finalize`].
    pub(crate) fn compile_expr(&mut self, e: &Expr) -> Result<Node, CompileError> {
        Ok(self.compile_keyed(e)?.0)
    }

    fn compile_keyed(&mut self, e: &Expr) -> Result<(Node, Option<String>), CompileError> {
        let (node, key) = match e {
            Expr::And(children) | Expr::Or(children) => {
                let conj = matches!(e, Expr::And(_));
                let mut nodes = Vec::with_capacity(children.len());
                let mut keys = Some(Vec::with_capacity(children.len()));
                for c in children {
                    let (n, k) = self.compile_keyed(c)?;
                    nodes.push(n);
                    keys = keys.zip(k).map(|(mut ks, k)| {
                        ks.push(k);
                        ks
                    });
                }
                let sep = if conj { " and " } else { " or " };
                let key = keys.map(|ks| format!("({})", ks.join(sep)));
                (combine(conj, nodes), key)
            }
            Expr::Not(child) => {
                let (n, k) = self.compile_keyed(child)?;
                let node = match n {
                    Node::Const(b) => Node::Const(!b),
                    n => Node::Not(Box::new(n)),
                };
                (node, k.map(|k| format!("not {k}")))
            }
            Expr::Macro { name, pos } => {
                return Err(CompileError {
                    msg: format!("Undefined macro '{name}' used in filter."),
                    pos: *pos,
                    kind: ErrorKind::UndefinedMacro,
                })
            }
            Expr::Exists { lhs, .. } => (Node::Exists(self.compile_operand(lhs)?.slot), Some(e.to_string())),
            Expr::Compare {
                lhs,
                op,
                modifier,
                rhs,
                pos,
            } => (
                self.compile_compare(lhs, *op, *modifier, rhs, *pos)?,
                Some(e.to_string()),
            ),
        };
        let key = key.filter(|k| k.len() <= MAX_PREDICATE_KEY);
        let node = match (node, &key) {
            (n, _) if !worth_caching(&n) => n,
            (n, Some(k)) => {
                let next = self.shared.ids.len() as u32;
                let id = *self.shared.ids.entry(k.clone()).or_insert(next);
                Node::Cached { id, node: Box::new(n) }
            }
            (n, None) => n,
        };
        Ok((node, key))
    }

    // ---------------------------------------------------------------------------------------------------------
    // Operands

    pub(crate) fn compile_operand(&mut self, o: &Operand) -> Result<OperandInfo, CompileError> {
        match o {
            Operand::Field { name, arg, pos } => self.compile_field(name, arg.as_deref(), *pos),
            Operand::Transform { kind, args, arg, pos } => self.compile_transform(*kind, args, arg.as_deref(), *pos),
        }
    }

    fn compile_field(&mut self, name: &str, arg: Option<&str>, pos: Pos) -> Result<OperandInfo, CompileError> {
        let bound = self
            .catalog
            .bind(name, arg)
            .map_err(|e| bind_error(e, name, arg, pos))?;
        let BoundField {
            info,
            arg: bound_arg,
            any_of,
            extractor,
        } = bound;
        if info.flags.deprecated {
            self.warnings.push(Warning {
                code: DEPRECATED_ITEM,
                msg: info.name.to_string(),
                pos,
            });
        }
        let text = match &bound_arg {
            Some(a) => format!("{}[{}]", info.name, a),
            None => info.name.to_string(),
        };
        let slot = self.slots.intern(text.clone(), || SlotKind::Field(extractor));
        Ok(OperandInfo {
            slot,
            ty: info.ty,
            is_list: info.flags.is_list,
            any_of: any_of && !info.flags.is_list,
            no_rhs: info.flags.no_rhs,
            no_transformer: info.flags.no_transformer,
            name: info.name.to_string(),
            text,
        })
    }

    fn compile_transform(
        &mut self,
        kind: Transformer,
        args: &[TransformArg],
        arg: Option<&str>,
        pos: Pos,
    ) -> Result<OperandInfo, CompileError> {
        if kind == Transformer::Getopt {
            return Err(CompileError::new(
                "filter error: 'getopt' transformer is not supported",
                pos,
            ));
        }
        if arg.is_some() {
            return Err(CompileError::new(
                format!("filter error: '{}' transformer does not take an argument", kind.name()),
                pos,
            ));
        }
        match kind {
            Transformer::Join => self.compile_join(args, pos),
            Transformer::Concat => self.compile_concat(args, pos),
            _ => {
                let [TransformArg::Operand(inner)] = args else {
                    return Err(CompileError::new(
                        format!("filter error: '{}' transformer takes exactly one field", kind.name()),
                        pos,
                    ));
                };
                let inner = self.compile_operand(inner)?;
                self.apply_map(kind, inner, pos)
            }
        }
    }

    fn apply_map(&mut self, kind: Transformer, inner: OperandInfo, pos: Pos) -> Result<OperandInfo, CompileError> {
        if inner.no_transformer {
            return Err(CompileError::new(
                format!("field '{}' does not support transformers", inner.name),
                pos,
            ));
        }
        use FieldType::*;
        let supported = match kind {
            Transformer::ToLower | Transformer::ToUpper | Transformer::Basename => {
                matches!(inner.ty, Charbuf | Fspath | Fsrelpath)
            }
            Transformer::B64 => matches!(inner.ty, Charbuf | Bytebuf),
            Transformer::Len => inner.is_list || matches!(inner.ty, Charbuf | Bytebuf | Fspath | Fsrelpath),
            Transformer::Join | Transformer::Concat | Transformer::Getopt => false,
        };
        if !supported {
            return Err(transformer_type_error(kind, &inner, pos));
        }
        let text = format!("{}({})", kind.name(), inner.text);
        let input = inner.slot;
        let (slot, ty, is_list, any_of) = match kind {
            Transformer::Len if inner.is_list => (
                self.slots.intern(text.clone(), || SlotKind::Count { input }),
                Uint64,
                false,
                false,
            ),
            _ => {
                let op = match kind {
                    Transformer::ToLower => MapOp::Lower,
                    Transformer::ToUpper => MapOp::Upper,
                    Transformer::Basename => MapOp::Basename,
                    Transformer::B64 => MapOp::B64,
                    _ => MapOp::Len,
                };
                let ty = if op == MapOp::Len { Uint64 } else { inner.ty };
                (
                    self.slots.intern(text.clone(), || SlotKind::Map { op, input }),
                    ty,
                    inner.is_list,
                    inner.any_of,
                )
            }
        };
        Ok(OperandInfo {
            slot,
            ty,
            is_list,
            any_of,
            no_rhs: false,
            no_transformer: false,
            name: inner.name,
            text,
        })
    }

    fn compile_join(&mut self, args: &[TransformArg], pos: Pos) -> Result<OperandInfo, CompileError> {
        let usage = || {
            CompileError::new(
                "filter error: 'join' transformer takes a separator string and a list",
                pos,
            )
        };
        let [TransformArg::Literal(sep), second] = args else {
            return Err(usage());
        };
        let list = match second {
            // `join(sep, (a, b, ...))`: the items joined with the separator.
            TransformArg::List(items) => {
                let mut parts = Vec::with_capacity(items.len() * 2);
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        parts.push(TransformArg::Literal(sep.clone()));
                    }
                    parts.push(item.clone());
                }
                return self.compile_concat_parts(Transformer::Join, &parts, pos);
            }
            TransformArg::Operand(o) => o,
            TransformArg::Literal(_) => return Err(usage()),
        };
        let inner = self.compile_operand(list)?;
        if inner.no_transformer {
            return Err(CompileError::new(
                format!("field '{}' does not support transformers", inner.name),
                pos,
            ));
        }
        if !inner.is_list {
            return Err(transformer_type_error(Transformer::Join, &inner, pos));
        }
        let text = format!("join({}, {})", quote(sep), inner.text);
        let sep: Box<[u8]> = sep.as_bytes().into();
        let input = inner.slot;
        let slot = self.slots.intern(text.clone(), || SlotKind::Join { sep, input });
        Ok(string_operand(slot, inner.name, text))
    }

    fn compile_concat(&mut self, args: &[TransformArg], pos: Pos) -> Result<OperandInfo, CompileError> {
        match args {
            // `concat((a, b, ...))`
            [TransformArg::List(items)] => self.compile_concat_parts(Transformer::Concat, items, pos),
            _ => self.compile_concat_parts(Transformer::Concat, args, pos),
        }
    }

    /// One string made of literals and the (first) values of single-valued operands.
    fn compile_concat_parts(
        &mut self,
        kind: Transformer,
        args: &[TransformArg],
        pos: Pos,
    ) -> Result<OperandInfo, CompileError> {
        if kind == Transformer::Concat && args.len() < 2 {
            return Err(CompileError::new(
                "filter error: 'concat' transformer takes at least two arguments",
                pos,
            ));
        }
        let mut parts = Vec::with_capacity(args.len());
        let mut texts = Vec::with_capacity(args.len());
        let mut name = String::new();
        for a in args {
            match a {
                TransformArg::Literal(l) => {
                    texts.push(quote(l));
                    parts.push(ConcatPart::Literal(l.as_bytes().into()));
                }
                TransformArg::Operand(o) => {
                    let inner = self.compile_operand(o)?;
                    if inner.no_transformer {
                        return Err(CompileError::new(
                            format!("field '{}' does not support transformers", inner.name),
                            pos,
                        ));
                    }
                    if inner.is_list {
                        return Err(transformer_type_error(kind, &inner, pos));
                    }
                    if name.is_empty() {
                        name = inner.name.clone();
                    }
                    texts.push(inner.text.clone());
                    parts.push(ConcatPart::Slot(inner.slot));
                }
                TransformArg::List(_) => {
                    return Err(CompileError::new(
                        format!("filter error: '{}' transformer does not take nested lists", kind.name()),
                        pos,
                    ))
                }
            }
        }
        let text = format!("{}({})", kind.name(), texts.join(", "));
        let slot = self.slots.intern(text.clone(), || SlotKind::Concat(parts));
        Ok(string_operand(slot, name, text))
    }

    // ---------------------------------------------------------------------------------------------------------
    // Comparisons

    fn compile_compare(
        &mut self,
        lhs: &Operand,
        op: CmpOp,
        modifier: Option<Modifier>,
        rhs: &Rhs,
        pos: Pos,
    ) -> Result<Node, CompileError> {
        let l = self.compile_operand(lhs)?;
        check_comparable(op, l.ty, l.is_list).map_err(|m| CompileError::new(with_field(m, &l.name), pos))?;
        if let Some(m) = modifier {
            check_modifier(op, m, &l).map_err(|msg| CompileError::new(msg, pos))?;
        }
        let (values, was_list): (&[String], bool) = match rhs {
            Rhs::Operand(r) => {
                if modifier.is_some() {
                    return Err(CompileError::new(
                        "filter error: string operator modifiers need a list of values, not a field",
                        pos,
                    ));
                }
                return self.compile_field_compare(l, op, r, pos);
            }
            Rhs::ListName(name) => {
                return Err(CompileError::new(
                    format!("filter error: unexpected identifier '{name}'"),
                    pos,
                ))
            }
            Rhs::Value(v) => (std::slice::from_ref(v), false),
            Rhs::List(vs) => (vs, true),
        };
        if was_list && modifier.is_none() && !op.takes_list() && values.len() != 1 {
            return Err(CompileError::new(
                format!(
                    "filter error: operator '{}' takes a single value, not a list",
                    op.as_str()
                ),
                pos,
            ));
        }
        for v in values {
            self.check_value_warnings(op, v, pos);
        }
        if modifier.is_none() {
            if let Some(node) = self.event_code_test(&l, op, values) {
                return Ok(node);
            }
        }
        let quant = quant_for(&l, op);
        let err = |m: String| CompileError::new(with_field(m, &l.name), pos);
        let test = match modifier {
            Some(m) => {
                if values.is_empty() {
                    // libsinsp: a modifier over no values never matches.
                    return Ok(Node::Const(false));
                }
                modifier_test(m, op, &l, values).map_err(err)?
            }
            None if op.takes_list() => list_test(op, &l, values).map_err(err)?,
            None => single_test(op, &l, &values[0]).map_err(err)?,
        };
        Ok(Node::Check {
            slot: l.slot,
            quant,
            test,
        })
    }

    /// `evt.type =`, `!=` or `in` constants as a test of the event's code: the ruleset computes the code of every
    /// event to find its candidate rules, so the test is a bit lookup instead of a string comparison per rule. Only
    /// when the catalogue maps every value to the codes whose `evt.type` it is; otherwise the string test is kept.
    fn event_code_test(&self, l: &OperandInfo, op: CmpOp, values: &[String]) -> Option<Node> {
        if l.text != "evt.type" || values.is_empty() || !matches!(op, CmpOp::Eq | CmpOp::Ne | CmpOp::In) {
            return None;
        }
        if op != CmpOp::In && values.len() != 1 {
            return None;
        }
        let mut codes = CodeSet::empty(self.catalog.num_event_codes());
        for v in values {
            for code in self.catalog.event_codes_for(v)? {
                codes.insert(usize::from(code));
            }
        }
        let test = Node::EventCode(Box::new(codes));
        Some(if op == CmpOp::Ne {
            Node::Not(Box::new(test))
        } else {
            test
        })
    }

    fn compile_field_compare(
        &mut self,
        l: OperandInfo,
        op: CmpOp,
        r: &Operand,
        pos: Pos,
    ) -> Result<Node, CompileError> {
        let r = self.compile_operand(r)?;
        let fail = |msg: String| Err(CompileError::new(msg, pos));
        if matches!(op, CmpOp::PMatch | CmpOp::Regex) {
            let name = if op == CmpOp::PMatch { "PMATCH" } else { "REGEX" };
            return fail(format!("operator '{name}' doesn't support right-hand side fields"));
        }
        if l.ty.class() == TypeClass::Net {
            return fail("field type 'IPNET' doesn't support right-hand side fields".to_string());
        }
        if l.no_rhs {
            return fail(format!("field '{}' doesn't support right-hand side fields", l.name));
        }
        if r.no_rhs {
            return fail(format!("field '{}' can't be used as a right-hand side field", r.name));
        }
        if l.ty != r.ty || l.is_list != r.is_list {
            return fail(format!(
                "field '{}' has type '{}{}' while the right-hand side field '{}' has incompatible type '{}{}'",
                l.name,
                l.ty.falco_name(),
                if l.is_list { " (list)" } else { "" },
                r.name,
                r.ty.falco_name(),
                if r.is_list { " (list)" } else { "" },
            ));
        }
        Ok(Node::Fields {
            lhs: l.slot,
            quant: quant_for(&l, op),
            rhs: r.slot,
            cmp: FieldCmp {
                op,
                class: l.ty.class(),
                domain: num_domain(l.ty),
            },
        })
    }

    // ---------------------------------------------------------------------------------------------------------
    // Warnings on constant values (libsinsp check_value_and_add_warnings)

    fn check_value_warnings(&mut self, op: CmpOp, v: &str, pos: Pos) {
        if op == CmpOp::Regex {
            if let Some(msg) = regex_simplification_warning(v) {
                self.warnings.push(Warning {
                    code: "LOAD_COMPILE_CONDITION",
                    msg,
                    pos,
                });
            }
        }
        let nospaces: String = v.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        if looks_like_field(&nospaces) {
            let (name, arg) = split_field_arg(&nospaces);
            if self.catalog.bind(name, arg).is_ok() {
                self.warnings.push(Warning {
                    code: "LOAD_COMPILE_CONDITION",
                    msg: format!("'{v}' may be a valid field misused as a const string value"),
                    pos,
                });
            }
        }
        for t in TRANSFORMER_NAMES {
            if nospaces.len() >= t.len() + 2
                && nospaces.starts_with(t)
                && nospaces.as_bytes()[t.len()] == b'('
                && nospaces.ends_with(')')
            {
                self.warnings.push(Warning {
                    code: "LOAD_COMPILE_CONDITION",
                    msg: format!("'{v}' may be a valid field transformer misused as a const string value"),
                    pos,
                });
            }
        }
    }
}

const TRANSFORMER_NAMES: [&str; 9] = [
    "tolower", "toupper", "b64", "basename", "len", "join", "concat", "getopt", "val",
];

fn string_operand(slot: SlotId, name: String, text: String) -> OperandInfo {
    OperandInfo {
        slot,
        ty: FieldType::Charbuf,
        is_list: false,
        any_of: false,
        no_rhs: false,
        no_transformer: false,
        name,
        text,
    }
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

fn transformer_type_error(kind: Transformer, inner: &OperandInfo, pos: Pos) -> CompileError {
    CompileError::new(
        format!(
            "can't add field transformer: type '{}' is not supported by '{}' transformer applied on {}field '{}'",
            inner.ty.falco_name(),
            kind.name(),
            if inner.is_list { "list " } else { "" },
            inner.name
        ),
        pos,
    )
}

fn bind_error(e: BindError, name: &str, arg: Option<&str>, pos: Pos) -> CompileError {
    match e {
        BindError::UnknownField(_) => CompileError {
            msg: format!(
                "filter_check called with nonexistent field {}",
                match arg {
                    Some(a) => format!("{name}[{a}]"),
                    None => name.to_string(),
                }
            ),
            pos,
            kind: ErrorKind::Unknown,
        },
        other => CompileError::new(format!("filter error: {other}"), pos),
    }
}

/// Adds the field name to a libsinsp message that does not mention it.
fn with_field(msg: String, field: &str) -> String {
    if msg.contains(field) {
        msg
    } else {
        format!("{msg} (field '{field}')")
    }
}

fn quant_for(l: &OperandInfo, op: CmpOp) -> Quant {
    if l.is_list {
        if op == CmpOp::In {
            Quant::All
        } else {
            Quant::Any
        }
    } else if l.any_of {
        Quant::Any
    } else {
        Quant::First
    }
}

pub(crate) fn num_domain(ty: FieldType) -> NumDomain {
    if ty == FieldType::Double {
        NumDomain::Float
    } else if ty.is_signed() {
        NumDomain::Signed
    } else {
        NumDomain::Unsigned
    }
}

/// libsinsp `flt_is_comparable`, with its messages.
pub(crate) fn check_comparable(op: CmpOp, ty: FieldType, is_list: bool) -> Result<(), String> {
    use CmpOp::*;
    let o = op.as_str();
    if is_list {
        let list_ok = matches!(
            ty,
            FieldType::Charbuf
                | FieldType::Uint64
                | FieldType::Reltime
                | FieldType::Abstime
                | FieldType::Bool
                | FieldType::Ipaddr
                | FieldType::Ipnet
        );
        if !list_ok {
            return Err(format!(
                "filter error: list filters are not supported for type '{}'",
                ty.falco_name()
            ));
        }
        return match op {
            In | Intersects => Ok(()),
            _ => Err(format!("filter error: '{o}' operator not supported list filters")),
        };
    }
    let (ok, what) = match ty.class() {
        TypeClass::Numeric => (matches!(op, Eq | Ne | Lt | Le | Gt | Ge | In | Intersects), "numeric"),
        TypeClass::Bool => (matches!(op, Eq | Ne | In | Intersects), "numeric"),
        TypeClass::String => (!matches!(op, BContains | BStartsWith), "string"),
        TypeClass::Bytes => (
            matches!(
                op,
                Eq | Ne | Contains | In | StartsWith | EndsWith | Intersects | BContains | BStartsWith
            ),
            "buffer",
        ),
        TypeClass::Ip | TypeClass::Net => (matches!(op, Eq | Ne | In | Intersects), "ip address and network"),
    };
    if ok {
        Ok(())
    } else {
        Err(format!("filter error: '{o}' operator not supported for {what} filters"))
    }
}

fn check_modifier(op: CmpOp, m: Modifier, l: &OperandInfo) -> Result<(), String> {
    use CmpOp::*;
    let mname = match m {
        Modifier::OneOf => "oneof",
        Modifier::AnyOf => "anyof",
        Modifier::AllOf => "allof",
    };
    let string_op = matches!(
        op,
        Eq | Ne | Contains | IContains | BContains | StartsWith | BStartsWith | EndsWith | Glob | IGlob | Regex
    );
    if !string_op {
        return Err(format!(
            "filter error: '{mname}' modifier not supported with the '{}' operator",
            op.as_str()
        ));
    }
    if matches!(l.ty.class(), TypeClass::Ip | TypeClass::Net) && !matches!(op, Eq | Ne) {
        return Err(format!(
            "filter error: '{mname}' modifier with the '{}' operator not supported for ip address and network filters",
            op.as_str()
        ));
    }
    Ok(())
}

// -------------------------------------------------------------------------------------------------------------
// Building tests from constants

fn single_test(op: CmpOp, l: &OperandInfo, v: &str) -> Result<Test, String> {
    match l.ty.class() {
        TypeClass::String | TypeClass::Bytes => bytes_test(op, v),
        TypeClass::Numeric => {
            let nop = NumOp::from_cmp(op).ok_or_else(|| not_supported(op, "numeric"))?;
            Ok(match parse_number(v, l.ty)? {
                Num::U(x) => Test::U64(nop, x),
                Num::I(x) => Test::I64(nop, x),
                Num::F(x) => Test::F64(nop, x),
            })
        }
        TypeClass::Bool => {
            let nop = NumOp::from_cmp(op).ok_or_else(|| not_supported(op, "numeric"))?;
            Ok(Test::Bool(nop, parse_bool(v)?))
        }
        TypeClass::Ip => {
            let nop = NumOp::from_cmp(op).ok_or_else(|| not_supported(op, "ip address and network"))?;
            Ok(Test::Ip(nop, parse_ip(v, l.ty)?))
        }
        TypeClass::Net => {
            let nop = NumOp::from_cmp(op).ok_or_else(|| not_supported(op, "ip address and network"))?;
            Ok(Test::Net(nop, parse_net(v, l.ty)?))
        }
    }
}

fn not_supported(op: CmpOp, what: &str) -> String {
    format!(
        "filter error: '{}' operator not supported for {what} filters",
        op.as_str()
    )
}

fn bytes_test(op: CmpOp, v: &str) -> Result<Test, String> {
    let raw = || -> Box<[u8]> { v.as_bytes().into() };
    Ok(match op {
        CmpOp::Eq => Test::Eq(raw()),
        CmpOp::Ne => Test::Ne(raw()),
        CmpOp::Lt | CmpOp::Le | CmpOp::Gt | CmpOp::Ge => Test::Ord(NumOp::from_cmp(op).unwrap_or(NumOp::Eq), raw()),
        CmpOp::Contains => Test::Contains(Box::new(Finder::new(v.as_bytes()).into_owned())),
        CmpOp::IContains => Test::IContains(v.as_bytes().to_ascii_lowercase().into_boxed_slice()),
        CmpOp::StartsWith => Test::StartsWith(raw()),
        CmpOp::EndsWith => Test::EndsWith(raw()),
        CmpOp::BContains => Test::Contains(Box::new(Finder::new(&unhex(v)?).into_owned())),
        CmpOp::BStartsWith => Test::StartsWith(unhex(v)?.into_boxed_slice()),
        CmpOp::Glob => Test::Glob(raw()),
        CmpOp::IGlob => Test::IGlob(raw()),
        CmpOp::Regex => Test::Regex(Box::new(compile_regex(v)?)),
        CmpOp::In | CmpOp::Intersects => Test::InBytes(Box::new(BytesSet::new([raw()]))),
        CmpOp::PMatch => Test::PMatch(PathSet::new([v.as_bytes()])),
    })
}

fn list_test(op: CmpOp, l: &OperandInfo, values: &[String]) -> Result<Test, String> {
    if op == CmpOp::PMatch {
        return Ok(Test::PMatch(PathSet::new(values.iter().map(|v| v.as_bytes()))));
    }
    Ok(match l.ty.class() {
        TypeClass::String | TypeClass::Bytes => {
            Test::InBytes(Box::new(BytesSet::new(values.iter().map(|v| v.as_bytes().into()))))
        }
        TypeClass::Numeric => {
            let nums = values
                .iter()
                .map(|v| parse_number(v, l.ty))
                .collect::<Result<Vec<_>, _>>()?;
            match num_domain(l.ty) {
                NumDomain::Unsigned => Test::InU64(Box::new(NumSet::new(nums.iter().map(Num::as_u64)))),
                NumDomain::Signed => Test::InI64(Box::new(NumSet::new(nums.iter().map(Num::as_i64)))),
                NumDomain::Float => Test::InF64(nums.iter().map(Num::as_f64).collect()),
            }
        }
        TypeClass::Bool => {
            let bools = values.iter().map(|v| parse_bool(v)).collect::<Result<Vec<_>, _>>()?;
            Test::InBool {
                has_true: bools.contains(&true),
                has_false: bools.contains(&false),
            }
        }
        TypeClass::Ip => Test::InIp(
            values
                .iter()
                .map(|v| parse_ip(v, l.ty))
                .collect::<Result<Vec<_>, _>>()?
                .into_boxed_slice(),
        ),
        TypeClass::Net => Test::InNet(
            values
                .iter()
                .map(|v| parse_net(v, l.ty))
                .collect::<Result<Vec<_>, _>>()?
                .into_boxed_slice(),
        ),
    })
}

fn modifier_test(m: Modifier, op: CmpOp, l: &OperandInfo, values: &[String]) -> Result<Test, String> {
    let stringish = matches!(l.ty.class(), TypeClass::String | TypeClass::Bytes);
    let set = || Box::new(BytesSet::new(values.iter().map(|v| v.as_bytes().into())));
    match (m, op) {
        // `= anyof (...)` is set membership and `!= allof (...)` set non-membership (libsinsp does the same).
        (Modifier::AnyOf, CmpOp::Eq) if stringish => return Ok(Test::InBytes(set())),
        (Modifier::AllOf, CmpOp::Ne) if stringish => return Ok(Test::NotInBytes(set())),
        (Modifier::AnyOf, CmpOp::StartsWith) if l.ty.class() == TypeClass::String => {
            return Ok(Test::StartsWithAny(Box::new(PrefixSet::new(
                values.iter().map(|v| v.as_bytes().into()),
            ))))
        }
        (Modifier::AnyOf, CmpOp::Contains) if values.len() > 2 => {
            if let Ok(ac) = AhoCorasick::new(values.iter().map(|v| v.as_bytes())) {
                return Ok(Test::ContainsAny(ac));
            }
        }
        _ => {}
    }
    let tests = values
        .iter()
        .map(|v| single_test(op, l, v))
        .collect::<Result<Vec<_>, _>>()?
        .into_boxed_slice();
    Ok(match m {
        Modifier::OneOf => Test::OneOf(tests),
        Modifier::AnyOf => Test::AnyOf(tests),
        Modifier::AllOf => Test::AllOf(tests),
    })
}

fn compile_regex(v: &str) -> Result<regex::bytes::Regex, String> {
    let clean = |e: regex::Error| format!("invalid regex pattern: {}", e.to_string().replace('\n', " "));
    // Validate the pattern alone first, so wrapping it for a full match cannot change its meaning.
    regex::bytes::Regex::new(v).map_err(clean)?;
    regex::bytes::Regex::new(&format!("^(?:{v})$")).map_err(clean)
}

/// libsinsp `check_warnings_regex_value`: a pattern with no regex syntax in its middle could use a cheaper operator.
fn regex_simplification_warning(v: &str) -> Option<String> {
    const SPECIAL: &[u8] = b".+*?^$()[]{}|\\";
    const OCCURRENCE: &[u8] = b"+*?";
    let b = v.as_bytes();
    let len = b.len();
    let mut i = 0;
    while i < len {
        if (i == 0 && b[i] == b'^') || (i == len - 1 && b[i] == b'$') {
            i += 1;
            continue;
        }
        if ((i == 0 && len > 1) || (len >= 2 && i == len - 2)) && b[i] == b'.' && OCCURRENCE.contains(&b[i + 1]) {
            i += 2;
            continue;
        }
        if SPECIAL.contains(&b[i]) {
            return None;
        }
        i += 1;
    }
    Some(format!(
        "regex check with '{v}' may be optimized with simpler operators such as '=', 'contains', 'startswith', 'endswith'"
    ))
}

/// Whether a constant has the shape of a field reference (`a.b`, `a.b[x]`).
fn looks_like_field(s: &str) -> bool {
    let name = split_field_arg(s).0;
    let mut parts = name.split('.');
    let ident = |p: &str| {
        let mut cs = p.chars();
        cs.next().is_some_and(|c| c.is_ascii_alphabetic()) && cs.all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    name.contains('.') && parts.all(ident)
}

fn split_field_arg(s: &str) -> (&str, Option<&str>) {
    match s.find('[') {
        Some(p) if s.ends_with(']') => (&s[..p], Some(&s[p + 1..s.len() - 1])),
        _ => (s, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regex_warning_heuristic() {
        assert!(regex_simplification_warning("abc").is_some());
        assert!(regex_simplification_warning(".*abc").is_some());
        assert!(regex_simplification_warning("^abc$").is_some());
        assert!(regex_simplification_warning("a.c").is_none());
        assert!(regex_simplification_warning("ab[cd]").is_none());
    }

    #[test]
    fn field_shapes() {
        assert!(looks_like_field("proc.name"));
        assert!(looks_like_field("proc.aname[2]"));
        assert!(!looks_like_field("/usr/bin"));
        assert!(!looks_like_field("bash"));
        assert!(!looks_like_field("1.2.3.4"));
    }
}
