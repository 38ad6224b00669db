//! `github` fields (Falco's github plugin). Events are webhook payloads to which the plugin adds `webhook_type`
//! (the `X-GitHub-Event` header), `files` (secrets found in a push's diff) and `workflow_miner_detections`.
//!
//! The plugin always sets a value for its plain fields, so a missing member gives `""`; the secret and miner
//! fields have no value when the enrichment is absent. Comma-separated lists join every element with `,` (the
//! plugin drops the separator between commits, mamoru does not); `github.workflow.miners.type` lists each miner
//! type once, in first-seen order (the plugin's order is random).

use super::path::{get, str_at};
use super::{field, Bind, JsonEvent, NO_ARG, PLAIN, S};
use crate::catalog::FieldInfo;
use crate::value::Values;
use mamoru_records::JsonRef;

/// The plugin's key for the `X-GitHub-Event` header value.
pub const WEBHOOK_TYPE_KEY: &str = "webhook_type";

fn string(ev: &JsonEvent<'_>, path: &[&str], out: &mut Values) {
    out.push_bytes(str_at(ev.value, path).unwrap_or("").as_bytes());
}

/// Comma-joins every string of `commits/*/<key>`.
fn commit_files(ev: &JsonEvent<'_>, key: &str, out: &mut Values) {
    out.begin_bytes();
    let commits = ev
        .value
        .get("commits")
        .and_then(JsonRef::as_array)
        .into_iter()
        .flatten();
    let files = commits.filter_map(|c| c.get(key).and_then(JsonRef::as_array)).flatten();
    for (n, f) in files.filter_map(JsonRef::as_str).enumerate() {
        if n > 0 {
            out.extend_last(b",");
        }
        out.extend_last(f.as_bytes());
    }
}

/// The secret matches of a push: `(file name, match)` pairs; `None` without the `files` enrichment.
fn secret_matches(v: JsonRef<'_>) -> Option<impl Iterator<Item = (&str, JsonRef<'_>)>> {
    let files = v.get("files")?.as_array()?;
    Some(files.flat_map(|f| {
        let name = f.get("name").and_then(JsonRef::as_str).unwrap_or("");
        let matches = f.get("matches").and_then(JsonRef::as_array).into_iter().flatten();
        matches.map(move |m| (name, m))
    }))
}

