//! `gcp_auditlog` fields (Falco's gcpaudit plugin). Events are Cloud Logging `LogEntry` records whose
//! `protoPayload` is a `google.cloud.audit.AuditLog`.
//!
//! As in the plugin, `gcp.user`, `gcp.callerIP`, `gcp.methodName`, `gcp.request` and `gcp.policyDelta` always
//! have a value (`""` when absent); the other fields only when their member exists. `gcp.authorizationInfo`,
//! `gcp.request`, `gcp.policyDelta` and `gcp.resourceLabels` hold objects or arrays: mamoru renders them as JSON
//! text, which is what the shipped rules test (`gcp.policyDelta contains "allUsers"`), where the latest plugin
//! hands back `""` for non-strings.

use super::path::{get, push_text, str_at};
use super::{field, Bind, JsonEvent, NO_ARG, PLAIN, S};
use crate::catalog::FieldInfo;
use crate::value::Values;

/// The value at `path` as text, `""` when absent.
fn always(ev: &JsonEvent<'_>, path: &[&str], out: &mut Values) {
    match get(ev.value, path) {
        Some(v) => push_text(v, out),
        None => out.push_bytes(b""),
    }
}

/// The value at `path` as text, nothing when absent.
fn present(ev: &JsonEvent<'_>, path: &[&str], out: &mut Values) {
    if let Some(v) = get(ev.value, path) {
        push_text(v, out);
    }
}

fn label(ev: &JsonEvent<'_>, name: &str, out: &mut Values) {
    present(ev, &["resource", "labels", name], out);
}

fn resource_type<'a>(ev: &JsonEvent<'a>) -> Option<&'a str> {
    str_at(ev.value, &["resource", "type"])
}

/// `gcp.location`: the resource's location, else its region, else its zone minus the zone letter suffix.
fn location(ev: &JsonEvent<'_>, out: &mut Values) {
    for key in ["location", "region"] {
        if let Some(v) = get(ev.value, &["resource", "labels", key]) {
            push_text(v, out);
            return;
        }
    }
    if let Some(zone) = str_at(ev.value, &["resource", "labels", "zone"]).filter(|z| !z.is_empty()) {
        let region = if zone.len() > 2 {
            zone.get(..zone.len() - 2).unwrap_or(zone)
        } else {
            zone
        };
        out.push_bytes(region.as_bytes());
    }
}

/// `gcp.policyDelta`: the binding deltas of a bucket IAM change, else of a BigQuery dataset change.
fn policy_delta(ev: &JsonEvent<'_>, out: &mut Values) {
    if resource_type(ev) == Some("gcs_bucket") {
        always(
            ev,
            &["protoPayload", "serviceData", "policyDelta", "bindingDeltas"],
            out,
        );
    } else {
        always(ev, &["protoPayload", "metadata", "datasetChange", "bindingDeltas"], out);
    }
}

