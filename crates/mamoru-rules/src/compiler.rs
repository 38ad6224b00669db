//! The compiler: lists → macros → rules, as falco `rule_loader_compiler.cpp` orders it.
//!
//! - Lists referencing an earlier list (one level) get its items.
//! - Every condition gets every list substituted *textually* (Falco's `resolve_list`), then is parsed.
//! - Macro references are replaced on the tree; a macro sees only macros defined before its latest definition,
//!   rules see all. Expansion is a depth-first walk with an explicit stack and memoisation: reference loops are
//!   errors, and the expanded tree is bounded in depth and size so that no later recursive walk can overflow.
//! - Exceptions are compiled into the rule's condition text.

use crate::ast::{CmpOp, Expr, Operand, Pos, Rhs};
use crate::collector::{is_list_operator, Collector, ExEntry, ExceptionInfo, LOAD_ERR_VALIDATE};
use crate::loaded::{Diagnostic, LoadedRules, RuleDef};
use crate::parser::parse_condition;
use crate::source::{DiagBuilder, Fail, ItemId, Origin, SourceFile, TrackedText};
use std::collections::{BTreeSet, HashMap, HashSet};

/// Deepest boolean nesting a condition may have once macros are expanded.
pub const MAX_EXPANDED_DEPTH: usize = 1000;
/// Most boolean-layer nodes a condition may have once macros are expanded.
pub const MAX_EXPANDED_NODES: usize = 2_000_000;

const LOAD_ERR_COMPILE_CONDITION: &str = "LOAD_ERR_COMPILE_CONDITION";
const DEPRECATED_FIELDS: [&str; 6] = [
    "evt.dir",
    "evt.latency",
    "evt.latency.s",
    "evt.latency.ns",
    "evt.latency.human",
    "evt.wait_latency",
];
const CONTAINER_INFO: &str = "%container.info";

pub(crate) struct CompileContext<'a> {
    pub files: &'a [SourceFile],
    pub collector: &'a Collector,
    pub diagnostics: &'a mut Vec<Diagnostic>,
}

struct CompiledList {
    name: String,
    items: Vec<String>,
    used: bool,
    /// Lists whose items this list took in (one level, as Falco expands them).
    includes: Vec<usize>,
}

/// Condition text after list substitution, with the offset in the text before substitution of each byte.
struct Substituted {
    text: String,
    origin: Vec<usize>,
    /// Indexes of the lists substituted into the text.
    used_lists: Vec<usize>,
}

impl Substituted {
    fn pre_offset(&self, offset: usize) -> usize {
        match self.origin.get(offset) {
            Some(&o) => o,
            None => self.origin.last().map_or(0, |&o| o + 1),
        }
    }
}

/// A macro reference that could not be expanded.
enum ResolveError<'e> {
    Loop {
        name: &'e str,
        pos: Pos,
        in_macro: Option<usize>,
    },
    Unknown {
        name: &'e str,
        pos: Pos,
        in_macro: Option<usize>,
    },
    TooDeep,
    TooLarge,
}

/// A macro being expanded (`None` for the condition itself), its references, and the next one to visit.
type RefWalk<'e> = (Option<usize>, Vec<(&'e str, Pos)>, usize);

struct Expansion {
    expr: Expr,
    depth: usize,
    nodes: usize,
}

struct MacroTable {
    by_name: HashMap<String, usize>,
    index: Vec<u32>,
    asts: Vec<Expr>,
    used: Vec<bool>,
    /// Per macro: the macros its condition references.
    deps: Vec<Vec<usize>>,
    /// Per macro: the lists substituted into its condition.
    lists: Vec<Vec<usize>>,
}

