//! A source's compiled ruleset: every rule of that source compiled against its catalogue, indexed by event code.

use crate::check::Node;
use crate::compile::{CompileError, Compiler, ErrorKind, SharedPredicates, Warning, DEPRECATED_ITEM};
use crate::evttype::event_codes;
use crate::optimize::{count_predicates, finalize};
use crate::output::{FieldJson, OutputFormat};
use crate::sets::CodeSet;
use crate::slots::{Scratch, SlotTable};
use mamoru_fields::{Catalog, Source};
use mamoru_rules::ast::Pos;
use mamoru_rules::loaded::{Diagnostic, LoadedRules, Location, Priority, RuleDef, Severity};
use rustc_hash::FxHashMap;
use std::sync::Arc;

/// What every rule of a ruleset shares: the catalogue, the extraction slots and the number of cached shared
/// predicates.
struct Shared<S: Source> {
    catalog: Arc<dyn Catalog<S>>,
    slots: SlotTable<S>,
    num_predicates: usize,
}

impl<S: Source> Shared<S> {
    /// Starts evaluating an event whose catalogue code is `event_code`.
    fn begin(&self, scratch: &mut Scratch, event_code: usize) {
        scratch.begin(self.slots.len(), self.num_predicates);
        scratch.event_code = event_code;
    }
}

/// Whether an event raises at most one alert (the first matching rule in definition order) or one per matching rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RuleMatching {
    #[default]
    First,
    All,
}

/// Engine settings (falco.yaml `rule_matching` and `priority`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineConfig {
    pub rule_matching: RuleMatching,
    /// Rules less severe than this are compiled (so their errors surface) but never evaluated.
    pub min_priority: Priority,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            rule_matching: RuleMatching::First,
            min_priority: Priority::Debug,
        }
    }
}

/// One alert: what a matching rule reports for an event.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// Event time, nanoseconds since the epoch.
    pub time_ns: u64,
    pub rule: Arc<str>,
    pub priority: Priority,
    pub source: &'static str,
    /// Sorted.
    pub tags: Vec<String>,
    /// The formatted output, without the time and priority prefix.
    pub message: String,
    /// Every field of the output format, keyed by its text as written (`proc.aname[2]`), sorted by key.
    pub output_fields: Vec<(String, FieldJson)>,
    /// The process (and container) the event came from, when the source has one: what response actions act on.
    /// Not part of the alert's JSON or text output.
    pub subject: Option<AlertSubject>,
}

/// The process an alert is about. `start_time_ns` (process start, epoch ns) lets a response action tell this process
/// from a later one that reused its pid.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AlertSubject {
    /// Process id (thread-group id) in the host pid namespace.
    pub pid: i64,
    /// Thread id in the host pid namespace.
    pub tid: i64,
    /// Process start time, nanoseconds since the epoch; 0 when unknown.
    pub start_time_ns: u64,
    /// Full container id when the process runs in a container; None on the host.
    pub container_id: Option<String>,
}

/// A compiled rule.
pub struct CompiledRule<S: Source> {
    index: usize,
    name: Arc<str>,
    desc: String,
    priority: Priority,
    source: &'static str,
    tags: Vec<String>,
    enabled: bool,
    active: bool,
    condition_text: String,
    condition: Node,
    output: OutputFormat,
    event_codes: CodeSet,
    shared: Arc<Shared<S>>,
}

impl<S: Source> CompiledRule<S> {
    /// The rule's position in [`LoadedRules::rules`] (its evaluation order).
    pub fn index(&self) -> usize {
        self.index
    }
    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn desc(&self) -> &str {
        &self.desc
    }
    pub fn priority(&self) -> Priority {
        self.priority
    }
    pub fn source(&self) -> &'static str {
        self.source
    }
    pub fn tags(&self) -> &[String] {
        &self.tags
    }
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }
    /// Enabled and at least as severe as the configured minimum priority: the rule is evaluated.
    pub fn is_active(&self) -> bool {
        self.active
    }
    /// The condition as compiled (after macro, list and exception expansion).
    pub fn condition_text(&self) -> &str {
        &self.condition_text
    }
    /// The event codes the condition can match.
    pub fn event_codes(&self) -> &CodeSet {
        &self.event_codes
    }

    /// Evaluates this rule alone on `ev` (regardless of its event codes and enabled state).
    pub fn matches(&self, ev: &S::Event<'_>, scratch: &mut Scratch) -> bool {
        self.shared.begin(scratch, self.shared.catalog.event_code(ev) as usize);
        self.condition.eval(&self.shared.slots, ev, scratch)
    }

    /// Formats the rule's output for `ev`. Only runs on a match, so it may allocate.
    pub fn render(&self, ev: &S::Event<'_>, time_ns: u64, scratch: &mut Scratch) -> Alert {
        self.shared.begin(scratch, self.shared.catalog.event_code(ev) as usize);
        let (message, output_fields) = self.output.render(&self.shared.slots, ev, scratch);
        Alert {
            time_ns,
            rule: self.name.clone(),
            priority: self.priority,
            source: self.source,
            tags: self.tags.clone(),
            message,
            output_fields,
            subject: None,
        }
    }
}

