//! The reader: YAML items → collector operations, with Falco's key decoding rules and error texts
//! (falco `rule_loader_reader.cpp`).

use crate::collector::{Collector, ExEntry, ExceptionInfo, RuleInfo, RuleUpdate, Version};
use crate::loaded::{Diagnostic, Priority};
use crate::source::{DiagBuilder, Fail, ItemId, Origin, SourceFile, TrackedText};
use crate::yaml::{decode_bool, decode_u64, load_documents, YNode, YValue};
use std::collections::BTreeSet;

const LOAD_ERR_YAML_VALIDATE: &str = "LOAD_ERR_YAML_VALIDATE";

const WARNING_APPEND: &str =
    "'append' key is deprecated. Add an 'append' entry (e.g. 'condition: append') under 'override' instead.";
const WARNING_ENABLED: &str = "The standalone 'enabled' key usage is deprecated. The correct approach requires also \
                               a 'replace' entry under the 'override' key (i.e. 'enabled: replace').";
const ERROR_OVERRIDE_APPEND: &str = "Keys 'override' and 'append: true' cannot be used together. Add an 'append' \
                                     entry (e.g. 'condition: append') under 'override' instead.";

const LIST_KEYS: &[&str] = &["list", "items", "append", "override"];
const MACRO_KEYS: &[&str] = &["macro", "condition", "append", "override"];
const RULE_KEYS: &[&str] = &[
    "rule",
    "desc",
    "condition",
    "output",
    "priority",
    "source",
    "enabled",
    "tags",
    "exceptions",
    "capture",
    "capture_duration",
    "warn_evttypes",
    "skip-if-unknown-filter",
    "append",
    "override",
];
const RULE_APPENDABLE: &[&str] = &["condition", "output", "desc", "tags", "exceptions"];
const RULE_REPLACEABLE: &[&str] = &[
    "condition",
    "output",
    "desc",
    "priority",
    "capture",
    "capture_duration",
    "tags",
    "exceptions",
    "enabled",
    "warn_evttypes",
    "skip-if-unknown-filter",
];

/// Shared state while reading the files of one load.
pub(crate) struct ReadContext<'a> {
    pub files: &'a [SourceFile],
    pub collector: &'a mut Collector,
    pub diagnostics: &'a mut Vec<Diagnostic>,
    pub known_sources: &'a [String],
    pub engine_version: Version,
}

/// Reads one file into the collector. Returns false on the first error (which has been reported).
pub(crate) fn read_file(cx: &mut ReadContext<'_>, file: usize) -> bool {
    let Some(source) = cx.files.get(file) else {
        return false;
    };
    let docs = match load_documents(&source.text) {
        Ok(docs) => docs,
        Err(e) => {
            let builder = DiagBuilder { files: cx.files };
            let byte = (e.mark.line > 0).then_some(e.mark.byte);
            let d = builder.at(
                crate::loaded::Severity::Error,
                "LOAD_ERR_YAML_PARSE",
                e.message,
                file,
                byte,
                &ItemId::default(),
            );
            cx.diagnostics.push(d);
            return false;
        }
    };
    for doc in docs.iter().flatten() {
        let at = Origin { file, mark: doc.mark };
        let items = match &doc.value {
            YValue::Seq(items) => items,
            YValue::Map(_) => return report(cx, &yaml_fail("Rules content is not yaml array of objects", at), None),
            _ => return report(cx, &yaml_fail("Rules content is not yaml", at), None),
        };
        for item in items.iter().filter(|i| !i.is_null()) {
            let mut reader = ItemReader {
                cx,
                file,
                id: ItemId::default(),
            };
            let result = reader.read_item(item);
            let id = reader.id;
            flush_warnings(cx, &id);
            if let Err(f) = result {
                return report(cx, &f, Some(&id));
            }
        }
    }
    true
}

fn report(cx: &mut ReadContext<'_>, f: &Fail, id: Option<&ItemId>) -> bool {
    let d = DiagBuilder { files: cx.files }.fail(f, id.unwrap_or(&ItemId::default()));
    cx.diagnostics.push(d);
    false
}

fn flush_warnings(cx: &mut ReadContext<'_>, id: &ItemId) {
    let builder = DiagBuilder { files: cx.files };
    for w in cx.collector.warnings.drain(..) {
        cx.diagnostics.push(builder.warn(w.code, w.message, w.at, id));
    }
}

