//! The collector: definitions gathered from all files in load order, with Falco's define / append / override /
//! enable semantics (falco `rule_loader_collector.cpp`). Every list, macro and rule gets an `index` (position of its
//! first definition, which is also the rules' evaluation order) and a `visibility` (position of its latest define,
//! append or override), both drawn from one counter shared by all kinds.

use crate::loaded::{PluginRequirement, Priority};
use crate::parser::{list_operators, operator_modifiers, supported_operators};
use crate::source::{Fail, Origin, TrackedText};
use std::collections::{BTreeSet, HashMap};
use std::fmt;

pub(crate) const LOAD_ERR_VALIDATE: &str = "LOAD_ERR_VALIDATE";

const ERROR_NO_PREVIOUS_MACRO: &str =
    "Macro uses 'append' or 'override.condition: append' but no macro by that name already exists";
const ERROR_NO_PREVIOUS_LIST: &str =
    "List uses 'append' or 'override.items: append' but no list by that name already exists";
const ERROR_NO_PREVIOUS_RULE_APPEND: &str =
    "Rule uses 'append' or 'override.<key>: append' but no rule by that name already exists";
const ERROR_NO_PREVIOUS_RULE_REPLACE: &str =
    "An 'override.<key>: replace' to a rule was requested but no rule by that name already exists";

/// A semantic version `major.minor.patch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Version {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
}

impl Version {
    /// Parses `x.y.z` (a `-pre`/`+build` suffix is tolerated and ignored).
    pub fn parse(s: &str) -> Option<Version> {
        let core = s.trim().split(['-', '+']).next()?;
        let mut parts = core.split('.');
        let mut num = || -> Option<u64> {
            let p = parts.next()?;
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            p.parse().ok()
        };
        let v = Version {
            major: num()?,
            minor: num()?,
            patch: num()?,
        };
        parts.next().is_none().then_some(v)
    }

    /// Falco's rule: same major version, and at least as new.
    pub fn satisfies(self, required: Version) -> bool {
        self.major == required.major && self >= required
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// One of an exception's `fields`, `comps` or values: a scalar or a (possibly nested) list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ExEntry {
    pub is_list: bool,
    pub item: String,
    pub items: Vec<ExEntry>,
}

impl ExEntry {
    pub fn scalar(item: impl Into<String>) -> Self {
        ExEntry {
            is_list: false,
            item: item.into(),
            items: Vec::new(),
        }
    }