/// Compiles the collected items into `out`. Returns false after reporting the first error.
pub(crate) fn compile(cx: &mut CompileContext<'_>, out: &mut LoadedRules) -> bool {
    let builder = DiagBuilder { files: cx.files };
    let mut lists = compile_lists(cx.collector);
    out.lists = cx
        .collector
        .lists
        .iter()
        .zip(&lists)
        .map(|(info, l)| {
            (
                l.name.clone(),
                l.items.clone(),
                builder.location(info.at, &ItemId::new("list", &info.name)),
            )
        })
        .collect();
    out.macros = cx
        .collector
        .macros
        .iter()
        .map(|m| (m.name.clone(), builder.location(m.at, &ItemId::new("macro", &m.name))))
        .collect();

    let Some(mut table) = compile_macros(cx, &mut lists) else {
        return false;
    };
    if !compile_rules(cx, &mut lists, &mut table, out) {
        return false;
    }

    for (m, used) in cx.collector.macros.iter().zip(&table.used) {
        if !used {
            let d = builder.warn(
                "LOAD_UNUSED_MACRO",
                "Macro not referred to by any other rule/macro",
                m.at,
                &ItemId::new("macro", &m.name),
            );
            cx.diagnostics.push(d);
        }
    }
    for (info, l) in cx.collector.lists.iter().zip(&lists) {
        if !l.used {
            let d = builder.warn(
                "LOAD_UNUSED_LIST",
                "List not referred to by any other rule/macro",
                info.at,
                &ItemId::new("list", &info.name),
            );
            cx.diagnostics.push(d);
        }
    }
    true
}

fn compile_lists(collector: &Collector) -> Vec<CompiledList> {
    let mut used_names = Vec::new();
    let mut out: Vec<CompiledList> = collector
        .lists
        .iter()
        .map(|list| {
            let mut items = Vec::with_capacity(list.items.len());
            let mut includes = Vec::new();
            for item in &list.items {
                match collector.lists.get(item).filter(|r| r.index < list.visibility) {
                    Some(referenced) => {
                        used_names.push(referenced.name.clone());
                        includes.extend(collector.lists.position(&referenced.name));
                        items.extend(referenced.items.iter().cloned());
                    }
                    None => items.push(item.clone()),
                }
            }
            CompiledList {
                name: list.name.clone(),
                items,
                used: false,
                includes,
            }
        })
        .collect();
    for name in used_names {
        if let Some(i) = collector.lists.position(&name) {
            out[i].used = true;
        }
    }
    out
}

fn compile_macros(cx: &mut CompileContext<'_>, lists: &mut [CompiledList]) -> Option<MacroTable> {
    let builder = DiagBuilder { files: cx.files };
    let macros = &cx.collector.macros;
    let mut subs = Vec::with_capacity(macros.len());
    let mut table = MacroTable {
        by_name: HashMap::new(),
        index: Vec::with_capacity(macros.len()),
        asts: Vec::with_capacity(macros.len()),
        used: vec![false; macros.len()],
        deps: vec![Vec::new(); macros.len()],
        lists: Vec::with_capacity(macros.len()),
    };
    for (i, m) in macros.iter().enumerate() {
        let sub = substitute_lists(&m.cond.text, lists);
        match parse_condition(&sub.text) {
            Ok(ast) => table.asts.push(ast),
            Err(e) => {
                let f = condition_fail(
                    LOAD_ERR_COMPILE_CONDITION,
                    e.message,
                    &m.cond,
                    &sub,
                    e.pos.offset,
                    m.at,
                    cx,
                );
                cx.diagnostics.push(builder.fail(&f, &ItemId::new("macro", &m.name)));
                return None;
            }
        }
        table.by_name.insert(m.name.clone(), i);
        table.index.push(m.index);
        table.lists.push(sub.used_lists.clone());
        subs.push(sub);
    }
    for (i, m) in macros.iter().enumerate() {
        let resolved = resolve(&table.asts[i], &table, m.visibility);
        match resolved {
            Ok((expr, used)) => {
                mark_used(&mut table.used, &used);
                table.deps[i] = used;
                table.asts[i] = expr;
            }
            Err(e) => {
                let f = resolve_fail(e, &m.cond, &subs[i], m.at, cx, &subs);
                cx.diagnostics.push(builder.fail(&f, &ItemId::new("macro", &m.name)));
                return None;
            }
        }
    }
    Some(table)
}

