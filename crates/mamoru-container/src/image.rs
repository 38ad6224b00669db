//! Image references: `container.image.repository`, `container.image.tag` and `container.image.digest` from the
//! reference a runtime reports (`docker.io/library/busybox:1.36@sha256:...`, `probe/bb:bb`, `busybox`).

/// The parts of an image reference. Empty parts are absent from the reference.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageRef {
    /// Everything before the tag and digest, registry included when the reference names one.
    pub repository: String,
    pub tag: String,
    /// `algorithm:hex`.
    pub digest: String,
}

/// Splits an image reference. A `:` after the last `/` starts the tag (a `:` before it belongs to a registry
/// port, as in `registry:5000/app`); `@` starts the digest.
pub fn parse_image_ref(reference: &str) -> ImageRef {
    let (name, digest) = match reference.split_once('@') {
        Some((n, d)) => (n, d),
        None => (reference, ""),
    };
    let last_slash = name.rfind('/').map(|i| i + 1).unwrap_or(0);
    let (repository, tag) = match name[last_slash..].rfind(':') {
        Some(colon) => (&name[..last_slash + colon], &name[last_slash + colon + 1..]),
        None => (name, ""),
    };
    ImageRef {
        repository: repository.to_string(),
        tag: tag.to_string(),
        digest: digest.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(r: &str) -> (String, String, String) {
        let p = parse_image_ref(r);
        (p.repository, p.tag, p.digest)
    }

    #[test]
    fn splits_references() {
        assert_eq!(parts("probe/bb:bb"), ("probe/bb".into(), "bb".into(), "".into()));
        assert_eq!(parts("busybox"), ("busybox".into(), "".into(), "".into()));
        assert_eq!(
            parts("registry:5000/team/app:1.2@sha256:abcd"),
            ("registry:5000/team/app".into(), "1.2".into(), "sha256:abcd".into())
        );
        assert_eq!(
            parts("registry:5000/team/app"),
            ("registry:5000/team/app".into(), "".into(), "".into())
        );
        assert_eq!(
            parts("docker.io/library/nginx@sha256:ff"),
            ("docker.io/library/nginx".into(), "".into(), "sha256:ff".into())
        );
    }
}