pub(crate) static FIELDS: &[(FieldInfo, Bind)] = &[
    (
        field("gcp.user", S, NO_ARG, PLAIN, "GCP principal, actor of the action."),
        Bind::Plain(|ev, out| always(ev, &["protoPayload", "authenticationInfo", "principalEmail"], out)),
    ),
    (
        field("gcp.callerIP", S, NO_ARG, PLAIN, "Actor's IP address."),
        Bind::Plain(|ev, out| always(ev, &["protoPayload", "requestMetadata", "callerIp"], out)),
    ),
    (
        field("gcp.userAgent", S, NO_ARG, PLAIN, "Actor's user agent."),
        Bind::Plain(|ev, out| present(ev, &["protoPayload", "requestMetadata", "callerSuppliedUserAgent"], out)),
    ),
    (
        field(
            "gcp.authorizationInfo",
            S,
            NO_ARG,
            PLAIN,
            "GCP authorization information, as JSON text.",
        ),
        Bind::Plain(|ev, out| present(ev, &["protoPayload", "authorizationInfo"], out)),
    ),
    (
        field("gcp.serviceName", S, NO_ARG, PLAIN, "GCP API service name."),
        Bind::Plain(|ev, out| present(ev, &["protoPayload", "serviceName"], out)),
    ),
    (
        field(
            "gcp.policyDelta",
            S,
            NO_ARG,
            PLAIN,
            "GCP service resource access policy delta, as JSON text.",
        ),
        Bind::Plain(policy_delta),
    ),
    (
        field("gcp.request", S, NO_ARG, PLAIN, "GCP API raw request, as JSON text."),
        Bind::Plain(|ev, out| always(ev, &["protoPayload", "request"], out)),
    ),
    (
        field("gcp.methodName", S, NO_ARG, PLAIN, "GCP API service method executed."),
        Bind::Plain(|ev, out| always(ev, &["protoPayload", "methodName"], out)),
    ),
    (
        field("gcp.cloudfunctions.function", S, NO_ARG, PLAIN, "Cloud Function name."),
        Bind::Plain(|ev, out| label(ev, "function_name", out)),
    ),
    (
        field("gcp.cloudsql.databaseId", S, NO_ARG, PLAIN, "Cloud SQL database ID."),
        Bind::Plain(|ev, out| label(ev, "database_id", out)),
    ),
    (
        field(
            "gcp.compute.instanceId",
            S,
            NO_ARG,
            PLAIN,
            "Compute Engine instance ID.",
        ),
        Bind::Plain(|ev, out| label(ev, "instance_id", out)),
    ),
    (
        field("gcp.compute.networkId", S, NO_ARG, PLAIN, "GCP network ID."),
        Bind::Plain(|ev, out| label(ev, "network_id", out)),
    ),
    (
        field("gcp.compute.subnetwork", S, NO_ARG, PLAIN, "GCP subnetwork name."),
        Bind::Plain(|ev, out| label(ev, "subnetwork_name", out)),
    ),
    (
        field("gcp.compute.subnetworkId", S, NO_ARG, PLAIN, "GCP subnetwork ID."),
        Bind::Plain(|ev, out| label(ev, "subnetwork_id", out)),
    ),
    (
        field("gcp.dns.zone", S, NO_ARG, PLAIN, "Cloud DNS zone."),
        Bind::Plain(|ev, out| label(ev, "zone_name", out)),
    ),
    (
        field("gcp.iam.serviceAccount", S, NO_ARG, PLAIN, "GCP service account."),
        Bind::Plain(|ev, out| label(ev, "email_id", out)),
    ),
    (
        field("gcp.iam.serviceAccountId", S, NO_ARG, PLAIN, "GCP IAM unique ID."),
        Bind::Plain(|ev, out| label(ev, "unique_id", out)),
    ),
    (
        field(
            "gcp.location",
            S,
            NO_ARG,
            PLAIN,
            "GCP region (location, else region, else the zone's region).",
        ),
        Bind::Plain(location),
    ),
    (
        field(
            "gcp.logging.sink",
            S,
            NO_ARG,
            PLAIN,
            "Cloud Logging sink name (for logging_sink resources).",
        ),
        Bind::Plain(|ev, out| {
            if resource_type(ev) == Some("logging_sink") {
                label(ev, "name", out)
            }
        }),
    ),
    (
        field("gcp.projectId", S, NO_ARG, PLAIN, "GCP project ID."),
        Bind::Plain(|ev, out| label(ev, "project_id", out)),
    ),
    (
        field("gcp.resourceName", S, NO_ARG, PLAIN, "GCP resource name."),
        Bind::Plain(|ev, out| present(ev, &["protoPayload", "resourceName"], out)),
    ),
    (
        field("gcp.resourceType", S, NO_ARG, PLAIN, "GCP resource type."),
        Bind::Plain(|ev, out| present(ev, &["resource", "type"], out)),
    ),
    (
        field(
            "gcp.resourceLabels",
            S,
            NO_ARG,
            PLAIN,
            "GCP resource labels, as JSON text.",
        ),
        Bind::Plain(|ev, out| present(ev, &["resource", "labels"], out)),
    ),
    (
        field("gcp.storage.bucket", S, NO_ARG, PLAIN, "Cloud Storage bucket name."),
        Bind::Plain(|ev, out| label(ev, "bucket_name", out)),
    ),
    (
        field(
            "gcp.time",
            S,
            NO_ARG,
            PLAIN,
            "Timestamp of the event in RFC3339 format.",
        ),
        Bind::Plain(|ev, out| present(ev, &["timestamp"], out)),
    ),
];

#[cfg(test)]
mod tests {
    #[test]
    fn field_count_matches_plugin() {
        assert_eq!(super::FIELDS.len(), 25);
    }
}