/// Records `source` as a user of every macro the rule reaches (through macros too) and of every list substituted
/// into the rule or into one of those macros.
fn attribute_source(
    out: &mut LoadedRules,
    table: &MacroTable,
    compiled_lists: &[CompiledList],
    used: &[usize],
    lists: &[usize],
    source: &str,
) {
    let n = table.deps.len();
    if out.macro_sources.len() < n {
        out.macro_sources.resize(n, BTreeSet::new());
    }
    let mut seen = vec![false; n];
    let mut stack: Vec<usize> = used.to_vec();
    let mut reached_lists: Vec<usize> = lists.to_vec();
    while let Some(m) = stack.pop() {
        if m >= n || std::mem::replace(&mut seen[m], true) {
            continue;
        }
        out.macro_sources[m].insert(source.to_string());
        stack.extend(table.deps[m].iter().copied());
        reached_lists.extend(table.lists[m].iter().copied());
    }
    if out.list_sources.len() < compiled_lists.len() {
        out.list_sources.resize(compiled_lists.len(), BTreeSet::new());
    }
    while let Some(l) = reached_lists.pop() {
        let Some(sources) = out.list_sources.get_mut(l) else {
            continue;
        };
        if sources.insert(source.to_string()) {
            reached_lists.extend(compiled_lists[l].includes.iter().copied());
        }
    }
}

fn mark_used(flags: &mut [bool], used: &[usize]) {
    for &j in used {
        if let Some(f) = flags.get_mut(j) {
            *f = true;
        }
    }
}

fn compile_rules(
    cx: &mut CompileContext<'_>,
    lists: &mut [CompiledList],
    table: &mut MacroTable,
    out: &mut LoadedRules,
) -> bool {
    let builder = DiagBuilder { files: cx.files };
    let macro_subs = Vec::new();
    for r in cx.collector.rules.iter() {
        if r.unknown_source {
            continue;
        }
        let id = ItemId::new("rule", &r.name);
        let mut exception_fields = BTreeSet::new();
        let cond = if r.exceptions.is_empty() {
            r.cond.clone()
        } else {
            match build_exceptions(&r.cond, &r.exceptions, &mut exception_fields) {
                Ok(c) => c,
                Err(f) => {
                    cx.diagnostics.push(builder.fail(&f, &id));
                    return false;
                }
            }
        };

        let output = check_output(cx, &builder, &r.output, r.output_at, r.at, &id);

        let sub = substitute_lists(&cond.text, lists);
        let ast = match parse_condition(&sub.text) {
            Ok(ast) => ast,
            Err(e) => {
                let f = condition_fail(
                    LOAD_ERR_COMPILE_CONDITION,
                    e.message,
                    &cond,
                    &sub,
                    e.pos.offset,
                    r.at,
                    cx,
                );
                cx.diagnostics.push(builder.fail(&f, &id));
                return false;
            }
        };
        let condition = match resolve(&ast, table, u32::MAX) {
            Ok((expr, used)) => {
                mark_used(&mut table.used, &used);
                attribute_source(out, table, lists, &used, &sub.used_lists, &r.source);
                expr
            }
            Err(e) => {
                let f = resolve_fail(e, &cond, &sub, r.at, cx, &macro_subs);
                cx.diagnostics.push(builder.fail(&f, &id));
                return false;
            }
        };
        let cond_at = cond.first_origin().unwrap_or(r.at);
        check_condition_warnings(cx, &builder, &condition, cond_at, &id);

        out.rules.push(RuleDef {
            name: r.name.clone(),
            desc: r.desc.clone(),
            condition_text: sub.text,
            condition,
            output,
            priority: r.priority,
            source: r.source.clone(),
            tags: r.tags.clone(),
            enabled: r.enabled,
            warn_evttypes: r.warn_evttypes,
            skip_if_unknown_filter: r.skip_if_unknown_filter,
            capture: r.capture,
            capture_duration_ms: r.capture_duration_ms,
            exception_fields,
            location: builder.location(r.at, &id),
            condition_location: builder.location(cond_at, &id),
        });
    }
    true
}

