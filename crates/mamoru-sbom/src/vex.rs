//! OpenVEX documents (`--vex FILE`): statements with status `not_affected` or `fixed` suppress the matching
//! findings, which stay in the report marked with the statement's status, justification and impact statement.
//! A later statement about the same vulnerability and product overrides an earlier one (documents in the order
//! given, statements in document order), so `affected` can re-open a finding.

use crate::error::{Error, Result};
use crate::vuln::VulnFinding;
use serde::Serialize;
use serde_json::Value;
use std::path::Path;

/// Why a finding is suppressed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suppression {
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub justification: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statement: Option<String>,
    /// The VEX document's `@id` (or its file name).
    pub document: String,
}

#[derive(Debug, Clone)]
struct Statement {
    vulns: Vec<String>,
    products: Vec<String>,
    subcomponents: Vec<String>,
    status: String,
    justification: Option<String>,
    statement: Option<String>,
    document: String,
}

/// Loaded VEX statements.
#[derive(Debug, Default, Clone)]
pub struct Vex {
    statements: Vec<Statement>,
}

const STATUSES: [&str; 4] = ["not_affected", "affected", "fixed", "under_investigation"];

fn str_field(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

/// Identifiers of a product or subcomponent: a string (OpenVEX 0.0.1) or an object with `@id`/`identifiers`.
fn identifiers(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Object(o) => {
            let mut ids: Vec<String> = o
                .get("@id")
                .and_then(Value::as_str)
                .map(str::to_string)
                .into_iter()
                .collect();
            if let Some(idents) = o.get("identifiers").and_then(Value::as_object) {
                ids.extend(idents.values().filter_map(Value::as_str).map(str::to_string));
            }
            ids
        }
        _ => Vec::new(),
    }
}

impl Vex {
    /// Loads one OpenVEX JSON document and adds its statements after those already loaded.
    pub fn load(&mut self, path: &Path) -> Result<()> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let doc: Value = serde_json::from_slice(&bytes).map_err(|source| Error::Json {
            path: path.into(),
            source,
        })?;
        self.add_document(&doc, &path.display().to_string())
            .map_err(|m| Error::invalid(path, m))
    }

    /// Adds the statements of a parsed document; `fallback_name` names it when it has no `@id`.
    pub fn add_document(&mut self, doc: &Value, fallback_name: &str) -> std::result::Result<(), String> {
        let document = str_field(doc, "@id").unwrap_or_else(|| fallback_name.to_string());
        let statements = doc
            .get("statements")
            .and_then(Value::as_array)
            .ok_or("no `statements` array")?;
        for (i, s) in statements.iter().enumerate() {
            let status = str_field(s, "status").ok_or(format!("statement {i}: no `status`"))?;
            if !STATUSES.contains(&status.as_str()) {
                return Err(format!("statement {i}: unknown status {status:?}"));
            }
            let vuln = s
                .get("vulnerability")
                .ok_or(format!("statement {i}: no `vulnerability`"))?;
            let mut vulns: Vec<String> = match vuln {
                Value::String(name) => vec![name.clone()],
                Value::Object(_) => {
                    let mut v: Vec<String> = str_field(vuln, "name").into_iter().collect();
                    v.extend(str_field(vuln, "@id"));
                    if let Some(a) = vuln.get("aliases").and_then(Value::as_array) {
                        v.extend(a.iter().filter_map(Value::as_str).map(str::to_string));
                    }
                    v
                }
                _ => Vec::new(),
            };
            vulns.retain(|v| !v.is_empty());
            if vulns.is_empty() {
                return Err(format!("statement {i}: vulnerability has no name"));
            }
            let products_json = s.get("products").and_then(Value::as_array).cloned().unwrap_or_default();
            let mut products = Vec::new();
            let mut subcomponents: Vec<String> = s
                .get("subcomponents")
                .and_then(Value::as_array)
                .map(|a| a.iter().flat_map(identifiers).collect())
                .unwrap_or_default();
            for p in &products_json {
                products.extend(identifiers(p));
                if let Some(subs) = p.get("subcomponents").and_then(Value::as_array) {
                    subcomponents.extend(subs.iter().flat_map(identifiers));
                }
            }
            self.statements.push(Statement {
                vulns,
                products,
                subcomponents,
                status,
                justification: str_field(s, "justification"),
                statement: str_field(s, "impact_statement")
                    .or_else(|| str_field(s, "status_notes"))
                    .or_else(|| str_field(s, "action_statement")),
                document: document.clone(),
            });
        }
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.statements.len()
    }

    pub fn is_empty(&self) -> bool {
        self.statements.is_empty()
    }

    /// Marks suppressed findings. `subjects` identify the scanned artefact (image reference, digest), so a statement
    /// whose product is the image and whose subcomponent is the package applies.
    pub fn apply(&self, findings: &mut [VulnFinding], subjects: &[String]) {
        for f in findings.iter_mut() {
            let last = self.statements.iter().rev().find(|s| s.applies(f, subjects));
            f.suppressed = last
                .filter(|s| s.status == "not_affected" || s.status == "fixed")
                .map(|s| Suppression {
                    status: s.status.clone(),
                    justification: s.justification.clone(),
                    statement: s.statement.clone(),
                    document: s.document.clone(),
                });
        }
    }
}

