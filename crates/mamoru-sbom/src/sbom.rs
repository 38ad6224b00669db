//! SBOM documents: CycloneDX 1.5 JSON and SPDX 2.3 JSON. Both are deterministic for a given package list and
//! [`SbomMeta`] (the serial number / namespace are derived from the content), so scans can be diffed.

use crate::package::{Ecosystem, Package};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// What the SBOM describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubjectKind {
    Container,
    Filesystem,
}

/// Document metadata.
#[derive(Debug, Clone)]
pub struct SbomMeta {
    /// The scanned target (image reference, directory).
    pub name: String,
    pub kind: SubjectKind,
    /// Image digest, when known (becomes the subject's version / checksum).
    pub digest: Option<String>,
    /// Creation time, RFC 3339 (UTC, `Z`).
    pub created: String,
}

impl SbomMeta {
    /// Metadata stamped with the current time.
    pub fn new(name: impl Into<String>, kind: SubjectKind) -> Self {
        SbomMeta {
            name: name.into(),
            kind,
            digest: None,
            created: rfc3339_now(),
        }
    }
}

const TOOL: &str = "mamoru";
const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Current UTC time as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn rfc3339_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    rfc3339(secs)
}

/// Formats seconds since the epoch (civil-from-days, proleptic Gregorian).
pub fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn content_hash(packages: &[Package], meta: &SbomMeta) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(meta.name.as_bytes());
    h.update(meta.digest.as_deref().unwrap_or("").as_bytes());
    for p in packages {
        for s in [p.purl.as_str(), p.path.as_str()] {
            h.update(s.as_bytes());
            h.update([0]);
        }
    }
    h.finalize().into()
}

/// A UUID (RFC 4122 layout, version 4 bits) derived from the content hash.
fn uuid_from(hash: &[u8; 32]) -> String {
    let mut b = [0u8; 16];
    b.copy_from_slice(&hash[..16]);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

fn properties(p: &Package) -> Vec<Value> {
    let mut props = vec![json!({"name": "mamoru:package:path", "value": p.path})];
    if let Some(l) = p.layer {
        props.push(json!({"name": "mamoru:package:layer", "value": l.to_string()}));
    }
    if let Some(s) = &p.source_name {
        props.push(json!({"name": "mamoru:package:source", "value": s}));
    }
    props
}

/// CycloneDX 1.5 JSON.
pub fn cyclonedx(packages: &[Package], meta: &SbomMeta) -> Value {
    let serial = format!("urn:uuid:{}", uuid_from(&content_hash(packages, meta)));
    let mut components = Vec::with_capacity(packages.len());
    let mut seen = std::collections::HashSet::new();
    for p in packages {
        // bom-refs must be unique; the same purl found in two files gets the file as a suffix.
        let mut bom_ref = p.purl.clone();
        if !seen.insert(bom_ref.clone()) {
            bom_ref = format!("{}#{}", p.purl, p.path);
            let mut n = 2;
            while !seen.insert(bom_ref.clone()) {
                bom_ref = format!("{}#{}#{n}", p.purl, p.path);
                n += 1;
            }
        }
        let (group, name) = match (p.ecosystem, p.name.split_once(':')) {
            (Ecosystem::Maven, Some((g, a))) => (Some(g), a),
            _ => (None, p.name.as_str()),
        };
        let mut c = json!({
            "bom-ref": bom_ref,
            "type": "library",
            "name": name,
            "version": p.version,
            "purl": p.purl,
            "properties": properties(p),
        });
        if let Some(g) = group {
            c["group"] = json!(g);
        }
        components.push(c);
    }
    let mut subject = json!({
        "bom-ref": "subject",
        "type": match meta.kind { SubjectKind::Container => "container", SubjectKind::Filesystem => "file" },
        "name": meta.name,
    });
    if let Some(d) = &meta.digest {
        subject["version"] = json!(d);
    }
    json!({
        "$schema": "http://cyclonedx.org/schema/bom-1.5.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": serial,
        "version": 1,
        "metadata": {
            "timestamp": meta.created,
            "tools": {"components": [{"type": "application", "name": TOOL, "version": TOOL_VERSION}]},
            "component": subject,
        },
        "components": components,
    })
}

/// SPDX 2.3 JSON.
pub fn spdx(packages: &[Package], meta: &SbomMeta) -> Value {
    let uuid = uuid_from(&content_hash(packages, meta));
    let root_id = "SPDXRef-Subject";
    let mut spdx_packages = vec![{
        let mut root = json!({
            "SPDXID": root_id,
            "name": meta.name,
            "downloadLocation": "NOASSERTION",
            "filesAnalyzed": false,
            "primaryPackagePurpose": match meta.kind { SubjectKind::Container => "CONTAINER", SubjectKind::Filesystem => "FILE" },
        });
        if let Some(d) = &meta.digest {
            root["versionInfo"] = json!(d);
        }
        root
    }];
    let mut relationships = vec![
        json!({"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES", "relatedSpdxElement": root_id}),
    ];
    for (i, p) in packages.iter().enumerate() {
        let id = format!("SPDXRef-Package-{}", i + 1);
        let mut comment = format!("found in {}", p.path);
        if let Some(l) = p.layer {
            comment.push_str(&format!(" (layer {l})"));
        }
        let mut pkg = json!({
            "SPDXID": id,
            "name": p.name,
            "versionInfo": p.version,
            "downloadLocation": "NOASSERTION",
            "filesAnalyzed": false,
            "primaryPackagePurpose": "LIBRARY",
            "comment": comment,
            "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": p.purl}],
        });
        if let Some(s) = &p.source_name {
            pkg["sourceInfo"] = json!(format!("built from source package {s}"));
        }
        spdx_packages.push(pkg);
        relationships.push(json!({"spdxElementId": root_id, "relationshipType": "CONTAINS", "relatedSpdxElement": id}));
    }
    let safe_name: String = meta
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '-'
            }
        })
        .collect();
    json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": meta.name,
        "documentNamespace": format!("https://mamoru.invalid/spdx/{safe_name}-{uuid}"),
        "creationInfo": {"created": meta.created, "creators": [format!("Tool: {TOOL}-{TOOL_VERSION}")]},
        "documentDescribes": [root_id],
        "packages": spdx_packages,
        "relationships": relationships,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn time_format() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(super::rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
    }
}