/// `%container.info` is dropped (with a deprecation warning) and deprecated fields are flagged, as Falco does.
fn check_output(
    cx: &mut CompileContext<'_>,
    builder: &DiagBuilder<'_>,
    output: &str,
    output_at: Origin,
    rule_at: Origin,
    id: &ItemId,
) -> String {
    let mut output = output.to_string();
    if output.contains(CONTAINER_INFO) {
        cx.diagnostics.push(builder.warn(
            "LOAD_DEPRECATED_ITEM",
            "%container.info is deprecated and no more useful, and will be dropped by Falco 1.0.0. The container \
             plugin will automatically add required fields to the output message.",
            rule_at,
            id,
        ));
        output = output.replace(CONTAINER_INFO, "");
    }
    // Falco looks for the names as substrings of the format.
    for field in DEPRECATED_FIELDS.iter().filter(|f| output.contains(*f)) {
        cx.diagnostics.push(builder.warn(
            "LOAD_DEPRECATED_ITEM",
            format!("usage of deprecated field '{field}' has been detected in the rule output"),
            output_at,
            id,
        ));
    }
    output
}

/// Syntactic warnings on the expanded condition: `<NA>` equality checks on k8s audit fields, deprecated fields.
fn check_condition_warnings(
    cx: &mut CompileContext<'_>,
    builder: &DiagBuilder<'_>,
    cond: &Expr,
    at: Origin,
    id: &ItemId,
) {
    let mut unsafe_na = false;
    let mut deprecated: BTreeSet<&'static str> = BTreeSet::new();
    let mut stack = vec![cond];
    while let Some(e) = stack.pop() {
        match e {
            Expr::And(children) | Expr::Or(children) => stack.extend(children.iter()),
            Expr::Not(child) => stack.push(child),
            Expr::Macro { .. } => {}
            Expr::Exists { lhs, .. } => note_deprecated(lhs, &mut deprecated),
            Expr::Compare { lhs, op, rhs, .. } => {
                note_deprecated(lhs, &mut deprecated);
                if let Rhs::Operand(o) = rhs {
                    note_deprecated(o, &mut deprecated);
                }
                let equality = matches!(
                    op,
                    CmpOp::Eq | CmpOp::Ne | CmpOp::In | CmpOp::Intersects | CmpOp::PMatch
                );
                let na = match rhs {
                    Rhs::Value(v) => v == "<NA>",
                    Rhs::List(vs) => vs.iter().any(|v| v == "<NA>"),
                    _ => false,
                };
                if equality && na && is_unsafe_na_field(lhs) {
                    unsafe_na = true;
                }
            }
        }
    }
    if unsafe_na {
        cx.diagnostics.push(builder.warn(
            "LOAD_UNSAFE_NA_CHECK",
            "comparing a field value with <NA> is unsafe and can lead to unpredictable behavior of the rule \
             condition. If you need to  check for the existence of a field, consider using the 'exists' operator \
             instead.",
            at,
            id,
        ));
    }
    for field in deprecated {
        cx.diagnostics.push(builder.warn(
            "LOAD_DEPRECATED_ITEM",
            format!("usage of deprecated field '{field}' has been detected in the rule condition"),
            at,
            id,
        ));
    }
}

fn is_unsafe_na_field(lhs: &Operand) -> bool {
    matches!(lhs, Operand::Field { name, .. } if name.starts_with("ka.") || name.starts_with("jevt."))
}

fn note_deprecated(o: &Operand, out: &mut BTreeSet<&'static str>) {
    if let Operand::Field { name, .. } = o {
        if let Some(f) = DEPRECATED_FIELDS.iter().find(|f| **f == name.as_str()) {
            out.insert(f);
        }
    }
}