impl Statement {
    fn applies(&self, f: &VulnFinding, subjects: &[String]) -> bool {
        if !f.names().any(|n| self.vulns.iter().any(|v| v.eq_ignore_ascii_case(n))) {
            return false;
        }
        let purl = &f.package.purl;
        let product_is_package = self.products.iter().any(|p| purl_matches(p, purl));
        let product_is_subject = self.products.iter().any(|p| subjects.iter().any(|s| s == p));
        let sub_is_package = self.subcomponents.iter().any(|p| purl_matches(p, purl));
        match (self.products.is_empty(), self.subcomponents.is_empty()) {
            // No product named: the statement is about the vulnerability wherever it is.
            (true, true) => true,
            (true, false) => sub_is_package,
            (false, true) => product_is_package || product_is_subject,
            (false, false) => sub_is_package && (product_is_subject || product_is_package),
        }
    }
}

/// A VEX purl matches a package purl when equal without qualifiers/subpath, or when it omits the version.
pub fn purl_matches(vex_purl: &str, package_purl: &str) -> bool {
    if !vex_purl.starts_with("pkg:") {
        return false;
    }
    let strip = |p: &str| p.split(['?', '#']).next().unwrap_or(p).to_string();
    let (v, p) = (strip(vex_purl), strip(package_purl));
    if v == p {
        return true;
    }
    let unversioned = p.split_once('@').map_or(p.as_str(), |(n, _)| n);
    !v.contains('@') && v == unversioned
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purls() {
        assert!(purl_matches("pkg:pypi/jinja2@2.10", "pkg:pypi/jinja2@2.10"));
        assert!(purl_matches("pkg:pypi/jinja2", "pkg:pypi/jinja2@2.10"));
        assert!(purl_matches("pkg:pypi/jinja2@2.10?x=y", "pkg:pypi/jinja2@2.10"));
        assert!(!purl_matches("pkg:pypi/jinja2@2.11", "pkg:pypi/jinja2@2.10"));
        assert!(!purl_matches("pkg:pypi/jinja", "pkg:pypi/jinja2@2.10"));
        assert!(!purl_matches("registry/app:1", "pkg:pypi/jinja2@2.10"));
    }

    #[test]
    fn rejects_bad_documents() {
        let mut v = Vex::default();
        assert!(v.add_document(&serde_json::json!({}), "x").is_err());
        let bad = serde_json::json!({"statements":[{"vulnerability":{"name":"CVE-1"},"status":"maybe"}]});
        assert!(v.add_document(&bad, "x").is_err());
    }
}
