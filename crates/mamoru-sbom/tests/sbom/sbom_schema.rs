//! The SBOM documents against the published schemas: CycloneDX 1.5 with the official JSON schema (vendored in
//! tests/data, see its README), SPDX 2.3 with a field-by-field check of what the SPDX 2.3 JSON schema requires.

use mamoru_sbom::{cyclonedx, spdx, Ecosystem, Package, SbomMeta, SubjectKind};
use serde_json::Value;
use std::path::Path;

fn packages() -> Vec<Package> {
    let mut pkgs = vec![
        Package::new(
            Ecosystem::PyPI,
            "Jinja2",
            "2.10",
            "usr/lib/python3/Jinja2-2.10.dist-info/METADATA",
            None,
        ),
        Package::new(
            Ecosystem::Debian,
            "libssl3",
            "3.0.11-1~deb12u2",
            "var/lib/dpkg/status",
            Some("debian"),
        ),
        Package::new(
            Ecosystem::Maven,
            "org.apache.logging.log4j:log4j-core",
            "2.14.1",
            "app.jar",
            None,
        ),
        Package::new(
            Ecosystem::Npm,
            "@babel/core",
            "7.0.0",
            "node_modules/@babel/core/package.json",
            None,
        ),
        Package::new(
            Ecosystem::Go,
            "golang.org/x/crypto",
            "v0.0.0-20200115085410-6d4e4cb37c7d",
            "usr/bin/x",
            None,
        ),
        // The same package in two files: bom-refs must stay unique.
        Package::new(
            Ecosystem::PyPI,
            "Jinja2",
            "2.10",
            "opt/venv/Jinja2-2.10.dist-info/METADATA",
            None,
        ),
    ];
    pkgs[1].source_name = Some("openssl".into());
    pkgs[1].layer = Some(2);
    pkgs
}

fn meta() -> SbomMeta {
    let mut m = SbomMeta::new("registry.example/app:1.0", SubjectKind::Container);
    m.digest = Some("sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef".into());
    m
}

fn load(name: &str) -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name);
    serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap()
}

fn cyclonedx_validator() -> jsonschema::Validator {
    let spdx_ids = load("spdx.SNAPSHOT.schema.json");
    let jsf = load("jsf-0.82.SNAPSHOT.schema.json");
    let registry = jsonschema::Registry::new()
        .add("http://cyclonedx.org/schema/spdx.SNAPSHOT.schema.json", spdx_ids)
        .unwrap()
        .add("http://cyclonedx.org/schema/jsf-0.82.SNAPSHOT.schema.json", jsf)
        .unwrap()
        .prepare()
        .unwrap();
    let schema = load("bom-1.5.SNAPSHOT.schema.json");
    jsonschema::options()
        .with_registry(&registry)
        .should_validate_formats(true)
        .build(&schema)
        .unwrap()
}

