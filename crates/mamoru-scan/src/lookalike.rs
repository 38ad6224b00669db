//! Look-alike image names: names that imitate Docker Official Images or trusted namespaces (an official name under
//! another namespace, edit distance 1-2, homoglyphs such as 0/o, 1/l, rn/m, and suffixes like `-official`).

use crate::analyzer::ImageAnalyzer;
use crate::finding::{Category, Finding, Location, Severity};
use mamoru_oci::{Image, Reference, DOCKER_HUB};
use std::collections::BTreeSet;

/// Annotations that carry image names.
const NAME_ANNOTATIONS: &[&str] = &[
    "org.opencontainers.image.ref.name",
    "io.containerd.image.name",
    "org.opencontainers.image.base.name",
];

/// Words that impostors append or prepend to official names.
const AFFIXES: &[&str] = &[
    "official", "offical", "org", "docker", "image", "images", "latest", "lib", "library", "hub", "linux", "base",
    "alpine", "slim", "server", "prod", "stable", "secure",
];

/// The trusted world: official repository names and trusted registries/namespaces.
#[derive(Debug, Clone)]
pub struct LookAlikeConfig {
    /// Docker Official Images repository names (`openjdk`, `golang`...).
    pub official: BTreeSet<String>,
    /// Trusted `registry/namespace` prefixes, e.g. `docker.io/library`, `ghcr.io/my-org`, `registry.example.com`.
    pub trusted: Vec<String>,
}

impl LookAlikeConfig {
    /// Parses an official-images list (one name per line, `#` comments) with the default trusted namespaces.
    pub fn from_official_list(text: &str) -> Self {
        let official = text
            .lines()
            .map(|l| l.split('#').next().unwrap_or("").trim().to_ascii_lowercase())
            .filter(|l| !l.is_empty())
            .collect();
        LookAlikeConfig {
            official,
            trusted: vec![
                "docker.io/library".to_string(),
                "public.ecr.aws/docker/library".to_string(),
                "mirror.gcr.io/library".to_string(),
            ],
        }
    }

    fn is_trusted(&self, reference: &Reference) -> bool {
        let full = format!("{}/{}", reference.registry, reference.repository);
        self.trusted.iter().any(|t| {
            let t = t.trim_end_matches('/');
            full == t || full.starts_with(&format!("{t}/"))
        })
    }
}

/// Checks the names an image carries.
pub struct LookAlikeAnalyzer {
    config: LookAlikeConfig,
}

impl LookAlikeAnalyzer {
    pub fn new(config: LookAlikeConfig) -> Self {
        LookAlikeAnalyzer { config }
    }

    /// Findings for one image name (`field` says where the name came from).
    pub fn check_name(&self, name: &str, field: &str) -> Vec<Finding> {
        let mut out = Vec::new();
        let Ok(reference) = Reference::parse(name) else {
            return out;
        };
        if self.config.is_trusted(&reference) {
            return out;
        }
        let (namespace, last) = match reference.repository.rsplit_once('/') {
            Some((ns, last)) => (ns.to_string(), last.to_string()),
            None => (String::new(), reference.repository.clone()),
        };
        let location = Location::in_field(field.to_string());
        let finding = |severity, rule: &str, title: String, why: String| {
            Finding::new(
                Category::LookAlike,
                severity,
                format!("look-alike:{rule}"),
                title,
                why,
                location.clone(),
            )
            .with_evidence(name.to_string())
        };
        if reference.registry == DOCKER_HUB && namespace != "library" && is_look_alike_of(&namespace, "library") {
            out.push(finding(
                Severity::High,
                "namespace",
                format!("namespace {namespace:?} imitates Docker's \"library\""),
                "official images live under docker.io/library; this namespace is a misspelling of it".to_string(),
            ));
        }
        if self.config.official.contains(&last) {
            out.push(finding(
                Severity::High,
                "official-name",
                format!(
                    "official image name {last:?} under untrusted {}/{namespace}",
                    reference.registry
                ),
                format!(
                    "{last:?} is a Docker Official Image, but this image comes from {}/{namespace}, which is not a \
                     trusted namespace",
                    reference.registry
                ),
            ));
            return out;
        }
        if let Some((official, how)) = self.closest_official(&last) {
            let severity = if how.starts_with("edit distance 2") {
                Severity::Medium
            } else {
                Severity::High
            };
            out.push(finding(
                severity,
                "similar-name",
                format!("{last:?} looks like the official image {official:?}"),
                format!("{how} from the official image name {official:?}"),
            ));
        }
        out
    }

    /// The official name `name` imitates, and how.
    fn closest_official(&self, name: &str) -> Option<(String, String)> {
        let skeleton = homoglyph_skeleton(name);
        for official in &self.config.official {
            if skeleton == homoglyph_skeleton(official) {
                return Some((official.clone(), "homoglyphs (0/o, 1/l, rn/m...)".to_string()));
            }
        }
        if let Some(official) = strip_affixes(name).filter(|s| self.config.official.contains(s)) {
            return Some((official, "an official name with an added word".to_string()));
        }
        let mut best: Option<(usize, &String)> = None;
        for official in &self.config.official {
            let max = if official.len() >= 6 {
                2
            } else if official.len() >= 4 {
                1
            } else {
                0
            };
            if max == 0 {
                continue;
            }
            let d = damerau_levenshtein(name, official);
            if d >= 1 && d <= max && best.is_none_or(|(bd, _)| d < bd) {
                best = Some((d, official));
            }
        }
        best.map(|(d, o)| (o.clone(), format!("edit distance {d}")))
    }
}