/// Comma-joins one property of every secret match.
fn secrets(ev: &JsonEvent<'_>, what: SecretPart, out: &mut Values) {
    let Some(matches) = secret_matches(ev.value) else {
        if what == SecretPart::Link {
            out.push_bytes(b"");
        }
        return;
    };
    let repo = str_at(ev.value, &["repository", "html_url"]).unwrap_or("");
    let head = str_at(ev.value, &["head_commit", "id"]).unwrap_or("");
    out.begin_bytes();
    for (n, (file, m)) in matches.enumerate() {
        if n > 0 {
            out.extend_last(b",");
        }
        let line = m.get("line").and_then(JsonRef::as_u64).unwrap_or(0);
        match what {
            SecretPart::Desc => out.extend_last(m.get("desc").and_then(JsonRef::as_str).unwrap_or("").as_bytes()),
            SecretPart::File => out.extend_last(file.as_bytes()),
            SecretPart::Line => extend_u64(line, out),
            SecretPart::Link => {
                for part in [repo, "/blob/", head, "/", file, "/#L"] {
                    out.extend_last(part.as_bytes());
                }
                extend_u64(line, out);
            }
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum SecretPart {
    Desc,
    File,
    Line,
    Link,
}

fn extend_u64(mut n: u64, out: &mut Values) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_last(&buf[i..]);
}

fn has_secrets(ev: &JsonEvent<'_>, out: &mut Values) {
    match ev.value.get("files").and_then(JsonRef::as_array) {
        None => out.push_bytes(b""),
        Some(files) => {
            let any = files.into_iter().any(|f| {
                f.get("matches")
                    .and_then(JsonRef::as_array)
                    .is_some_and(|m| !m.is_empty())
            });
            out.push_bytes(if any { b"true" } else { b"false" });
        }
    }
}

fn miner_matches(v: JsonRef<'_>) -> Option<mamoru_records::json::Children<'_>> {
    get(v, &["workflow_miner_detections", "matches"])?.as_array()
}

fn miner_types(ev: &JsonEvent<'_>, out: &mut Values) {
    let Some(matches) = miner_matches(ev.value) else {
        return;
    };
    let types = || {
        matches
            .clone()
            .map(|m| m.get("type").and_then(JsonRef::as_str).unwrap_or(""))
    };
    out.begin_bytes();
    let mut n = 0;
    for (i, t) in types().enumerate() {
        if types().take(i).any(|seen| seen == t) {
            continue;
        }
        if n > 0 {
            out.extend_last(b",");
        }
        out.extend_last(t.as_bytes());
        n += 1;
    }
}

/// `evt.plugininfo`: `github <type>[ user:<login>][ repo:<url>][ action:<action>]`.
pub(super) fn push_plugininfo(ev: &JsonEvent<'_>, out: &mut Values) {
    let v = ev.value;
    out.begin_bytes();
    out.extend_last(b"github ");
    out.extend_last(str_at(v, &[WEBHOOK_TYPE_KEY]).unwrap_or("").as_bytes());
    let parts: [(&[u8], &[&str]); 3] = [
        (b" user:", &["sender", "login"]),
        (b" repo:", &["repository", "html_url"]),
        (b" action:", &["action"]),
    ];
    for (label, path) in parts {
        if let Some(s) = str_at(v, path) {
            out.extend_last(label);
            out.extend_last(s.as_bytes());
        }
    }
}

pub(crate) static FIELDS: &[(FieldInfo, Bind)] = &[
    (
        field(
            "github.type",
            S,
            NO_ARG,
            PLAIN,
            "Message type (the X-GitHub-Event header), e.g. 'star' or 'repository'.",
        ),
        Bind::Plain(|ev, out| string(ev, &[WEBHOOK_TYPE_KEY], out)),
    ),
    (
        field(
            "github.action",
            S,
            NO_ARG,
            PLAIN,
            "The action that qualifies github.type (e.g. 'created', 'deleted').",
        ),
        Bind::Plain(|ev, out| string(ev, &["action"], out)),
    ),
    (
        field(
            "github.user",
            S,
            NO_ARG,
            PLAIN,
            "Name of the user that triggered the event.",
        ),
        Bind::Plain(|ev, out| string(ev, &["sender", "login"], out)),
    ),
    (
        field(
            "github.repo",
            S,
            NO_ARG,
            PLAIN,
            "(deprecated) URL of the repository where the event occurred.",
        ),
        Bind::Plain(|ev, out| string(ev, &["repository", "html_url"], out)),
    ),
    (
        field(
            "github.repo.url",
            S,
            NO_ARG,
            PLAIN,
            "URL of the repository where the event occurred.",
        ),
        Bind::Plain(|ev, out| string(ev, &["repository", "html_url"], out)),
    ),
    (
        field(
            "github.repo.name",
            S,
            NO_ARG,
            PLAIN,
            "Name (owner/repo) of the repository where the event occurred.",
        ),
        Bind::Plain(|ev, out| {
            let url = str_at(ev.value, &["repository", "html_url"]).unwrap_or("");
            out.push_bytes(url.strip_prefix("https://github.com/").unwrap_or(url).as_bytes())
        }),
    ),
    (
        field(
            "github.repo.description",
            S,
            NO_ARG,
            PLAIN,
            "Description of the repository.",
        ),
        Bind::Plain(|ev, out| string(ev, &["repository", "description"], out)),
    ),
    (
        field(
            "github.org",
            S,
            NO_ARG,
            PLAIN,
            "Name of the organization the repository belongs to.",
        ),
        Bind::Plain(|ev, out| string(ev, &["organization", "login"], out)),
    ),
    (
        field("github.owner", S, NO_ARG, PLAIN, "Name of the repository's owner."),
        Bind::Plain(|ev, out| string(ev, &["repository", "owner", "login"], out)),
    ),
    (
        field(
            "github.repo.public",
            S,
            NO_ARG,
            PLAIN,
            "'true' if the repository is public, 'false' otherwise.",
        ),
        Bind::Plain(|ev, out| {
            let private = get(ev.value, &["repository", "private"]).and_then(JsonRef::as_bool) == Some(true);
            out.push_bytes(if private { b"false" } else { b"true" })
        }),
    ),
    (
        field(
            "github.collaborator.name",
            S,
            NO_ARG,
            PLAIN,
            "The member added or removed.",
        ),
        Bind::Plain(|ev, out| string(ev, &["member", "login"], out)),
    ),
    (
        field(
            "github.collaborator.role",
            S,
            NO_ARG,
            PLAIN,
            "The new permission of the member added or changed.",
        ),
        Bind::Plain(|ev, out| string(ev, &["changes", "permission", "to"], out)),
    ),
    (
        field(
            "github.webhook.id",
            S,
            NO_ARG,
            PLAIN,
            "The id of a created webhook ('0' when absent).",
        ),
        Bind::Plain(|ev, out| {
            let id = get(ev.value, &["hook", "id"]).and_then(JsonRef::as_u64).unwrap_or(0);
            out.push_fmt(format_args!("{id}"))
        }),
    ),
    (
        field(
            "github.webhook.type",
            S,
            NO_ARG,
            PLAIN,
            "The type of a created webhook, e.g. 'repository'.",
        ),
        Bind::Plain(|ev, out| string(ev, &["hook", "type"], out)),
    ),
    (
        field(
            "github.commit.added",
            S,
            NO_ARG,
            PLAIN,
            "Comma separated list of files that have been added.",
        ),
        Bind::Plain(|ev, out| commit_files(ev, "added", out)),
    ),
    (
        field(
            "github.commit.modified",
            S,
            NO_ARG,
            PLAIN,
            "Comma separated list of files that have been modified.",
        ),
        Bind::Plain(|ev, out| commit_files(ev, "modified", out)),
    ),
    (
        field(
            "github.commit.removed",
            S,
            NO_ARG,
            PLAIN,
            "Comma separated list of files that have been removed.",
        ),
        Bind::Plain(|ev, out| commit_files(ev, "removed", out)),
    ),
    (
        field(
            "github.diff.has_secrets",
            S,
            NO_ARG,
            PLAIN,
            "For pushes, 'true' if a commit's diff contains a secret.",
        ),
        Bind::Plain(has_secrets),
    ),
    (
        field(
            "github.diff.committed_secrets.desc",
            S,
            NO_ARG,
            PLAIN,
            "For pushes, the descriptions of the committed secrets, comma separated.",
        ),
        Bind::Plain(|ev, out| secrets(ev, SecretPart::Desc, out)),
    ),
    (
        field(
            "github.diff.committed_secrets.files",
            S,
            NO_ARG,
            PLAIN,
            "For pushes, the files in which secrets were committed, comma separated.",
        ),
        Bind::Plain(|ev, out| secrets(ev, SecretPart::File, out)),
    ),
    (
        field(
            "github.diff.committed_secrets.lines",
            S,
            NO_ARG,
            PLAIN,
            "For pushes, the file lines of the committed secrets, comma separated.",
        ),
        Bind::Plain(|ev, out| secrets(ev, SecretPart::Line, out)),
    ),
    (
        field(
            "github.diff.committed_secrets.links",
            S,
            NO_ARG,
            PLAIN,
            "For pushes, links to the committed secrets in the GitHub source view, comma separated.",
        ),
        Bind::Plain(|ev, out| secrets(ev, SecretPart::Link, out)),
    ),
    (
        field(
            "github.workflow.has_miners",
            S,
            NO_ARG,
            PLAIN,
            "For workflow runs, 'true' if a miner was detected in the workflow definition file.",
        ),
        Bind::Plain(|ev, out| {
            if let Some(m) = miner_matches(ev.value) {
                out.push_bytes(if m.is_empty() { b"false" } else { b"true" })
            }
        }),
    ),
    (
        field(
            "github.workflow.miners.type",
            S,
            NO_ARG,
            PLAIN,
            "For workflow runs, the types of the detected miners, comma separated (e.g. xmrig,stratum).",
        ),
        Bind::Plain(miner_types),
    ),
    (
        field(
            "github.workflow.filename",
            S,
            NO_ARG,
            PLAIN,
            "For workflow runs, the workflow definition file.",
        ),
        Bind::Plain(|ev, out| string(ev, &["workflow", "path"], out)),
    ),
];

#[cfg(test)]
mod tests {
    #[test]
    fn field_count_matches_plugin() {
        assert_eq!(super::FIELDS.len(), 25);
    }
}