fn errors(v: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    v.iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[test]
fn cyclonedx_validates_against_published_schema() {
    let v = cyclonedx_validator();
    let doc = cyclonedx(&packages(), &meta());
    assert_eq!(errors(&v, &doc), Vec::<String>::new());
    let empty = cyclonedx(&[], &SbomMeta::new("/srv/root", SubjectKind::Filesystem));
    assert_eq!(errors(&v, &empty), Vec::<String>::new());

    // The validator does reject broken documents (the check above can fail).
    let mut bad = doc.clone();
    bad["specVersion"] = Value::from(15);
    bad["components"][0]["type"] = Value::from("gadget");
    assert!(errors(&v, &bad).len() >= 2);

    let refs: std::collections::HashSet<_> = doc["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["bom-ref"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(refs.len(), 6, "bom-refs are unique");
    assert_eq!(doc["components"][2]["group"], "org.apache.logging.log4j");
    // Deterministic for the same content and metadata.
    assert_eq!(doc, cyclonedx(&packages(), &meta()));
}

/// What the SPDX 2.3 JSON schema (spdx/spdx-spec schemas/spdx-schema.json) requires of a document and its packages.
fn spdx_problems(doc: &Value) -> Vec<String> {
    let mut p = Vec::new();
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    for k in ["spdxVersion", "dataLicense", "SPDXID", "name", "documentNamespace"] {
        if s(doc, k).is_none() {
            p.push(format!("document.{k} missing"));
        }
    }
    if s(doc, "spdxVersion").as_deref() != Some("SPDX-2.3") {
        p.push("spdxVersion".into());
    }
    if s(doc, "dataLicense").as_deref() != Some("CC0-1.0") {
        p.push("dataLicense".into());
    }
    if s(doc, "SPDXID").as_deref() != Some("SPDXRef-DOCUMENT") {
        p.push("SPDXID".into());
    }
    if !s(doc, "documentNamespace").is_some_and(|n| n.starts_with("https://") && !n.contains('#')) {
        p.push("documentNamespace must be an absolute URI without #".into());
    }
    let ci = &doc["creationInfo"];
    if !s(ci, "created").is_some_and(|c| c.len() == 20 && c.ends_with('Z')) {
        p.push("creationInfo.created".into());
    }
    let creators = ci["creators"].as_array().cloned().unwrap_or_default();
    if creators.is_empty()
        || !creators.iter().all(|c| {
            c.as_str()
                .is_some_and(|c| c.starts_with("Tool: ") || c.starts_with("Organization: "))
        })
    {
        p.push("creationInfo.creators".into());
    }
    let id_ok = |id: &str| {
        id.strip_prefix("SPDXRef-")
            .is_some_and(|r| !r.is_empty() && r.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'))
    };
    let mut ids = std::collections::HashSet::new();
    ids.insert("SPDXRef-DOCUMENT".to_string());
    const PURPOSES: [&str; 12] = [
        "OTHER",
        "INSTALL",
        "ARCHIVE",
        "FIRMWARE",
        "APPLICATION",
        "FRAMEWORK",
        "LIBRARY",
        "CONTAINER",
        "SOURCE",
        "DEVICE",
        "OPERATING-SYSTEM",
        "FILE",
    ];
    for (i, pkg) in doc["packages"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        for k in ["SPDXID", "name", "downloadLocation"] {
            if s(pkg, k).is_none() {
                p.push(format!("packages[{i}].{k} missing"));
            }
        }
        let id = s(pkg, "SPDXID").unwrap_or_default();
        if !id_ok(&id) || !ids.insert(id.clone()) {
            p.push(format!("packages[{i}].SPDXID {id:?} invalid or duplicate"));
        }
        if pkg.get("filesAnalyzed").is_some_and(|f| !f.is_boolean()) {
            p.push(format!("packages[{i}].filesAnalyzed"));
        }
        if let Some(purpose) = s(pkg, "primaryPackagePurpose") {
            if !PURPOSES.contains(&purpose.as_str()) {
                p.push(format!("packages[{i}].primaryPackagePurpose {purpose}"));
            }
        }
        for r in pkg["externalRefs"].as_array().cloned().unwrap_or_default() {
            let cat = s(&r, "referenceCategory").unwrap_or_default();
            if ![
                "OTHER",
                "PERSISTENT-ID",
                "SECURITY",
                "PACKAGE-MANAGER",
                "PACKAGE_MANAGER",
                "PERSISTENT_ID",
            ]
            .contains(&cat.as_str())
                || s(&r, "referenceType").is_none()
                || !s(&r, "referenceLocator").is_some_and(|l| l.starts_with("pkg:"))
            {
                p.push(format!("packages[{i}].externalRefs"));
            }
        }
    }
    for (i, r) in doc["relationships"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        for k in ["spdxElementId", "relatedSpdxElement", "relationshipType"] {
            match s(r, k) {
                Some(v) if k == "relationshipType" || ids.contains(&v) => {}
                _ => p.push(format!("relationships[{i}].{k}")),
            }
        }
    }
    p
}

#[test]
fn spdx_has_what_the_schema_requires() {
    let doc = spdx(&packages(), &meta());
    assert_eq!(spdx_problems(&doc), Vec::<String>::new());
    assert_eq!(doc["packages"].as_array().unwrap().len(), 7);
    assert_eq!(doc["packages"][2]["sourceInfo"], "built from source package openssl");
    let mut bad = doc.clone();
    bad["packages"][1]["SPDXID"] = Value::from("SPDXRef-Package 1");
    bad["creationInfo"]["creators"] = Value::from(Vec::<Value>::new());
    assert_eq!(spdx_problems(&bad).len(), 3, "{:?}", spdx_problems(&bad));
}
