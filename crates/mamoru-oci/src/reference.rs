//! Image references: `[registry/]repository[:tag][@digest]`, with Docker Hub defaults.

use crate::error::OciError;
use serde::Serialize;

pub const DOCKER_HUB: &str = "docker.io";

/// A parsed image reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reference {
    /// Registry host[:port] as written (`docker.io` when absent).
    pub registry: String,
    /// Repository path; Docker Hub single names get `library/`.
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl Reference {
    pub fn parse(text: &str) -> Result<Reference, OciError> {
        let bad = |why: &str| OciError::Reference {
            reference: text.to_string(),
            why: why.to_string(),
        };
        if text.is_empty() || text.chars().any(|c| c.is_whitespace()) {
            return Err(bad("empty or contains whitespace"));
        }
        let (rest, digest) = match text.split_once('@') {
            Some((r, d)) => {
                if !d.contains(':') {
                    return Err(bad("digest must be ALGORITHM:HEX"));
                }
                (r, Some(d.to_string()))
            }
            None => (text, None),
        };
        let (registry, path) = match rest.split_once('/') {
            Some((first, remainder)) if first.contains('.') || first.contains(':') || first == "localhost" => {
                (first.to_string(), remainder)
            }
            _ => (DOCKER_HUB.to_string(), rest),
        };
        let (path, tag) = match path.rfind(':') {
            Some(i) if !path[i..].contains('/') => (&path[..i], Some(path[i + 1..].to_string())),
            _ => (path, None),
        };
        if path.is_empty() || path.split('/').any(str::is_empty) {
            return Err(bad("empty repository path component"));
        }
        if path.chars().any(|c| c.is_ascii_uppercase()) {
            return Err(bad("repository names are lower case"));
        }
        let repository = if registry == DOCKER_HUB && !path.contains('/') {
            format!("library/{path}")
        } else {
            path.to_string()
        };
        let tag = if tag.is_none() && digest.is_none() {
            Some("latest".to_string())
        } else {
            tag
        };
        Ok(Reference {
            registry,
            repository,
            tag,
            digest,
        })
    }

    /// What to ask the registry for: the digest if given, else the tag.
    pub fn manifest_reference(&self) -> &str {
        self.digest.as_deref().or(self.tag.as_deref()).unwrap_or("latest")
    }

    /// The host to contact (Docker Hub's API lives on registry-1).
    pub fn api_host(&self) -> &str {
        if self.registry == DOCKER_HUB {
            "registry-1.docker.io"
        } else {
            &self.registry
        }
    }
}

impl std::fmt::Display for Reference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_forms() {
        let r = Reference::parse("c43602f9cc95/openjdk").unwrap();
        assert_eq!(r.registry, DOCKER_HUB);
        assert_eq!(r.repository, "c43602f9cc95/openjdk");
        assert_eq!(r.tag.as_deref(), Some("latest"));
        let r = Reference::parse("alpine").unwrap();
        assert_eq!(r.repository, "library/alpine");
        let r = Reference::parse("localhost:5000/team/app:v1@sha256:abcd").unwrap();
        assert_eq!(r.registry, "localhost:5000");
        assert_eq!(r.repository, "team/app");
        assert_eq!(r.tag.as_deref(), Some("v1"));
        assert_eq!(r.manifest_reference(), "sha256:abcd");
        assert!(Reference::parse("Bad/Name").is_err());
        assert!(Reference::parse("a//b").is_err());
    }
}
