//! Image configuration checks: root user, Docker socket and host paths as volumes, Docker API ports, `curl | sh`
//! in the build history, and secrets in ENV, labels and history (through the secrets analyzer).

use crate::analyzer::ImageAnalyzer;
use crate::finding::{Category, Finding, Location, Severity};
use crate::secrets::{SecretsAnalyzer, TextSource};
use mamoru_oci::Image;
use regex::Regex;
use std::sync::Arc;

/// Ports whose exposure hands out control of a host: Docker API (2375 plain, 2376 TLS, 4243), kubelet, etcd.
const DANGEROUS_PORTS: &[(u16, &str)] = &[
    (2375, "Docker API without TLS"),
    (2376, "Docker API"),
    (4243, "Docker API (alternate port)"),
    (10250, "kubelet API"),
    (2379, "etcd client API"),
];

/// Volume or mount paths that point at the host's control surfaces.
const HOST_PATHS: &[&str] = &[
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/run/containerd/containerd.sock",
    "/var/run/crio/crio.sock",
    "/proc",
    "/sys",
    "/dev",
    "/etc",
    "/root",
    "/var/lib/docker",
    "/var/lib/kubelet",
    "/host",
    "/",
];

/// Checks the image config; secrets in ENV/labels/history go through the shared secrets analyzer if given.
pub struct ConfigAnalyzer {
    secrets: Option<Arc<SecretsAnalyzer>>,
    pipe_to_shell: Regex,
    secret_env_name: Regex,
    placeholder: Regex,
    mount_flag: Regex,
}

/// Only if the built-in patterns were broken.
#[derive(Debug, thiserror::Error)]
#[error("config checks: {0}")]
pub struct ConfigCheckError(String);

impl ConfigAnalyzer {
    pub fn new(secrets: Option<Arc<SecretsAnalyzer>>) -> Result<Self, ConfigCheckError> {
        let re = |p: &str| Regex::new(p).map_err(|e| ConfigCheckError(e.to_string()));
        Ok(ConfigAnalyzer {
            secrets,
            pipe_to_shell: re(r"(?i)\b(?:curl|wget)\b[^|;&]*\|\s*(?:sudo\s+)?(?:ba|da|z)?sh\b")?,
            secret_env_name: re(
                r"(?i)(?:^|_)(?:password|passwd|pwd|secret|token|api_?key|access_?key|private_?key|credentials?|auth)(?:_|$)",
            )?,
            placeholder: re(
                r"(?i)^(?:|changeme|change_me|password|secret|xxx+|none|null|true|false|\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|<[^>]*>|/.*)$",
            )?,
            mount_flag: re(r"(?:-v|--volume|--mount)[= ]\S*?(/var/run/docker\.sock|/run/docker\.sock)")?,
        })
    }

    fn check_user(&self, image: &Image, out: &mut Vec<Finding>) {
        let user = image.config.config.user.clone().unwrap_or_default();
        let name = user.split(':').next().unwrap_or("").trim();
        if name.is_empty() || name == "root" || name == "0" {
            out.push(Finding::new(
                Category::Config,
                Severity::Medium,
                "config:root-user",
                "image runs as root",
                if user.is_empty() {
                    "the config sets no USER, so containers run as root".to_string()
                } else {
                    format!("USER is {user:?}")
                },
                Location::in_field("config.User"),
            ));
        }
    }

    fn check_volumes(&self, image: &Image, out: &mut Vec<Finding>) {
        let Some(volumes) = &image.config.config.volumes else {
            return;
        };
        for path in volumes.keys() {
            let normalized = path.trim_end_matches('/');
            let normalized = if normalized.is_empty() { "/" } else { normalized };
            if HOST_PATHS.contains(&normalized) {
                let socket = normalized.ends_with(".sock");
                out.push(
                    Finding::new(
                        Category::Config,
                        if socket { Severity::High } else { Severity::Medium },
                        if socket {
                            "config:docker-socket"
                        } else {
                            "config:host-path-volume"
                        },
                        format!("volume at {normalized}"),
                        if socket {
                            "the image expects the container runtime socket, which gives full control of the host"
                                .to_string()
                        } else {
                            format!("the image declares a volume at host-sensitive path {normalized}")
                        },
                        Location::in_field(format!("config.Volumes[{path:?}]")),
                    )
                    .with_evidence(path.clone()),
                );
            }
        }
    }