fn yaml_fail(message: impl Into<String>, at: Origin) -> Fail {
    Fail::new(LOAD_ERR_YAML_VALIDATE, message, at)
}

struct ItemReader<'c, 'a> {
    cx: &'c mut ReadContext<'a>,
    file: usize,
    id: ItemId,
}

impl ItemReader<'_, '_> {
    fn origin(&self, node: &YNode) -> Origin {
        Origin {
            file: self.file,
            mark: node.mark,
        }
    }

    fn warn(&mut self, code: &'static str, message: impl Into<String>, at: Origin) {
        let d = DiagBuilder { files: self.cx.files }.warn(code, message, at, &self.id);
        self.cx.diagnostics.push(d);
    }

    fn read_item(&mut self, item: &YNode) -> Result<(), Fail> {
        if item.as_map().is_none() {
            return Err(yaml_fail(
                "Unexpected element type. Each element should be a yaml associative array.",
                self.origin(item),
            ));
        }
        if item.has("required_engine_version") {
            self.id = ItemId::new("required_engine_version", "");
            self.read_engine_version(item)
        } else if item.has("required_plugin_versions") {
            self.id = ItemId::new("required_plugin_versions", "");
            self.read_plugin_versions(item)
        } else if item.has("list") {
            self.id = ItemId::new("list", "");
            self.read_list(item)
        } else if item.has("macro") {
            self.id = ItemId::new("macro", "");
            self.read_macro(item)
        } else if item.has("rule") {
            self.id = ItemId::new("rule", "");
            self.read_rule(item)
        } else {
            self.warn("LOAD_UNKNOWN_ITEM", "Unknown top level item", self.origin(item));
            Ok(())
        }
    }

    fn warn_unknown_keys(&mut self, item: &YNode, known: &[&str]) {
        for (k, _) in item.as_map().unwrap_or_default() {
            let name = k.as_scalar().unwrap_or("");
            if !known.contains(&name) {
                let at = self.origin(k);
                self.warn(
                    "LOAD_UNKNOWN_KEY",
                    format!("Unknown key '{name}'. The key will be ignored."),
                    at,
                );
            }
        }
    }

    // ----- scalar decoding (decode_val / decode_optional_val) -----