/// The rules of one source, compiled against its catalogue and indexed by event code. Immutable and shareable
/// across threads; each evaluating thread brings its own [`Scratch`].
pub struct SourceRuleset<S: Source> {
    catalog: Arc<dyn Catalog<S>>,
    shared: Arc<Shared<S>>,
    rules: Vec<CompiledRule<S>>,
    /// Per event code, the indices into `rules` of the active rules that can match it, in definition order.
    by_code: Vec<Box<[u32]>>,
    matching: RuleMatching,
}

/// A rule compiled, before the slot table is frozen and shared.
struct Pending {
    def_index: usize,
    condition: Node,
    output: OutputFormat,
    codes: CodeSet,
    active: bool,
}

impl<S: Source> SourceRuleset<S> {
    /// Compiles every rule of `rules` whose source is the catalogue's. Returns the ruleset and the diagnostics
    /// (compile errors, skipped rules, warnings); a rule that fails to compile is left out.
    pub fn compile(
        rules: &LoadedRules,
        catalog: Arc<dyn Catalog<S>>,
        cfg: &EngineConfig,
    ) -> (SourceRuleset<S>, Vec<Diagnostic>) {
        let source = catalog.source_name();
        let mut slots = SlotTable::default();
        let mut predicates = SharedPredicates::default();
        let mut diags = Vec::new();
        let mut pending = Vec::new();
        for (def_index, def) in rules.rules.iter().enumerate() {
            if def.source != source {
                continue;
            }
            let mut compiler = Compiler::new(&*catalog, &mut slots, &mut predicates);
            let mut rule_diags = Vec::new();
            let compiled = compile_rule(def, &mut compiler, &mut rule_diags);
            push_new(rules, def, rule_diags, &mut diags);
            if let Some((condition, output)) = compiled {
                let codes = event_codes(&def.condition, &*catalog);
                if source == "syscall" && def.warn_evttypes && (codes.is_empty() || codes.count() > 100) {
                    diags.push(diagnostic(
                        Severity::Warning,
                        "LOAD_NO_EVTTYPE",
                        "Rule matches too many evt.type values. This has a significant performance penalty.".into(),
                        rule_location(def),
                        String::new(),
                    ));
                }
                pending.push(Pending {
                    def_index,
                    condition,
                    output,
                    codes,
                    active: def.enabled && def.priority <= cfg.min_priority,
                });
            }
        }
        let num_predicates = finalize_conditions(&mut pending, predicates.len());
        let shared = Shared {
            catalog: catalog.clone(),
            slots,
            num_predicates,
        };
        let ruleset = SourceRuleset::assemble(rules, catalog, shared, pending, cfg.rule_matching);
        (ruleset, diags)
    }