    fn check_ports(&self, image: &Image, out: &mut Vec<Finding>) {
        let Some(ports) = &image.config.config.exposed_ports else {
            return;
        };
        for spec in ports.keys() {
            let port: Option<u16> = spec.split('/').next().and_then(|p| p.parse().ok());
            if let Some((p, what)) = port.and_then(|p| DANGEROUS_PORTS.iter().find(|(d, _)| *d == p)) {
                out.push(
                    Finding::new(
                        Category::Config,
                        if *p == 2375 { Severity::High } else { Severity::Medium },
                        "config:dangerous-port",
                        format!("exposes port {p} ({what})"),
                        format!("port {p} is the {what}; exposing it invites remote control of the host"),
                        Location::in_field(format!("config.ExposedPorts[{spec:?}]")),
                    )
                    .with_evidence(spec.clone()),
                );
            }
        }
    }

    fn check_history(&self, image: &Image, out: &mut Vec<Finding>) {
        for (i, h) in image.config.history.iter().enumerate() {
            let Some(cmd) = h.created_by.as_deref() else { continue };
            let field = format!("history[{i}].created_by");
            if let Some(m) = self.pipe_to_shell.find(cmd) {
                out.push(
                    Finding::new(
                        Category::Config,
                        Severity::Medium,
                        "config:pipe-to-shell",
                        "build step pipes a download into a shell",
                        "code fetched at build time ran unverified (`curl | sh`)",
                        Location::in_field(field.clone()),
                    )
                    .with_evidence(m.as_str().to_string()),
                );
            }
            if self.mount_flag.is_match(cmd) {
                out.push(Finding::new(
                    Category::Config,
                    Severity::Medium,
                    "config:docker-socket",
                    "build history mounts the Docker socket",
                    "a build step refers to mounting the Docker socket",
                    Location::in_field(field.clone()),
                ));
            }
            self.secrets_in(cmd, &field, out);
        }
    }

    fn check_env(&self, image: &Image, out: &mut Vec<Finding>) {
        let Some(env) = &image.config.config.env else { return };
        for (i, pair) in env.iter().enumerate() {
            let field = format!("config.Env[{i}]");
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let before = out.len();
            self.secrets_in(pair, &field, out);
            if out.len() == before && self.secret_env_name.is_match(name) && !self.placeholder.is_match(value.trim()) {
                let redacted = self.redacted(value);
                out.push(
                    Finding::new(
                        Category::Secret,
                        Severity::High,
                        "secret:env-variable",
                        format!("secret-looking value in ENV {name}"),
                        format!("environment variable {name} is named like a credential and has a literal value baked into the image"),
                        Location::in_field(field),
                    )
                    .with_evidence(format!("{name}={redacted}")),
                );
            }
        }
    }

    fn redacted(&self, value: &str) -> String {
        match &self.secrets {
            Some(s) if s.shows_secrets() => value.to_string(),
            _ => crate::secrets::redact(value),
        }
    }

    fn check_labels(&self, image: &Image, out: &mut Vec<Finding>) {
        let Some(labels) = &image.config.config.labels else {
            return;
        };
        for (k, v) in labels {
            self.secrets_in(&format!("{k}={v}"), &format!("config.Labels[{k:?}]"), out);
        }
    }

    fn secrets_in(&self, text: &str, field: &str, out: &mut Vec<Finding>) {
        if let Some(s) = &self.secrets {
            out.extend(s.findings_for(
                text.as_bytes(),
                TextSource::default(),
                &Location::in_field(field.to_string()),
            ));
        }
    }
}

impl ImageAnalyzer for ConfigAnalyzer {
    fn name(&self) -> &'static str {
        "config"
    }

    fn analyze_image(&self, image: &Image, out: &mut Vec<Finding>) {
        self.check_user(image, out);
        self.check_volumes(image, out);
        self.check_ports(image, out);
        self.check_history(image, out);
        self.check_env(image, out);
        self.check_labels(image, out);
    }
}
