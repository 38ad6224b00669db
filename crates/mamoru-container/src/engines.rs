//! Docker and Podman (`/containers/<id>/json`, Docker's API, which Podman's service also serves) and CRI-O
//! (`/containers/<id>` on its info socket), read over their unix sockets.

use crate::http;
use crate::meta::{is_internal_label, Described, Sandbox};
use crate::spec::SpecFacts;
use crate::LookupError;
use mamoru_state::ContainerMount;
use serde_json::Value;
use std::path::Path;

/// Describes a container through the Docker API on `socket` (`runtime` is `docker` or `podman`); `None` when the
/// engine does not know the id.
pub async fn docker_describe(socket: &Path, runtime: &'static str, id: &str) -> Result<Option<Described>, LookupError> {
    let (status, body) = http::get(socket, &format!("/containers/{id}/json")).await?;
    let Some(v) = json_or_missing(status, &body, id)? else {
        return Ok(None);
    };
    let mut d = docker_container(&v, runtime);
    if let Some(image_id) = v.get("Image").and_then(Value::as_str) {
        // RepoDigests live on the image: a failure leaves the digest unknown, not the container.
        match http::get(socket, &format!("/images/{image_id}/json")).await {
            Ok((200, body)) => {
                d.image_digest = serde_json::from_slice::<Value>(&body)
                    .ok()
                    .and_then(|i| repo_digest(&i))
            }
            Ok((code, _)) => tracing::debug!("image {image_id}: HTTP {code}"),
            Err(e) => tracing::debug!("image {image_id}: {e}"),
        }
    }
    Ok(Some(d))
}

/// Describes a container through CRI-O's info socket.
pub async fn crio_describe(socket: &Path, id: &str) -> Result<Option<Described>, LookupError> {
    let (status, body) = http::get(socket, &format!("/containers/{id}")).await?;
    let Some(v) = json_or_missing(status, &body, id)? else {
        return Ok(None);
    };
    let mut d = crio_container(&v, id);
    if let Some(sb) = v
        .get("sandbox")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty() && *s != id)
    {
        if let Ok((200, body)) = http::get(socket, &format!("/containers/{sb}")).await {
            if let Ok(s) = serde_json::from_slice::<Value>(&body) {
                d.sandbox = Some(Sandbox {
                    id: sb.to_string(),
                    labels: string_map(s.get("labels"))
                        .into_iter()
                        .filter(|(k, _)| !is_internal_label(k))
                        .collect(),
                    ip: first_ip(&s),
                });
            }
        }
    }
    Ok(Some(d))
}

fn json_or_missing(status: u16, body: &[u8], id: &str) -> Result<Option<Value>, LookupError> {
    match status {
        200 => serde_json::from_slice(body).map(Some).map_err(|e| LookupError::Http {
            what: id.to_string(),
            reason: format!("invalid JSON: {e}"),
        }),
        404 => Ok(None),
        code => Err(LookupError::Http {
            what: id.to_string(),
            reason: format!("HTTP {code}"),
        }),
    }
}