// ----- positions -----

fn condition_fail(
    code: &'static str,
    message: String,
    tracked: &TrackedText,
    sub: &Substituted,
    offset: usize,
    fallback: Origin,
    cx: &CompileContext<'_>,
) -> Fail {
    // An error at the end of the text (often after a folded scalar's final line break) is shown right after the
    // last non-blank character rather than on the next line of the file.
    let end = sub.text.trim_end().len();
    let offset = if offset >= end { end.saturating_sub(1) } else { offset };
    let located = tracked.locate(sub.pre_offset(offset), cx.files);
    let at = located.map_or(fallback, |(file, _)| Origin {
        file,
        mark: fallback.mark,
    });
    Fail {
        code,
        message,
        at,
        byte: located.map(|(_, b)| b),
    }
}

fn resolve_fail(
    e: ResolveError<'_>,
    tracked: &TrackedText,
    sub: &Substituted,
    fallback: Origin,
    cx: &CompileContext<'_>,
    macro_subs: &[Substituted],
) -> Fail {
    let (message, pos, in_macro) = match e {
        ResolveError::Loop { name, pos, in_macro } => (format!("reference loop in macro '{name}'"), pos, in_macro),
        ResolveError::Unknown { name, pos, in_macro } => {
            (format!("Undefined macro '{name}' used in filter."), pos, in_macro)
        }
        ResolveError::TooDeep => {
            let msg = format!("condition nesting exceeds {MAX_EXPANDED_DEPTH} levels after macro expansion");
            return Fail::new(LOAD_ERR_VALIDATE, msg, fallback);
        }
        ResolveError::TooLarge => {
            let msg = format!("condition exceeds {MAX_EXPANDED_NODES} nodes after macro expansion");
            return Fail::new(LOAD_ERR_VALIDATE, msg, fallback);
        }
    };
    // A reference found inside another macro's body is positioned in that macro's text.
    let inner = in_macro.and_then(|j| Some((cx.collector.macros.iter().nth(j)?, macro_subs.get(j)?)));
    match inner {
        Some((m, msub)) => condition_fail(LOAD_ERR_VALIDATE, message, &m.cond, msub, pos.offset, m.at, cx),
        None => condition_fail(LOAD_ERR_VALIDATE, message, tracked, sub, pos.offset, fallback, cx),
    }
}

// ----- lists -----

/// Substitutes every list, in definition order, into `text` (Falco's `resolve_list`, applied list by list).
fn substitute_lists(text: &str, lists: &mut [CompiledList]) -> Substituted {
    let mut cnd = text.as_bytes().to_vec();
    let mut map: Vec<usize> = (0..cnd.len()).collect();
    let mut used_lists = Vec::new();
    for (i, list) in lists.iter_mut().enumerate() {
        if resolve_list(&mut cnd, &mut map, &list.name, &list.items) {
            list.used = true;
            used_lists.push(i);
        }
    }
    let text = String::from_utf8(cnd).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    Substituted {
        text,
        origin: map,
        used_lists,
    }
}