    /// A non-empty scalar under `key`; `None` if the key is absent and `optional`.
    fn scalar<'n>(&self, item: &'n YNode, key: &str, optional: bool) -> Result<Option<(&'n str, &'n YNode)>, Fail> {
        let Some(val) = item.get(key) else {
            if optional {
                return Ok(None);
            }
            return Err(yaml_fail(
                format!("Item has no mapping for key '{key}'"),
                self.origin(item),
            ));
        };
        if val.is_null() {
            return Err(yaml_fail(
                format!("Mapping for key '{key}' is empty"),
                self.origin(item),
            ));
        }
        let Some(s) = val.as_scalar() else {
            return Err(yaml_fail("Value is not a scalar value", self.origin(val)));
        };
        if s.is_empty() {
            return Err(yaml_fail("Value must be non-empty", self.origin(val)));
        }
        Ok(Some((s, val)))
    }

    fn string(&self, item: &YNode, key: &str) -> Result<String, Fail> {
        Ok(self
            .scalar(item, key, false)?
            .map(|(s, _)| s.to_string())
            .unwrap_or_default())
    }

    fn opt_string(&self, item: &YNode, key: &str) -> Result<Option<String>, Fail> {
        Ok(self.scalar(item, key, true)?.map(|(s, _)| s.to_string()))
    }

    fn tracked(&self, item: &YNode, key: &str) -> Result<TrackedText, Fail> {
        match self.scalar(item, key, false)? {
            Some((s, node)) => Ok(TrackedText::from_scalar(s, self.origin(node))),
            None => Ok(TrackedText::default()),
        }
    }

    fn opt_bool(&self, item: &YNode, key: &str) -> Result<Option<bool>, Fail> {
        match self.scalar(item, key, true)? {
            None => Ok(None),
            Some((s, node)) => decode_bool(s)
                .map(Some)
                .ok_or_else(|| yaml_fail("Can't decode YAML scalar value", self.origin(node))),
        }
    }

    fn bool(&self, item: &YNode, key: &str) -> Result<bool, Fail> {
        match self.opt_bool(item, key)? {
            Some(b) => Ok(b),
            None => Err(yaml_fail(
                format!("Item has no mapping for key '{key}'"),
                self.origin(item),
            )),
        }
    }

    fn opt_u64(&self, item: &YNode, key: &str) -> Result<Option<u64>, Fail> {
        match self.scalar(item, key, true)? {
            None => Ok(None),
            Some((s, node)) => decode_u64(s)
                .map(Some)
                .ok_or_else(|| yaml_fail("Can't decode YAML scalar value", self.origin(node))),
        }
    }

    fn priority(&self, item: &YNode) -> Result<Priority, Fail> {
        let (text, node) = self.scalar(item, "priority", false)?.unwrap_or(("", item));
        Priority::parse(text).ok_or_else(|| yaml_fail("Invalid priority", self.origin(node)))
    }

    /// A sequence of scalars under `key` (`items`, `tags`).
    fn scalar_seq(&self, item: &YNode, key: &str, optional: bool) -> Result<Option<Vec<String>>, Fail> {
        let Some(val) = item.get(key) else {
            if optional {
                return Ok(None);
            }
            return Err(yaml_fail(
                format!("Item has no mapping for key '{key}'"),
                self.origin(item),
            ));
        };
        let Some(seq) = val.as_seq() else {
            return Err(yaml_fail("Value is not a sequence", self.origin(val)));
        };
        seq.iter()
            .map(|v| {
                v.as_scalar()
                    .map(str::to_string)
                    .ok_or_else(|| yaml_fail("sequence value is not scalar", self.origin(v)))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    fn tags(&self, item: &YNode) -> Result<Option<BTreeSet<String>>, Fail> {
        Ok(self.scalar_seq(item, "tags", true)?.map(|t| t.into_iter().collect()))
    }

    /// The `override` mapping: keys to append and keys to replace.
    fn overrides(
        &self,
        item: &YNode,
        appendable: &[&str],
        replaceable: &[&str],
    ) -> Result<(BTreeSet<String>, BTreeSet<String>), Fail> {
        let mut append = BTreeSet::new();
        let mut replace = BTreeSet::new();
        let Some(val) = item.get("override") else {
            return Ok((append, replace));
        };
        let entries = match &val.value {
            YValue::Map(entries) => entries.as_slice(),
            // yaml-cpp iterates a scalar or null as an empty collection.
            YValue::Null | YValue::Scalar(_) => &[],
            YValue::Seq(_) => return Err(yaml_fail("Value of override must be a mapping", self.origin(val))),
        };
        for (k, v) in entries {
            let key = k.as_scalar().unwrap_or("");
            let operation = v.as_scalar().unwrap_or("");
            let can_append = appendable.contains(&key);
            let can_replace = replaceable.contains(&key);
            match operation {
                "append" if !can_append => {
                    return Err(yaml_fail(
                        format!("Key '{key}' cannot be appended to, use 'replace' instead"),
                        self.origin(k),
                    ))
                }
                "append" => {
                    append.insert(key.to_string());
                }
                "replace" if !can_replace => {
                    return Err(yaml_fail(format!("Key '{key}' cannot be replaced"), self.origin(k)))
                }
                "replace" => {
                    replace.insert(key.to_string());
                }
                _ => {
                    let mut msg =
                        format!("Invalid override operation for key '{key}': '{operation}'. Allowed values are: ");
                    if can_append {
                        msg.push_str("append ");
                    }
                    if can_replace {
                        msg.push_str("replace ");
                    }
                    return Err(yaml_fail(msg, self.origin(v)));
                }
            }
        }
        Ok((append, replace))
    }

    // ----- items -----

    fn read_engine_version(&mut self, item: &YNode) -> Result<(), Fail> {
        let (text, node) = self
            .scalar(item, "required_engine_version", false)?
            .unwrap_or(("", item));
        let at = self.origin(item);
        let required = match decode_u64(text).filter(|&n| n <= u64::from(u32::MAX)) {
            // A bare number N is the legacy form of 0.N.0.
            Some(n) => Version {
                major: 0,
                minor: n,
                patch: 0,
            },
            None => Version::parse(text).ok_or_else(|| {
                yaml_fail(
                    format!(
                        "Unable to parse engine version '{text}' as a semver string. Expected \"x.y.z\" semver format."
                    ),
                    self.origin(node),
                )
            })?,
        };
        self.cx
            .collector
            .define_engine_version(required, self.cx.engine_version, at)
    }

    fn read_plugin_versions(&mut self, item: &YNode) -> Result<(), Fail> {
        let Some(val) = item.get("required_plugin_versions") else {
            return Ok(());
        };
        let Some(plugins) = val.as_seq() else {
            return Err(yaml_fail(
                "Value of required_plugin_versions must be a sequence",
                self.origin(val),
            ));
        };
        for plugin in plugins {
            if plugin.as_map().is_none() {
                return Err(yaml_fail("Plugin version must be a mapping", self.origin(plugin)));
            }
            let name = self.string(plugin, "name")?;
            let version = self.string(plugin, "version")?;
            let mut alternatives = vec![(name, version)];
            if let Some(alts) = plugin.get("alternatives") {
                let Some(alts) = alts.as_seq() else {
                    return Err(yaml_fail(
                        "Value of plugin version alternatives must be a sequence",
                        self.origin(alts),
                    ));
                };
                for alt in alts {
                    if alt.as_map().is_none() {
                        return Err(yaml_fail(
                            "Plugin version alternative must be a mapping",
                            self.origin(alt),
                        ));
                    }
                    alternatives.push((self.string(alt, "name")?, self.string(alt, "version")?));
                }
            }
            self.cx
                .collector
                .define_plugin_requirement(alternatives, self.origin(plugin))?;
        }
        Ok(())
    }

    fn read_list(&mut self, item: &YNode) -> Result<(), Fail> {
        let name = self.string(item, "list")?;
        self.id.name.clone_from(&name);
        let at = self.origin(item);
        self.warn_unknown_keys(item, LIST_KEYS);
        if !is_bare_str(&name) {
            self.warn(
                "LOAD_INVALID_LIST_NAME",
                "List has an invalid name. List names should match a regular expression: ([^()\"'[:space:]=,]+)",
                at,
            );
        }
        let items = self.scalar_seq(item, "items", false)?.unwrap_or_default();
        let append = self.legacy_append(item, at)?;
        let (override_append, override_replace) = self.overrides(item, &["items"], &["items"])?;
        if append && !(override_append.is_empty() && override_replace.is_empty()) {
            return Err(yaml_fail(ERROR_OVERRIDE_APPEND, at));
        }
        if append || override_append.contains("items") {
            self.cx.collector.append_list(&name, items, at)
        } else {
            self.cx.collector.define_list(name, items, at);
            Ok(())
        }
    }

    fn read_macro(&mut self, item: &YNode) -> Result<(), Fail> {
        let name = self.string(item, "macro")?;
        self.id.name.clone_from(&name);
        let at = self.origin(item);
        self.warn_unknown_keys(item, MACRO_KEYS);
        if !is_identifier(&name) {
            self.warn(
                "LOAD_INVALID_MACRO_NAME",
                "Macro has an invalid name. Macro names should match a regular expression: ([a-zA-Z]+[a-zA-Z0-9_]*)",
                at,
            );
        }
        let cond = self.tracked(item, "condition")?;
        let append = self.legacy_append(item, at)?;
        let (override_append, override_replace) = self.overrides(item, &["condition"], &["condition"])?;
        if append && !(override_append.is_empty() && override_replace.is_empty()) {
            return Err(yaml_fail(ERROR_OVERRIDE_APPEND, at));
        }
        if append || override_append.contains("condition") {
            self.cx.collector.append_macro(&name, &cond, at)
        } else {
            self.cx.collector.define_macro(name, cond, at);
            Ok(())
        }
    }

    /// The deprecated `append: true` flag (warned about when set).
    fn legacy_append(&mut self, item: &YNode, at: Origin) -> Result<bool, Fail> {
        let append = self.opt_bool(item, "append")?.unwrap_or(false);
        if append {
            self.warn("LOAD_DEPRECATED_ITEM", WARNING_APPEND, at);
        }
        Ok(append)
    }

    fn read_rule(&mut self, item: &YNode) -> Result<(), Fail> {
        let name = self.string(item, "rule")?;
        self.id.name.clone_from(&name);
        let at = self.origin(item);
        self.warn_unknown_keys(item, RULE_KEYS);
        let append_flag = self.legacy_append(item, at)?;
        let (override_append, override_replace) = self.overrides(item, RULE_APPENDABLE, RULE_REPLACEABLE)?;
        let has_overrides = !(override_append.is_empty() && override_replace.is_empty());
        if append_flag && has_overrides {
            return Err(yaml_fail(ERROR_OVERRIDE_APPEND, at));
        }
        if has_overrides {
            return self.read_rule_overrides(item, name, at, &override_append, &override_replace);
        }
        if append_flag {
            let mut update = RuleUpdate {
                name,
                at,
                ..RuleUpdate::default()
            };
            if item.has("condition") {
                update.cond = Some(self.tracked(item, "condition")?);
            }
            if item.has("exceptions") {
                update.exceptions = Some(self.exceptions(item, true)?);
            }
            return self.cx.collector.append_rule(update);
        }
        if !["condition", "output", "desc", "priority"].iter().any(|k| item.has(k)) {
            let enabled = self.bool(item, "enabled")?;
            self.warn("LOAD_DEPRECATED_ITEM", WARNING_ENABLED, at);
            return self.cx.collector.enable_rule(&name, enabled, at);
        }
        let cond = self.tracked(item, "condition")?;
        let (output, output_node) = self.scalar(item, "output", false)?.unwrap_or(("", item));
        let output_at = self.origin(output_node);
        let output = output.trim_matches([' ', '\t', '\n', '\r']).to_string();
        let desc = self.string(item, "desc")?;
        let priority = self.priority(item)?;
        let info = RuleInfo {
            name,
            cond,
            output,
            output_at,
            desc,
            priority,
            source: self
                .opt_string(item, "source")?
                .unwrap_or_else(|| "syscall".to_string()),
            enabled: self.opt_bool(item, "enabled")?.unwrap_or(true),
            warn_evttypes: self.opt_bool(item, "warn_evttypes")?.unwrap_or(true),
            skip_if_unknown_filter: self.opt_bool(item, "skip-if-unknown-filter")?.unwrap_or(false),
            capture: self.opt_bool(item, "capture")?.unwrap_or(false),
            capture_duration_ms: self.opt_u64(item, "capture_duration")?.unwrap_or(0),
            tags: self.tags(item)?.unwrap_or_default(),
            exceptions: self.exceptions(item, false)?,
            unknown_source: false,
            index: 0,
            visibility: 0,
            at,
        };
        self.cx.collector.define_rule(info, self.cx.known_sources)
    }

    /// A rule item with an `override` mapping: every overridable key given must be listed there and vice versa.
    fn read_rule_overrides(
        &mut self,
        item: &YNode,
        name: String,
        at: Origin,
        append: &BTreeSet<String>,
        replace: &BTreeSet<String>,
    ) -> Result<(), Fail> {
        let mut expected: BTreeSet<&str> = RULE_APPENDABLE
            .iter()
            .chain(RULE_REPLACEABLE)
            .copied()
            .filter(|k| item.has(k))
            .collect();
        let mut take = |kind: &str, set: &BTreeSet<String>, key: &str| -> Result<bool, Fail> {
            if !set.contains(key) {
                return Ok(false);
            }
            if !expected.remove(key) {
                return Err(yaml_fail(
                    format!("An {kind} override for '{key}' was specified but '{key}' is not defined"),
                    at,
                ));
            }
            Ok(true)
        };
        if !append.is_empty() {
            let update = self.common_update(item, name.clone(), at, "append", append, &mut take)?;
            self.cx.collector.append_rule(update)?;
        }
        if !replace.is_empty() {
            let mut update = self.common_update(item, name, at, "replace", replace, &mut take)?;
            if take("replace", replace, "priority")? {
                update.priority = Some(self.priority(item)?);
            }
            if take("replace", replace, "enabled")? {
                update.enabled = Some(self.bool(item, "enabled")?);
            }
            if take("replace", replace, "warn_evttypes")? {
                update.warn_evttypes = Some(self.bool(item, "warn_evttypes")?);
            }
            if take("replace", replace, "skip-if-unknown-filter")? {
                update.skip_if_unknown_filter = Some(self.bool(item, "skip-if-unknown-filter")?);
            }
            if take("replace", replace, "capture")? {
                update.capture = Some(self.bool(item, "capture")?);
            }
            if take("replace", replace, "capture_duration")? {
                update.capture_duration_ms = self.opt_u64(item, "capture_duration")?;
            }
            self.cx.collector.replace_rule(update)?;
        }
        if let Some(key) = expected.first() {
            let key_at = item.get(key).map_or(at, |n| self.origin(n));
            return Err(yaml_fail(
                format!("Unexpected key '{key}': no corresponding entry under 'override' is defined."),
                key_at,
            ));
        }
        Ok(())
    }

    /// The keys both `append` and `replace` overrides may carry (condition, exceptions, output, desc, tags), read
    /// when `set` names them; `take` checks each against the keys the item defines.
    fn common_update(
        &mut self,
        item: &YNode,
        name: String,
        at: Origin,
        kind: &str,
        set: &BTreeSet<String>,
        take: &mut impl FnMut(&str, &BTreeSet<String>, &str) -> Result<bool, Fail>,
    ) -> Result<RuleUpdate, Fail> {
        let mut update = RuleUpdate {
            name,
            at,
            ..RuleUpdate::default()
        };
        if take(kind, set, "condition")? {
            update.cond = Some(self.tracked(item, "condition")?);
        }
        if take(kind, set, "exceptions")? {
            update.exceptions = Some(self.exceptions(item, kind == "append")?);
        }
        if take(kind, set, "output")? {
            update.output = Some(self.string(item, "output")?);
        }
        if take(kind, set, "desc")? {
            update.desc = Some(self.string(item, "desc")?);
        }
        if take(kind, set, "tags")? {
            update.tags = self.tags(item)?;
        }
        Ok(update)
    }

    // ----- exceptions -----

    fn exceptions(&mut self, item: &YNode, append: bool) -> Result<Vec<ExceptionInfo>, Fail> {
        let mut out: Vec<ExceptionInfo> = Vec::new();
        let Some(exs) = item.get("exceptions").filter(|n| !n.is_null()) else {
            return Ok(out);
        };
        let Some(exs) = exs.as_seq() else {
            return Err(yaml_fail("Rule exceptions must be a sequence", self.origin(exs)));
        };
        for ex in exs {
            let at = self.origin(ex);
            if ex.as_map().is_none() {
                return Err(yaml_fail("Rule exception must be a mapping", at));
            }
            let name = self.string(ex, "name")?;
            if out.iter().any(|e| e.name == name) {
                self.warn(
                    "LOAD_EXCEPTION_NAME_NOT_UNIQUE",
                    format!("Multiple definitions of exception '{name}' in the same rule"),
                    at,
                );
            }
            let fields = self.ex_entry(ex.get("fields"), "fields", append, ex)?;
            let comps = self.ex_entry(ex.get("comps"), "comps", true, ex)?;
            let mut values = Vec::new();
            match ex.get("values") {
                Some(vals) => {
                    let Some(vals) = vals.as_seq() else {
                        return Err(yaml_fail("Rule exception values must be a sequence", self.origin(vals)));
                    };
                    for v in vals {
                        values.push(self.ex_entry(Some(v), "", false, ex)?);
                    }
                }
                None if append => {
                    self.warn(
                        "LOAD_APPEND_NO_VALUES",
                        "Overriding/appending exception with no values",
                        at,
                    );
                }
                None => {}
            }
            out.push(ExceptionInfo {
                name,
                fields,
                comps,
                values,
                at,
            });
        }
        Ok(out)
    }

    /// A scalar or (nested) list of scalars; a null or mapping yields an empty (invalid) entry, as in Falco.
    fn ex_entry(&self, node: Option<&YNode>, key: &str, optional: bool, parent: &YNode) -> Result<ExEntry, Fail> {
        let Some(node) = node else {
            if optional {
                return Ok(ExEntry::default());
            }
            return Err(yaml_fail(
                format!("Item has no mapping for key '{key}'"),
                self.origin(parent),
            ));
        };
        match &node.value {
            YValue::Scalar(s) if s.is_empty() => Err(yaml_fail("Value must be non-empty", self.origin(node))),
            YValue::Scalar(s) => Ok(ExEntry::scalar(s.clone())),
            YValue::Seq(items) => {
                let items = items
                    .iter()
                    .map(|v| self.ex_entry(Some(v), "", false, node))
                    .collect::<Result<_, _>>()?;
                Ok(ExEntry {
                    is_list: true,
                    item: String::new(),
                    items,
                })
            }
            YValue::Null | YValue::Map(_) => Ok(ExEntry::default()),
        }
    }
}

/// Falco's list-name pattern `[^()"'[:space:]=,]+`.
pub(crate) fn is_bare_str(s: &str) -> bool {
    !s.is_empty()
        && s.bytes().all(|b| {
            !matches!(
                b,
                b'(' | b')' | b'"' | b'\'' | b'=' | b',' | b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'
            )
        })
}

/// Falco's macro-name pattern `[a-zA-Z]+[a-zA-Z0-9_]*`.
pub(crate) fn is_identifier(s: &str) -> bool {
    crate::parser::identifier_len(s.as_bytes()) == s.len() && !s.is_empty()
}