fn string_map(v: Option<&Value>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = v
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

fn repo_digest(image: &Value) -> Option<String> {
    let first = image.get("RepoDigests")?.as_array()?.first()?.as_str()?;
    first.split_once('@').map(|(_, d)| d.to_string())
}

fn first_ip(v: &Value) -> Option<String> {
    v.get("ip_addresses")?.as_array()?.first()?.as_str().map(str::to_string)
}

/// A Docker `/containers/<id>/json` document.
pub fn docker_container(v: &Value, runtime: &'static str) -> Described {
    let s = |p: &str| v.pointer(p).and_then(Value::as_str).map(str::to_string);
    let host_mode = |p: &str| v.pointer(p).and_then(Value::as_str).map(|m| m == "host");
    let mounts = v
        .get("Mounts")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|m| {
                    let f = |k: &str| m.get(k).and_then(Value::as_str).unwrap_or("").as_bytes().to_vec();
                    ContainerMount {
                        source: f("Source"),
                        dest: f("Destination"),
                        mode: f("Mode"),
                        rdwr: m.get("RW").and_then(Value::as_bool).unwrap_or(false),
                        propagation: f("Propagation"),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    Described {
        full_id: s("/Id").unwrap_or_default(),
        runtime,
        name: s("/Name").map(|n| n.trim_start_matches('/').to_string()),
        image: s("/Config/Image"),
        image_id: s("/Image").map(|i| i.trim_start_matches("sha256:").to_string()),
        labels: string_map(v.pointer("/Config/Labels")),
        spec: Some(SpecFacts {
            privileged: v.pointer("/HostConfig/Privileged").and_then(Value::as_bool),
            mounts,
            host_pid: host_mode("/HostConfig/PidMode"),
            host_network: host_mode("/HostConfig/NetworkMode"),
            host_ipc: host_mode("/HostConfig/IpcMode"),
            annotations: Vec::new(),
        }),
        created_ts: s("/Created").and_then(|t| rfc3339_ns(&t)),
        ip: s("/NetworkSettings/IPAddress").filter(|ip| !ip.is_empty()),
        ..Default::default()
    }
}

/// A CRI-O `/containers/<id>` document.
pub fn crio_container(v: &Value, id: &str) -> Described {
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    Described {
        full_id: id.to_string(),
        runtime: "cri-o",
        name: s("name"),
        image: s("image"),
        image_digest: s("image_ref").and_then(|r| r.split_once('@').map(|(_, d)| d.to_string())),
        labels: string_map(v.get("labels")),
        spec: Some(SpecFacts {
            annotations: string_map(v.get("annotations")),
            ..Default::default()
        }),
        created_ts: v.get("created_time").and_then(Value::as_u64),
        ip: first_ip(v),
        ..Default::default()
    }
}

/// `2024-01-02T03:04:05.123456789Z` (or with a `+hh:mm` offset) as nanoseconds since the epoch.
pub fn rfc3339_ns(t: &str) -> Option<u64> {
    let b = t.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> { t.get(r)?.parse().ok() };
    if b.len() < 20 || b[4] != b'-' || b[10] != b'T' {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let mut rest = &t[19..];
    let mut nanos: i64 = 0;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        let padded = format!("{:0<9}", &frac[..digits.min(9)]);
        nanos = padded.parse().ok()?;
        rest = &frac[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        o if o.len() == 6 => {
            let sign = if o.starts_with('-') { -1 } else { 1 };
            sign * (o.get(1..3)?.parse::<i64>().ok()? * 3600 + o.get(4..6)?.parse::<i64>().ok()? * 60)
        }
        _ => return None,
    };
    let days = days_from_civil(y, mo, d);
    let secs = days * 86_400 + h * 3600 + mi * 60 + s - offset;
    u64::try_from(secs)
        .ok()?
        .checked_mul(1_000_000_000)?
        .checked_add(nanos as u64)
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_docker_inspect() {
        let v: Value = serde_json::from_str(
            r#"{"Id":"3ad7b26ded6d8e7b23da7d48fe889434573036c27ae5a74837233de441c3601e","Name":"/web",
                "Created":"2024-01-02T03:04:05.5Z","Image":"sha256:feed",
                "Config":{"Image":"nginx:1.25","Labels":{"io.kubernetes.pod.name":"p"}},
                "HostConfig":{"Privileged":true,"PidMode":"host","NetworkMode":"bridge"},
                "Mounts":[{"Source":"/var/run/docker.sock","Destination":"/var/run/docker.sock","Mode":"","RW":true,"Propagation":"rprivate"}],
                "NetworkSettings":{"IPAddress":"172.17.0.2"}}"#,
        )
        .expect("json");
        let d = docker_container(&v, "docker");
        assert_eq!(d.name.as_deref(), Some("web"));
        assert_eq!(d.image.as_deref(), Some("nginx:1.25"));
        assert_eq!(d.image_id.as_deref(), Some("feed"));
        assert_eq!(d.created_ts, Some(1_704_164_645_500_000_000));
        let spec = d.spec.as_ref().expect("facts");
        assert_eq!(
            (spec.privileged, spec.host_pid, spec.host_network),
            (Some(true), Some(true), Some(false))
        );
        assert_eq!(spec.mounts[0].dest, b"/var/run/docker.sock");
        assert_eq!(d.ip.as_deref(), Some("172.17.0.2"));
    }

    #[test]
    fn reads_crio_inspect() {
        let v: Value = serde_json::from_str(
            r#"{"name":"k8s_web_web-0","image":"quay.io/x/web:2","image_ref":"quay.io/x/web@sha256:ab",
                "created_time":7,"labels":{"io.kubernetes.pod.namespace":"prod"},
                "annotations":{"io.kubernetes.cri-o.SandboxID":"sb"},"sandbox":"sb","ip_addresses":["10.0.0.3"]}"#,
        )
        .expect("json");
        let d = crio_container(&v, "abc");
        assert_eq!(d.image_digest.as_deref(), Some("sha256:ab"));
        assert_eq!(d.sandbox_id(), Some("sb"));
        assert_eq!(d.created_ts, Some(7));
        assert_eq!(d.ip.as_deref(), Some("10.0.0.3"));
    }

    #[test]
    fn parses_rfc3339() {
        assert_eq!(rfc3339_ns("1970-01-01T00:00:01Z"), Some(1_000_000_000));
        assert_eq!(rfc3339_ns("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(
            rfc3339_ns("2000-03-01T00:00:00.000000001Z"),
            Some(951_868_800_000_000_001)
        );
        assert_eq!(rfc3339_ns("yesterday"), None);
    }
}