    fn assemble(
        rules: &LoadedRules,
        catalog: Arc<dyn Catalog<S>>,
        shared: Shared<S>,
        pending: Vec<Pending>,
        matching: RuleMatching,
    ) -> SourceRuleset<S> {
        let shared = Arc::new(shared);
        let source = catalog.source_name();
        let compiled: Vec<CompiledRule<S>> = pending
            .into_iter()
            .map(|p| {
                let def = &rules.rules[p.def_index];
                CompiledRule {
                    index: p.def_index,
                    name: Arc::from(def.name.as_str()),
                    desc: def.desc.clone(),
                    priority: def.priority,
                    source,
                    tags: def.tags.iter().cloned().collect(),
                    enabled: def.enabled,
                    active: p.active,
                    condition_text: def.condition_text.clone(),
                    condition: p.condition,
                    output: p.output,
                    event_codes: p.codes,
                    shared: shared.clone(),
                }
            })
            .collect();
        let mut lists: Vec<Vec<u32>> = vec![Vec::new(); catalog.num_event_codes()];
        for (i, r) in compiled.iter().enumerate() {
            if r.active {
                for code in r.event_codes.iter() {
                    lists[code].push(i as u32);
                }
            }
        }
        SourceRuleset {
            catalog,
            shared,
            rules: compiled,
            by_code: lists.into_iter().map(Vec::into_boxed_slice).collect(),
            matching,
        }
    }

    /// The source these rules read (`syscall`, `k8s_audit`, ...).
    pub fn source_name(&self) -> &'static str {
        self.catalog.source_name()
    }

    /// The compiled rules in definition order, including disabled and below-priority ones.
    pub fn rules(&self) -> &[CompiledRule<S>] {
        &self.rules
    }

    /// A compiled rule by name.
    pub fn rule(&self, name: &str) -> Option<&CompiledRule<S>> {
        self.rules.iter().find(|r| &*r.name == name)
    }

    /// Number of distinct extractions the ruleset performs at most per event.
    pub fn num_slots(&self) -> usize {
        self.shared.slots.len()
    }

    /// Evaluates the active rules indexed under `ev`'s event code, in definition order, calling `on_match` for each
    /// matching rule (only the first one in [`RuleMatching::First`] mode). Returns the number of matches. Allocates
    /// nothing once `scratch` has grown to its working size.
    pub fn evaluate<'r>(
        &'r self,
        ev: &S::Event<'_>,
        scratch: &mut Scratch,
        mut on_match: impl FnMut(&'r CompiledRule<S>),
    ) -> usize {
        let code = self.catalog.event_code(ev) as usize;
        let Some(candidates) = self.by_code.get(code) else {
            return 0;
        };
        if candidates.is_empty() {
            return 0;
        }
        self.shared.begin(scratch, code);
        let mut matched = 0;
        for &i in candidates.iter() {
            let rule = &self.rules[i as usize];
            if rule.condition.eval(&self.shared.slots, ev, scratch) {
                matched += 1;
                on_match(rule);
                if self.matching == RuleMatching::First {
                    break;
                }
            }
        }
        matched
    }

    /// Evaluates `ev` and renders an alert for each match into `out`.
    pub fn evaluate_into(&self, ev: &S::Event<'_>, time_ns: u64, scratch: &mut Scratch, out: &mut Vec<Alert>) {
        let mut hits: Vec<&CompiledRule<S>> = Vec::new();
        self.evaluate(ev, scratch, |r| hits.push(r));
        for r in hits {
            out.push(r.render(ev, time_ns, scratch));
        }
    }

    /// Whether any active rule is indexed under catalogue event code `code`: when not, [`SourceRuleset::evaluate`]
    /// would match nothing, and the caller may skip building the event's field context.
    #[inline]
    pub fn has_rules_for_code(&self, code: usize) -> bool {
        self.by_code.get(code).is_some_and(|rules| !rules.is_empty())
    }

    /// Per event code, whether any active rule needs it: the set the kernel-side filter must let through.
    pub fn needed_event_codes(&self) -> Vec<bool> {
        self.by_code.iter().map(|rules| !rules.is_empty()).collect()
    }
}

/// Keeps the result caches of sub-conditions that occur more than once in the ruleset; returns how many remain.
fn finalize_conditions(pending: &mut [Pending], num_ids: usize) -> usize {
    let mut counts = vec![0u32; num_ids];
    for p in pending.iter() {
        count_predicates(&p.condition, &mut counts);
    }
    let mut remap = FxHashMap::default();
    for p in pending.iter_mut() {
        let node = std::mem::replace(&mut p.condition, Node::Const(false));
        p.condition = finalize(node, &counts, &mut remap);
    }
    remap.len()
}