/// `name` is `target` misspelled (distance 1-2 or homoglyphs).
fn is_look_alike_of(name: &str, target: &str) -> bool {
    name != target && (homoglyph_skeleton(name) == homoglyph_skeleton(target) || damerau_levenshtein(name, target) <= 2)
}

/// Maps confusable characters to one representative, so `0penjdk` and `openjdk` share a skeleton.
pub fn homoglyph_skeleton(name: &str) -> String {
    let lowered = name
        .to_lowercase()
        .replace("rn", "m")
        .replace("vv", "w")
        .replace("cl", "d");
    lowered
        .chars()
        .map(|c| match c {
            '0' => 'o',
            '1' | 'i' | '|' => 'l',
            '3' => 'e',
            '4' => 'a',
            '5' => 's',
            '7' => 't',
            '8' => 'b',
            '_' | '.' => '-',
            other => other,
        })
        .collect()
}

/// `openjdk-official` → `openjdk`; None if no affix was removed.
fn strip_affixes(name: &str) -> Option<String> {
    let parts: Vec<&str> = name.split(['-', '_', '.']).filter(|p| !p.is_empty()).collect();
    if parts.len() < 2 {
        return None;
    }
    let kept: Vec<&str> = parts.iter().copied().filter(|p| !AFFIXES.contains(p)).collect();
    if kept.len() == parts.len() || kept.is_empty() {
        return None;
    }
    Some(kept.join("-"))
}

/// Optimal-string-alignment distance (adjacent transpositions count 1).
pub fn damerau_levenshtein(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[a.len()][b.len()]
}

impl ImageAnalyzer for LookAlikeAnalyzer {
    fn name(&self) -> &'static str {
        "look-alike"
    }

    fn analyze_image(&self, image: &Image, out: &mut Vec<Finding>) {
        let mut names: Vec<(String, String)> = image
            .names
            .iter()
            .map(|n| (n.clone(), "image name".to_string()))
            .collect();
        for key in NAME_ANNOTATIONS {
            if let Some(v) = image.annotations.get(*key) {
                // OCI ref names may be bare tags; only full names are checked.
                if v.contains('/') || !v.contains(':') {
                    names.push((v.clone(), format!("annotation {key}")));
                }
            }
        }
        for (name, field) in names {
            for f in self.check_name(&name, &field) {
                if !out.contains(&f) {
                    out.push(f);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn analyzer() -> LookAlikeAnalyzer {
        LookAlikeAnalyzer::new(LookAlikeConfig::from_official_list(
            "openjdk\ngolang\nnginx\npython\nalpine\nredis\nubuntu\nmongo\n",
        ))
    }

    fn rules(name: &str) -> Vec<String> {
        analyzer()
            .check_name(name, "test")
            .into_iter()
            .map(|f| f.rule)
            .collect()
    }

    #[test]
    fn official_name_under_other_namespace() {
        assert_eq!(rules("c43602f9cc95/openjdk"), vec!["look-alike:official-name"]);
        assert_eq!(rules("700888880a0/golang:1.21"), vec!["look-alike:official-name"]);
        assert_eq!(rules("quay.io/evil/nginx"), vec!["look-alike:official-name"]);
        assert!(rules("openjdk:21").is_empty());
        assert!(rules("docker.io/library/nginx").is_empty());
        assert!(rules("myorg/payments-api").is_empty());
    }

    #[test]
    fn misspellings_homoglyphs_and_suffixes() {
        assert_eq!(rules("someone/0penjdk"), vec!["look-alike:similar-name"]);
        assert_eq!(rules("someone/ngimx"), vec!["look-alike:similar-name"]);
        assert_eq!(rules("someone/pyhton"), vec!["look-alike:similar-name"]);
        assert_eq!(rules("x/openjdk-official"), vec!["look-alike:similar-name"]);
        assert_eq!(rules("x/rnongo"), vec!["look-alike:similar-name"]);
        assert!(rules("libary/nginx").contains(&"look-alike:namespace".to_string()));
        assert!(rules("x/totally-different").is_empty());
    }

    #[test]
    fn trusted_namespaces_are_configurable() {
        let mut cfg = LookAlikeConfig::from_official_list("nginx\n");
        cfg.trusted.push("ghcr.io/acme".to_string());
        let a = LookAlikeAnalyzer::new(cfg);
        assert!(a.check_name("ghcr.io/acme/nginx", "t").is_empty());
        assert!(!a.check_name("ghcr.io/acmee/nginx", "t").is_empty());
    }

    #[test]
    fn distance() {
        assert_eq!(damerau_levenshtein("python", "pyhton"), 1);
        assert_eq!(damerau_levenshtein("golang", "go1ang"), 1);
        assert_eq!(damerau_levenshtein("redis", "redis"), 0);
    }
}