fn is_list_blank(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

fn is_list_delim(b: u8) -> bool {
    is_list_blank(b) || matches!(b, b'(' | b')' | b',' | b'=')
}

/// Falco quotes list items and exception values that contain a space (and are not already quoted).
fn quote_item(s: &str) -> String {
    if s.contains(' ') && !s.starts_with('"') && !s.starts_with('\'') {
        format!("\"{s}\"")
    } else {
        s.to_string()
    }
}

fn paren_item(s: &str) -> String {
    if s.starts_with('(') {
        s.to_string()
    } else {
        format!("({s})")
    }
}

fn find_from(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    let rest = hay.get(from..)?;
    memchr::memmem::find(rest, needle).map(|i| i + from)
}

/// Replaces each delimited occurrence of `name` in `cnd` by the list's items, consuming surrounding blanks.
fn resolve_list(cnd: &mut Vec<u8>, map: &mut Vec<usize>, name: &str, items: &[String]) -> bool {
    let name = name.as_bytes();
    if name.is_empty() {
        return false;
    }
    let mut used = false;
    let mut cursor = find_from(cnd, name, 0);
    while let Some(found) = cursor {
        let mut start = found;
        let mut end = start + name.len();
        let before_ok = start == 0 || is_list_delim(cnd[start - 1]);
        let after_ok = end >= cnd.len() || is_list_delim(cnd[end]);
        if before_ok && after_ok {
            while start > 0 && is_list_blank(cnd[start - 1]) {
                start -= 1;
            }
            while end < cnd.len() && is_list_blank(cnd[end]) {
                end += 1;
            }
            let sub = items.iter().map(|v| quote_item(v)).collect::<Vec<_>>().join(", ");
            if sub.is_empty() {
                if start > 0 && cnd[start - 1] == b',' {
                    start -= 1;
                } else if end < cnd.len() && cnd[end] == b',' {
                    end += 1;
                }
            }
            let anchor = map.get(found).copied().unwrap_or(0);
            let mut new_cnd = Vec::with_capacity(cnd.len() + sub.len() + 2);
            let mut new_map = Vec::with_capacity(cnd.len() + sub.len() + 2);
            if start > 0 {
                new_cnd.extend_from_slice(&cnd[..start]);
                new_cnd.push(b' ');
                new_map.extend_from_slice(&map[..start]);
                new_map.push(anchor);
            }
            new_cnd.extend_from_slice(sub.as_bytes());
            new_cnd.push(b' ');
            new_map.extend(std::iter::repeat_n(anchor, sub.len() + 1));
            new_cnd.extend_from_slice(&cnd[end..]);
            new_map.extend_from_slice(&map[end..]);
            *cnd = new_cnd;
            *map = new_map;
            start += sub.len() + 1;
            used = true;
        }
        cursor = find_from(cnd, name, start + 1);
    }
    used
}

// ----- macros -----

/// Macro references of the boolean layer, left to right.
fn macro_refs(e: &Expr) -> Vec<(&str, Pos)> {
    let mut out = Vec::new();
    let mut stack = vec![e];
    while let Some(e) = stack.pop() {
        match e {
            Expr::And(children) | Expr::Or(children) => stack.extend(children.iter().rev()),
            Expr::Not(child) => stack.push(child),
            Expr::Macro { name, pos } => out.push((name.as_str(), *pos)),
            Expr::Exists { .. } | Expr::Compare { .. } => {}
        }
    }
    out
}

/// Expands the macro references of `root` with the macros whose index is below `visibility`. Returns the expanded
/// tree and the macros it used. The first reference loop wins over the first undefined macro, as in Falco.
fn resolve<'t>(root: &'t Expr, table: &'t MacroTable, visibility: u32) -> Result<(Expr, Vec<usize>), ResolveError<'t>> {
    let visible = |name: &str| {
        table
            .by_name
            .get(name)
            .copied()
            .filter(|&i| table.index[i] < visibility)
    };
    let mut done: HashMap<usize, Expansion> = HashMap::new();
    let mut in_progress: HashSet<usize> = HashSet::new();
    let mut first_unknown = None;
    let mut stack: Vec<RefWalk<'t>> = vec![(None, macro_refs(root), 0)];
    while let Some((owner, refs, next)) = stack.last_mut() {
        if let Some(&(name, pos)) = refs.get(*next) {
            *next += 1;
            let in_macro = *owner;
            match visible(name) {
                None => {
                    first_unknown.get_or_insert(ResolveError::Unknown { name, pos, in_macro });
                }
                Some(j) if done.contains_key(&j) => {}
                Some(j) if in_progress.contains(&j) => return Err(ResolveError::Loop { name, pos, in_macro }),
                Some(j) => {
                    in_progress.insert(j);
                    stack.push((Some(j), macro_refs(&table.asts[j]), 0));
                }
            }
            continue;
        }
        let owner = *owner;
        stack.pop();
        match owner {
            Some(j) => {
                in_progress.remove(&j);
                let expansion = expand(&table.asts[j], &done, &visible)?;
                done.insert(j, expansion);
            }
            None => {
                if let Some(unknown) = first_unknown {
                    return Err(unknown);
                }
                let expansion = expand(root, &done, &visible)?;
                return Ok((expansion.expr, done.into_keys().collect()));
            }
        }
    }
    Err(ResolveError::TooLarge)
}

/// Replaces the references in `e` by their (already expanded) macros, after checking the result's size.
fn expand(
    e: &Expr,
    done: &HashMap<usize, Expansion>,
    visible: &dyn Fn(&str) -> Option<usize>,
) -> Result<Expansion, ResolveError<'static>> {
    let lookup = |name: &str| visible(name).and_then(|j| done.get(&j));
    let mut depth = 0;
    let mut nodes = 0usize;
    let mut stack = vec![(e, 1usize)];
    while let Some((node, d)) = stack.pop() {
        match node {
            Expr::And(children) | Expr::Or(children) => {
                nodes += 1;
                stack.extend(children.iter().map(|c| (c, d + 1)));
            }
            Expr::Not(child) => {
                nodes += 1;
                stack.push((child, d + 1));
            }
            Expr::Macro { name, .. } => match lookup(name) {
                Some(x) => {
                    depth = depth.max(d - 1 + x.depth);
                    nodes = nodes.saturating_add(x.nodes);
                }
                None => {
                    depth = depth.max(d);
                    nodes += 1;
                }
            },
            Expr::Exists { .. } | Expr::Compare { .. } => {
                depth = depth.max(d);
                nodes += 1;
            }
        }
        if depth > MAX_EXPANDED_DEPTH {
            return Err(ResolveError::TooDeep);
        }
        if nodes > MAX_EXPANDED_NODES {
            return Err(ResolveError::TooLarge);
        }
    }
    Ok(Expansion {
        expr: substitute(e, &lookup),
        depth,
        nodes,
    })
}