/// Compiles one rule's output then condition (Falco's order), turning failures into diagnostics.
fn compile_rule<S: Source>(
    def: &RuleDef,
    compiler: &mut Compiler<'_, S>,
    diags: &mut Vec<Diagnostic>,
) -> Option<(Node, OutputFormat)> {
    let output = match OutputFormat::compile(&def.output, compiler) {
        Ok(o) => o,
        Err(e) => {
            report_failure(
                def,
                &e,
                "LOAD_ERR_COMPILE_OUTPUT",
                rule_location(def),
                def.output.clone(),
                diags,
            );
            return None;
        }
    };
    push_warnings(def, std::mem::take(&mut compiler.warnings), false, diags);
    let condition = match compiler.compile_expr(&def.condition) {
        Ok(n) => n,
        Err(e) => {
            let loc = condition_location(def, e.pos);
            let snippet = condition_line(&def.condition_text, e.pos);
            report_failure(def, &e, "LOAD_ERR_COMPILE_CONDITION", loc, snippet, diags);
            return None;
        }
    };
    push_warnings(def, std::mem::take(&mut compiler.warnings), true, diags);
    Some((condition, output))
}

fn report_failure(
    def: &RuleDef,
    e: &CompileError,
    code: &'static str,
    location: Location,
    snippet: String,
    diags: &mut Vec<Diagnostic>,
) {
    match e.kind {
        // The loader reported the undefined macro already.
        ErrorKind::UndefinedMacro => {
            tracing::debug!(rule = %def.name, "not compiling a rule with an undefined macro");
        }
        ErrorKind::Unknown if def.skip_if_unknown_filter => diags.push(diagnostic(
            Severity::Warning,
            "LOAD_UNKNOWN_FILTER",
            e.msg.clone(),
            location,
            snippet,
        )),
        _ => diags.push(diagnostic(Severity::Error, code, e.msg.clone(), location, snippet)),
    }
}

fn push_warnings(def: &RuleDef, warnings: Vec<Warning>, in_condition: bool, diags: &mut Vec<Diagnostic>) {
    for w in warnings {
        let (loc, snippet) = if in_condition {
            (
                condition_location(def, w.pos),
                condition_line(&def.condition_text, w.pos),
            )
        } else {
            (rule_location(def), def.output.clone())
        };
        let msg = if w.code == DEPRECATED_ITEM {
            let place = if in_condition { "condition" } else { "output" };
            format!(
                "usage of deprecated field '{}' has been detected in the rule {place}",
                w.msg
            )
        } else {
            w.msg
        };
        diags.push(diagnostic(Severity::Warning, w.code, msg, loc, snippet));
    }
}

/// Adds a rule's diagnostics, once each: a warning the loader already gave for this rule (deprecated fields it
/// knows by name) or that the rule repeats is not reported again.
fn push_new(rules: &LoadedRules, def: &RuleDef, rule_diags: Vec<Diagnostic>, diags: &mut Vec<Diagnostic>) {
    let mut seen: Vec<(&'static str, String)> = Vec::new();
    for d in rule_diags {
        let known = rules
            .diagnostics
            .iter()
            .any(|l| l.code == d.code && l.message == d.message && l.location.item_name == def.name);
        let repeated = seen.iter().any(|(c, m)| *c == d.code && *m == d.message);
        if d.severity == Severity::Error || !(known || repeated) {
            seen.push((d.code, d.message.clone()));
            diags.push(d);
        }
    }
}

fn diagnostic(
    severity: Severity,
    code: &'static str,
    message: String,
    location: Location,
    snippet: String,
) -> Diagnostic {
    Diagnostic {
        severity,
        code,
        message,
        location,
        snippet,
    }
}

fn rule_location(def: &RuleDef) -> Location {
    Location {
        item_type: "rule".into(),
        item_name: def.name.clone(),
        ..def.location.clone()
    }
}

/// Maps a position in the condition text to the rules file, from where the condition value starts.
fn condition_location(def: &RuleDef, pos: Pos) -> Location {
    let base = &def.condition_location;
    let (line, col) = if pos.line <= 1 {
        (base.line, base.col + pos.col.saturating_sub(1))
    } else {
        (base.line + pos.line - 1, pos.col)
    };
    Location {
        file: base.file.clone(),
        line,
        col,
        item_type: "rule".into(),
        item_name: def.name.clone(),
    }
}

fn condition_line(text: &str, pos: Pos) -> String {
    let line = pos.line.max(1) as usize;
    text.lines().nth(line - 1).unwrap_or(text).to_string()
}