    /// A non-empty scalar or a non-empty list.
    pub fn is_valid(&self) -> bool {
        if self.is_list {
            !self.items.is_empty()
        } else {
            !self.item.is_empty()
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct ExceptionInfo {
    pub name: String,
    pub fields: ExEntry,
    pub comps: ExEntry,
    pub values: Vec<ExEntry>,
    pub at: Origin,
}

#[derive(Debug, Clone)]
pub(crate) struct ListInfo {
    pub name: String,
    pub items: Vec<String>,
    pub index: u32,
    pub visibility: u32,
    pub at: Origin,
}

#[derive(Debug, Clone)]
pub(crate) struct MacroInfo {
    pub name: String,
    pub cond: TrackedText,
    pub index: u32,
    pub visibility: u32,
    pub at: Origin,
}

#[derive(Debug, Clone)]
pub(crate) struct RuleInfo {
    pub name: String,
    pub cond: TrackedText,
    pub output: String,
    pub output_at: Origin,
    pub desc: String,
    pub priority: Priority,
    pub source: String,
    pub tags: BTreeSet<String>,
    pub enabled: bool,
    pub warn_evttypes: bool,
    pub skip_if_unknown_filter: bool,
    pub capture: bool,
    pub capture_duration_ms: u64,
    pub exceptions: Vec<ExceptionInfo>,
    pub unknown_source: bool,
    pub index: u32,
    pub visibility: u32,
    pub at: Origin,
}

/// The keys an `append: true` or `override` item changes.
#[derive(Debug, Clone, Default)]
pub(crate) struct RuleUpdate {
    pub name: String,
    pub cond: Option<TrackedText>,
    pub output: Option<String>,
    pub desc: Option<String>,
    pub tags: Option<BTreeSet<String>>,
    pub exceptions: Option<Vec<ExceptionInfo>>,
    pub priority: Option<Priority>,
    pub enabled: Option<bool>,
    pub warn_evttypes: Option<bool>,
    pub skip_if_unknown_filter: Option<bool>,
    pub capture: Option<bool>,
    pub capture_duration_ms: Option<u64>,
    pub at: Origin,
}

impl RuleUpdate {
    fn has_any_value(&self) -> bool {
        self.cond.is_some()
            || self.output.is_some()
            || self.desc.is_some()
            || self.tags.is_some()
            || self.exceptions.is_some()
            || self.priority.is_some()
            || self.enabled.is_some()
            || self.warn_evttypes.is_some()
            || self.skip_if_unknown_filter.is_some()
            || self.capture.is_some()
            || self.capture_duration_ms.is_some()
    }
}

/// Items by name, in order of first definition.
#[derive(Debug, Clone)]
pub(crate) struct Named<T> {
    items: Vec<T>,
    by_name: HashMap<String, usize>,
}

impl<T> Default for Named<T> {
    fn default() -> Self {
        Named {
            items: Vec::new(),
            by_name: HashMap::new(),
        }
    }
}

impl<T> Named<T> {
    pub fn get(&self, name: &str) -> Option<&T> {
        self.by_name.get(name).map(|&i| &self.items[i])
    }

    pub fn position(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    fn get_mut(&mut self, name: &str) -> Option<&mut T> {
        self.by_name.get(name).map(|&i| &mut self.items[i])
    }

    fn insert(&mut self, name: String, item: T) {
        self.by_name.insert(name, self.items.len());
        self.items.push(item);
    }

    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.items.iter()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }
}

/// A warning raised while collecting, reported by the reader with the item it belongs to.
pub(crate) struct PendingWarning {
    pub code: &'static str,
    pub message: String,
    pub at: Origin,
}

#[derive(Default)]
pub(crate) struct Collector {
    pub lists: Named<ListInfo>,
    pub macros: Named<MacroInfo>,
    pub rules: Named<RuleInfo>,
    pub required_engine_version: Option<Version>,
    pub required_plugin_versions: Vec<PluginRequirement>,
    pub warnings: Vec<PendingWarning>,
    cur_index: u32,
}

fn fail(message: impl Into<String>, at: Origin) -> Fail {
    Fail::new(LOAD_ERR_VALIDATE, message, at)
}

impl Collector {
    fn next_index(&mut self) -> u32 {
        let i = self.cur_index;
        self.cur_index = self.cur_index.saturating_add(1);
        i
    }

    pub fn define_engine_version(&mut self, required: Version, engine: Version, at: Origin) -> Result<(), Fail> {
        if !engine.satisfies(required) {
            return Err(fail(
                format!("Rules require engine version {required}, but engine version is {engine}"),
                at,
            ));
        }
        if self.required_engine_version.is_none_or(|v| v < required) {
            self.required_engine_version = Some(required);
        }
        Ok(())
    }

    /// One `required_plugin_versions` entry: the plugin and its alternatives.
    pub fn define_plugin_requirement(&mut self, alternatives: Vec<(String, String)>, at: Origin) -> Result<(), Fail> {
        let mut seen = BTreeSet::new();
        for (name, version) in &alternatives {
            if Version::parse(version).is_none() {
                return Err(fail(
                    format!("Invalid required version '{version}' for plugin '{name}'"),
                    at,
                ));
            }
            if !seen.insert(name.as_str()) {
                return Err(fail(
                    format!("Defined multiple alternative version requirements for plugin '{name}'"),
                    at,
                ));
            }
        }
        let mut it = alternatives.into_iter();
        if let Some((name, version)) = it.next() {
            self.required_plugin_versions.push(PluginRequirement {
                name,
                version,
                alternatives: it.collect(),
            });
        }
        Ok(())
    }

    pub fn define_list(&mut self, name: String, items: Vec<String>, at: Origin) {
        let id = self.next_index();
        match self.lists.get_mut(&name) {
            Some(prev) => {
                let index = prev.index;
                *prev = ListInfo {
                    name,
                    items,
                    index,
                    visibility: id,
                    at: prev.at,
                };
            }
            None => self.lists.insert(
                name.clone(),
                ListInfo {
                    name,
                    items,
                    index: id,
                    visibility: id,
                    at,
                },
            ),
        }
    }

    pub fn append_list(&mut self, name: &str, items: Vec<String>, at: Origin) -> Result<(), Fail> {
        if self.lists.get(name).is_none() {
            return Err(fail(ERROR_NO_PREVIOUS_LIST, at));
        }
        let id = self.next_index();
        if let Some(prev) = self.lists.get_mut(name) {
            prev.items.extend(items);
            prev.visibility = id;
        }
        Ok(())
    }

    pub fn define_macro(&mut self, name: String, cond: TrackedText, at: Origin) {
        let id = self.next_index();
        match self.macros.get_mut(&name) {
            Some(prev) => {
                let index = prev.index;
                *prev = MacroInfo {
                    name,
                    cond,
                    index,
                    visibility: id,
                    at: prev.at,
                };
            }
            None => self.macros.insert(
                name.clone(),
                MacroInfo {
                    name,
                    cond,
                    index: id,
                    visibility: id,
                    at,
                },
            ),
        }
    }

    pub fn append_macro(&mut self, name: &str, cond: &TrackedText, at: Origin) -> Result<(), Fail> {
        if self.macros.get(name).is_none() {
            return Err(fail(ERROR_NO_PREVIOUS_MACRO, at));
        }
        let id = self.next_index();
        if let Some(prev) = self.macros.get_mut(name) {
            prev.cond.append(" ", cond);
            prev.visibility = id;
        }
        Ok(())
    }

    pub fn define_rule(&mut self, mut info: RuleInfo, known_sources: &[String]) -> Result<(), Fail> {
        if self
            .rules
            .get(&info.name)
            .is_some_and(|prev| prev.source != info.source)
        {
            return Err(fail("Rule has been re-defined with a different source", info.at));
        }
        if !known_sources.contains(&info.source) {
            info.unknown_source = true;
            self.warnings.push(PendingWarning {
                code: "LOAD_UNKNOWN_SOURCE",
                message: format!("Unknown source {}, skipping", info.source),
                at: info.at,
            });
        }
        for ex in &mut info.exceptions {
            if !ex.fields.is_valid() {
                return Err(fail(
                    "Rule exception item must have fields property with a list of fields",
                    ex.at,
                ));
            }
            validate_exception(ex)?;
        }
        let id = self.next_index();
        info.visibility = id;
        match self.rules.get_mut(&info.name) {
            Some(prev) => {
                info.index = prev.index;
                info.at = prev.at;
                *prev = info;
            }
            None => {
                info.index = id;
                self.rules.insert(info.name.clone(), info);
            }
        }
        Ok(())
    }

    pub fn append_rule(&mut self, update: RuleUpdate) -> Result<(), Fail> {
        if self.rules.get(&update.name).is_none() {
            return Err(fail(ERROR_NO_PREVIOUS_RULE_APPEND, update.at));
        }
        if !update.has_any_value() {
            return Err(fail(
                "Appended rule must have exceptions or condition property",
                update.at,
            ));
        }
        let id = self.next_index();
        let Some(prev) = self.rules.get_mut(&update.name) else {
            return Err(fail(ERROR_NO_PREVIOUS_RULE_APPEND, update.at));
        };
        if let Some(cond) = update.cond.filter(|c| !c.text.is_empty()) {
            prev.cond.append(" ", &cond);
        }
        if let Some(output) = update.output.filter(|o| !o.is_empty()) {
            prev.output.push(' ');
            prev.output.push_str(&output);
        }
        if let Some(desc) = update.desc.filter(|d| !d.is_empty()) {
            prev.desc.push(' ');
            prev.desc.push_str(&desc);
        }
        if let Some(tags) = update.tags {
            prev.tags.extend(tags);
        }
        for mut ex in update.exceptions.unwrap_or_default() {
            match prev.exceptions.iter_mut().find(|e| e.name == ex.name) {
                None => {
                    if !ex.fields.is_valid() {
                        return Err(fail(
                            "Rule exception must have fields property with a list of fields",
                            ex.at,
                        ));
                    }
                    if ex.values.is_empty() {
                        return Err(fail(
                            "Rule exception must have values property with a list of values",
                            ex.at,
                        ));
                    }
                    validate_exception(&mut ex)?;
                    prev.exceptions.push(ex);
                }
                Some(existing) => {
                    if ex.fields.is_valid() {
                        return Err(fail(
                            "Can not append exception fields to existing exception, only values",
                            ex.at,
                        ));
                    }
                    if ex.comps.is_valid() {
                        return Err(fail(
                            "Can not append exception comps to existing exception, only values",
                            ex.at,
                        ));
                    }
                    existing.values.extend(ex.values);
                }
            }
        }
        prev.visibility = id;
        Ok(())
    }

    pub fn replace_rule(&mut self, update: RuleUpdate) -> Result<(), Fail> {
        if self.rules.get(&update.name).is_none() {
            return Err(fail(ERROR_NO_PREVIOUS_RULE_REPLACE, update.at));
        }
        if !update.has_any_value() {
            return Err(fail(
                "The rule must have at least one field that can be replaced",
                update.at,
            ));
        }
        let mut exceptions = update.exceptions;
        for ex in exceptions.iter_mut().flatten() {
            if !ex.fields.is_valid() {
                return Err(fail(
                    "Rule exception item must have fields property with a list of fields",
                    ex.at,
                ));
            }
            validate_exception(ex)?;
        }
        let id = self.next_index();
        let Some(prev) = self.rules.get_mut(&update.name) else {
            return Err(fail(ERROR_NO_PREVIOUS_RULE_REPLACE, update.at));
        };
        if let Some(cond) = update.cond {
            prev.cond = cond;
        }
        if let Some(output) = update.output {
            prev.output = output;
        }
        if let Some(desc) = update.desc {
            prev.desc = desc;
        }
        if let Some(tags) = update.tags {
            prev.tags = tags;
        }
        if let Some(exceptions) = exceptions {
            prev.exceptions = exceptions;
        }
        if let Some(priority) = update.priority {
            prev.priority = priority;
        }
        if let Some(enabled) = update.enabled {
            prev.enabled = enabled;
        }
        if let Some(v) = update.warn_evttypes {
            prev.warn_evttypes = v;
        }
        if let Some(v) = update.skip_if_unknown_filter {
            prev.skip_if_unknown_filter = v;
        }
        if let Some(v) = update.capture {
            prev.capture = v;
        }
        if let Some(v) = update.capture_duration_ms {
            prev.capture_duration_ms = v;
        }
        prev.visibility = id;
        Ok(())
    }

    /// The legacy `- rule: x` + `enabled: b` form.
    pub fn enable_rule(&mut self, name: &str, enabled: bool, at: Origin) -> Result<(), Fail> {
        match self.rules.get_mut(name) {
            Some(prev) => {
                prev.enabled = enabled;
                Ok(())
            }
            None => Err(fail(
                "Rule has 'enabled' key but no rule by that name already exists",
                at,
            )),
        }
    }
}

/// `op` is a supported comparison operator, or a string operator with a modifier (`startswith anyof`).
pub(crate) fn is_operator_defined(op: &str) -> bool {
    supported_operators().contains(&op) || is_modifier_operator(op)
}

/// `op` takes a list on its right-hand side.
pub(crate) fn is_list_operator(op: &str) -> bool {
    list_operators().contains(&op) || is_modifier_operator(op)
}

fn is_modifier_operator(op: &str) -> bool {
    const STRING_OPS: [&str; 12] = [
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
    ];
    let mut words = op.split_whitespace();
    matches!(
        (words.next(), words.next(), words.next()),
        (Some(o), Some(m), None) if STRING_OPS.contains(&o) && operator_modifiers().contains(&m)
    )
}

/// Fills default comps and checks the shape of an exception (falco `validate_exception_info`). Whether each field
/// exists is the engine's business: it compiles the resulting condition against the source's fields.
fn validate_exception(ex: &mut ExceptionInfo) -> Result<(), Fail> {
    if ex.fields.is_list {
        if !ex.comps.is_valid() {
            ex.comps = ExEntry {
                is_list: true,
                item: String::new(),
                items: vec![ExEntry::scalar("="); ex.fields.items.len()],
            };
        }
        if ex.fields.items.len() != ex.comps.items.len() {
            return Err(fail("Fields and comps lists must have equal length", ex.at));
        }
        if let Some(bad) = ex.comps.items.iter().find(|c| !is_operator_defined(&c.item)) {
            return Err(fail(
                format!("'{}' is not a supported comparison operator", bad.item),
                ex.at,
            ));
        }
    } else {
        if !ex.comps.is_valid() {
            ex.comps = ExEntry::scalar("in");
        }
        if ex.comps.is_list {
            return Err(fail("Fields and comps must both be strings", ex.at));
        }
        if !is_list_operator(&ex.comps.item) {
            return Err(fail(
                "When fields is a single value, comps must be one of (in, pmatch, intersects)",
                ex.at,
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        let v = |s| Version::parse(s).expect("valid");
        assert_eq!(
            v("0.57.0"),
            Version {
                major: 0,
                minor: 57,
                patch: 0
            }
        );
        assert!(Version::parse("1.2").is_none());
        assert!(Version::parse("a.b.c").is_none());
        assert!(v("0.63.0").satisfies(v("0.57.0")));
        assert!(!v("0.63.0").satisfies(v("0.64.0")));
        assert!(!v("0.63.0").satisfies(v("1.0.0")));
    }

    #[test]
    fn modifier_operators() {
        assert!(is_operator_defined("startswith anyof"));
        assert!(is_list_operator("= oneof"));
        assert!(!is_operator_defined("in anyof"));
        assert!(!is_operator_defined("like"));
    }
}