/// Recursion here is bounded by [`MAX_EXPANDED_DEPTH`], checked by [`expand`] before it calls this.
fn substitute<'d>(e: &Expr, lookup: &dyn Fn(&str) -> Option<&'d Expansion>) -> Expr {
    match e {
        Expr::And(children) => Expr::And(children.iter().map(|c| substitute(c, lookup)).collect()),
        Expr::Or(children) => Expr::Or(children.iter().map(|c| substitute(c, lookup)).collect()),
        Expr::Not(child) => Expr::Not(Box::new(substitute(child, lookup))),
        Expr::Macro { name, .. } => match lookup(name) {
            Some(x) => x.expr.clone(),
            None => e.clone(),
        },
        Expr::Exists { .. } | Expr::Compare { .. } => e.clone(),
    }
}

// ----- exceptions -----

/// `(cond)` followed by ` and not (...)` for each exception with values (falco `build_rule_exception_infos`).
fn build_exceptions(
    cond: &TrackedText,
    exceptions: &[ExceptionInfo],
    fields_out: &mut BTreeSet<String>,
) -> Result<TrackedText, Fail> {
    let mut out = TrackedText::default();
    out.push_synthetic("(");
    out.append("", cond);
    out.push_synthetic(")");
    for ex in exceptions {
        let icond = if ex.fields.is_list {
            list_form(ex, fields_out)?
        } else {
            single_form(ex, fields_out)?
        };
        if !icond.is_empty() {
            out.push_synthetic(&format!(" and not {icond}"));
        }
    }
    Ok(out)
}

fn single_form(ex: &ExceptionInfo, fields_out: &mut BTreeSet<String>) -> Result<String, Fail> {
    let mut icond = String::new();
    for val in &ex.values {
        if val.is_list {
            return Err(Fail::new(
                LOAD_ERR_VALIDATE,
                "Expected values array to contain a list of strings",
                ex.at,
            ));
        }
        if icond.is_empty() {
            icond = format!("({} {} (", ex.fields.item, ex.comps.item);
        } else {
            icond.push_str(", ");
        }
        fields_out.insert(ex.fields.item.clone());
        icond.push_str(&quote_item(&val.item));
    }
    if !icond.is_empty() {
        icond.push_str("))");
    }
    Ok(icond)
}

fn list_form(ex: &ExceptionInfo, fields_out: &mut BTreeSet<String>) -> Result<String, Fail> {
    let mut icond = String::from("(");
    for values in &ex.values {
        if ex.fields.items.len() != values.items.len() {
            return Err(Fail::new(
                LOAD_ERR_VALIDATE,
                "Fields and values lists must have equal length",
                ex.at,
            ));
        }
        if icond != "(" {
            icond.push_str(" or ");
        }
        icond.push('(');
        for (k, (field, value)) in ex.fields.items.iter().zip(&values.items).enumerate() {
            if k > 0 {
                icond.push_str(" and ");
            }
            let comp = ex.comps.items.get(k).map_or("=", |c| c.item.as_str());
            icond.push_str(&format!(" {} {} {}", field.item, comp, exception_value(value, comp)));
            fields_out.insert(field.item.clone());
        }
        icond.push(')');
    }
    icond.push(')');
    Ok(if icond == "()" { String::new() } else { icond })
}

fn exception_value(value: &ExEntry, comp: &str) -> String {
    if value.is_list {
        let items: Vec<String> = value.items.iter().map(|v| quote_item(&v.item)).collect();
        format!("({})", items.join(", "))
    } else if is_list_operator(comp) {
        paren_item(&value.item)
    } else {
        quote_item(&value.item)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subst(text: &str, lists: &[(&str, &[&str])]) -> String {
        let mut compiled: Vec<CompiledList> = lists
            .iter()
            .map(|(n, items)| CompiledList {
                name: n.to_string(),
                items: items.iter().map(|s| s.to_string()).collect(),
                used: false,
                includes: Vec::new(),
            })
            .collect();
        substitute_lists(text, &mut compiled).text
    }

    #[test]
    fn list_substitution_is_textual_and_delimited() {
        assert_eq!(
            subst("proc.name in (shells)", &[("shells", &["sh", "bash"])]),
            "proc.name in ( sh, bash )"
        );
        assert_eq!(
            subst("proc.name in (shells, zsh)", &[("shells", &["sh"])]),
            "proc.name in ( sh , zsh)"
        );
        // Not delimited: part of a longer word.
        assert_eq!(
            subst("proc.name in (myshells)", &[("shells", &["sh"])]),
            "proc.name in (myshells)"
        );
        // Items with a space are quoted.
        assert_eq!(subst("x.y in (l)", &[("l", &["a b"])]), "x.y in ( \"a b\" )");
    }

    #[test]
    fn empty_list_removes_a_comma() {
        assert_eq!(subst("x.y in (a, empty)", &[("empty", &[])]), "x.y in (a  )");
        assert_eq!(subst("x.y in (empty, a)", &[("empty", &[])]), "x.y in (   a)");
    }

    #[test]
    fn substitution_map_points_at_the_list_name() {
        let mut lists = vec![CompiledList {
            name: "l".into(),
            items: vec!["aa".into(), "bb".into()],
            used: false,
            includes: Vec::new(),
        }];
        let s = substitute_lists("x.y in (l) and z", &mut lists);
        assert_eq!(s.text, "x.y in ( aa, bb ) and z");
        assert!(lists[0].used);
        let and_at = s.text.find("and").expect("and");
        assert_eq!(s.pre_offset(and_at), "x.y in (l) and z".find("and").expect("and"));
        assert_eq!(s.pre_offset(s.text.find("bb").expect("bb")), 8);
    }
}
