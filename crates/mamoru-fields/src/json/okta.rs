//! `okta` fields (Falco's okta plugin).
//!
//! The plugin decodes each LogEvent into a Go struct before extracting, so a string field of an event that lacks
//! the member is `""` (present), numbers default to `0`, and the target fields take the LAST target of the wanted
//! type. mamoru reads the record directly with the same results; a non-string value where a string is expected is
//! rendered as JSON text (the plugin would fail the whole event).
//!
//! Where mamoru follows the plugin's intent rather than its code (documented divergences):
//! - `okta.client.geo.lon` reads `geolocation.lon` (the plugin's struct tag is misspelt, so it is always `0`).
//! - `okta.mfa.*.countlast` count over event time; the history is fed by [`super::JsonContext::observe`].

use super::context::okta_mfa_key;
use super::path::{get, push_text, str_at};
use super::{field, Bind, JsonEvent, NO_ARG, OPT_INDEX, PLAIN, REQ_INDEX, S, U64};
use crate::catalog::FieldInfo;
use crate::value::Values;
use mamoru_records::{JsonKind, JsonRef};

/// The string at `path`, `""` when absent (Go struct zero value); JSON text for non-strings.
fn string(ev: &JsonEvent<'_>, path: &[&str], out: &mut Values) {
    match get(ev.value, path) {
        Some(v) if !v.is_null() => push_text(v, out),
        _ => out.push_bytes(b""),
    }
}

/// A number at `path` as Go's `%v` prints a float64 (`0` when absent).
fn float_text(ev: &JsonEvent<'_>, path: &[&str], out: &mut Values) {
    let f = get(ev.value, path).and_then(JsonRef::as_f64).unwrap_or(0.0);
    push_go_float(f, out);
}

/// Go's `%v` for a float64: shortest representation, exponent form below 1e-4 and from 1e21 (`1e-05`, `1e+21`).
fn push_go_float(f: f64, out: &mut Values) {
    let abs = f.abs();
    if f == 0.0 || (1e-4..1e21).contains(&abs) {
        out.push_fmt(format_args!("{f}"));
        return;
    }
    // Rust's `{:e}` is `1e-5`; Go pads the exponent to two digits and always signs it. Format on the stack.
    let mut buf = [0u8; 64];
    let len = {
        use std::io::Write;
        let mut cur = std::io::Cursor::new(&mut buf[..]);
        let _ = write!(cur, "{f:e}");
        cur.position() as usize
    };
    let text = std::str::from_utf8(&buf[..len]).unwrap_or("0");
    let (mantissa, exp) = text.split_once('e').unwrap_or((text, "0"));
    let (sign, digits) = match exp.strip_prefix('-') {
        Some(d) => ('-', d),
        None => ('+', exp),
    };
    let pad = if digits.len() < 2 { "0" } else { "" };
    out.push_fmt(format_args!("{mantissa}e{sign}{pad}{digits}"));
}

/// An integer at `path` (`0` when absent).
fn int_text(ev: &JsonEvent<'_>, path: &[&str], out: &mut Values) {
    match get(ev.value, path).filter(|v| matches!(v.kind(), JsonKind::Number | JsonKind::String)) {
        Some(v) => push_text(v, out),
        None => out.push_bytes(b"0"),
    }
}

/// `field` of the last target of type `kind`; no value when there is none.
fn last_target(ev: &JsonEvent<'_>, kind: &str, field_name: &str, out: &mut Values) {
    let targets = ev.value.get("target").and_then(JsonRef::as_array).into_iter().flatten();
    if let Some(t) = targets
        .filter(|t| t.get("type").and_then(JsonRef::as_str) == Some(kind))
        .last()
    {
        out.push_bytes(t.get(field_name).and_then(JsonRef::as_str).unwrap_or("").as_bytes());
    }
}

/// `okta.targets.displayName`: `(a,b,c)` of all targets, or the display name of target `[i]`.
fn targets_display_names(ev: &JsonEvent<'_>, idx: Option<usize>, out: &mut Values) {
    let targets = ev.value.get("target").and_then(JsonRef::as_array).into_iter().flatten();
    fn name(t: JsonRef<'_>) -> &str {
        t.get("displayName").and_then(JsonRef::as_str).unwrap_or("")
    }
    match idx {
        Some(i) => {
            if let Some(t) = targets.clone().nth(i) {
                out.push_bytes(name(t).as_bytes());
            }
        }
        None => {
            out.begin_bytes();
            out.extend_last(b"(");
            for (n, t) in targets.enumerate() {
                if n > 0 {
                    out.extend_last(b",");
                }
                out.extend_last(name(t).as_bytes());
            }
            out.extend_last(b")");
        }
    }
}

/// `okta.app`: the application segment of a `/app/<name>/...` request URI.
fn app(ev: &JsonEvent<'_>, out: &mut Values) {
    let uri = str_at(ev.value, &["debugContext", "debugData", "requestUri"]).unwrap_or("");
    if uri.starts_with("/app/") {
        if let Some(segment) = uri.split('/').nth(2) {
            out.push_bytes(segment.as_bytes());
        }
    }
}

/// `okta.mfa.*.countlast[N]`: MFA failures/denies of this event's type and actor in the last N seconds.
fn mfa_count_last(ev: &JsonEvent<'_>, window: Option<usize>, out: &mut Values) {
    let Some((event_type, actor)) = okta_mfa_key(ev.value) else {
        return;
    };
    let window_s = window.unwrap_or(0) as u64;
    if let Some(n) = ev.ctx.okta_mfa().count_last(event_type, actor, ev.ts_ns, window_s) {
        out.push_u64(n);
    }
}

const DEBUG: [&str; 2] = ["debugContext", "debugData"];

pub(crate) static FIELDS: &[(FieldInfo, Bind)] = &[
    (field("okta.app", S, NO_ARG, PLAIN, "Application"), Bind::Plain(app)),
    (
        field("okta.behaviors", S, NO_ARG, PLAIN, "Behaviors"),
        Bind::Plain(|ev, out| string(ev, &[DEBUG[0], DEBUG[1], "behaviors"], out)),
    ),
    (
        field("okta.org", S, NO_ARG, PLAIN, "Organization"),
        Bind::Plain(|ev, out| out.push_bytes(ev.ctx.okta_organization.as_bytes())),
    ),
    (
        field("okta.evt.type", S, NO_ARG, PLAIN, "Event Type"),
        Bind::Plain(|ev, out| string(ev, &["eventType"], out)),
    ),
    (
        field("okta.evt.legacytype", S, NO_ARG, PLAIN, "Event Legacy Type"),
        Bind::Plain(|ev, out| string(ev, &["legacyEventType"], out)),
    ),
    (
        field("okta.severity", S, NO_ARG, PLAIN, "Severity"),
        Bind::Plain(|ev, out| string(ev, &["severity"], out)),
    ),
    (
        field("okta.message", S, NO_ARG, PLAIN, "Message"),
        Bind::Plain(|ev, out| string(ev, &["displayMessage"], out)),
    ),
    (
        field("okta.published", S, NO_ARG, PLAIN, "Event Source Timestamp"),
        Bind::Plain(|ev, out| string(ev, &["published"], out)),
    ),
    (
        field("okta.logonlysecuritydata", S, NO_ARG, PLAIN, "Log Only Security Data"),
        Bind::Plain(|ev, out| string(ev, &[DEBUG[0], DEBUG[1], "logOnlySecurityData"], out)),
    ),
    (
        field("okta.actor.id", S, NO_ARG, PLAIN, "Actor ID"),
        Bind::Plain(|ev, out| string(ev, &["actor", "id"], out)),
    ),
    (
        field("okta.actor.Type", S, NO_ARG, PLAIN, "Actor Type"),
        Bind::Plain(|ev, out| string(ev, &["actor", "type"], out)),
    ),
    (
        field("okta.actor.alternateid", S, NO_ARG, PLAIN, "Actor Alternate ID"),
        Bind::Plain(|ev, out| string(ev, &["actor", "alternateId"], out)),
    ),
    (
        field("okta.actor.name", S, NO_ARG, PLAIN, "Actor Display Name"),
        Bind::Plain(|ev, out| string(ev, &["actor", "displayName"], out)),
    ),
    (
        field("okta.client.zone", S, NO_ARG, PLAIN, "Client Zone"),
        Bind::Plain(|ev, out| string(ev, &["client", "zone"], out)),
    ),
    (
        field("okta.client.ip", S, NO_ARG, PLAIN, "Client IP Address"),
        Bind::Plain(|ev, out| string(ev, &["client", "ipAddress"], out)),
    ),
    (
        field("okta.client.device", S, NO_ARG, PLAIN, "Client Device"),
        Bind::Plain(|ev, out| string(ev, &["client", "device"], out)),
    ),
    (
        field("okta.client.id", S, NO_ARG, PLAIN, "Client ID"),
        Bind::Plain(|ev, out| string(ev, &["client", "id"], out)),
    ),
    (
        field("okta.client.geo.city", S, NO_ARG, PLAIN, "Client Geographical City"),
        Bind::Plain(|ev, out| string(ev, &["client", "geographicalContext", "city"], out)),
    ),
    (
        field("okta.client.geo.state", S, NO_ARG, PLAIN, "Client Geographical State"),
        Bind::Plain(|ev, out| string(ev, &["client", "geographicalContext", "state"], out)),
    ),
    (
        field(
            "okta.client.geo.country",
            S,
            NO_ARG,
            PLAIN,
            "Client Geographical Country",
        ),
        Bind::Plain(|ev, out| string(ev, &["client", "geographicalContext", "country"], out)),
    ),
    (
        field(
            "okta.client.geo.postalcode",
            S,
            NO_ARG,
            PLAIN,
            "Client Geographical Postal Code",
        ),
        Bind::Plain(|ev, out| string(ev, &["client", "geographicalContext", "postalCode"], out)),
    ),
    (
        field("okta.client.geo.lat", S, NO_ARG, PLAIN, "Client Geographical Latitude"),
        Bind::Plain(|ev, out| float_text(ev, &["client", "geographicalContext", "geolocation", "lat"], out)),
    ),
    (
        field("okta.client.geo.lon", S, NO_ARG, PLAIN, "Client Geographical Longitude"),
        Bind::Plain(|ev, out| float_text(ev, &["client", "geographicalContext", "geolocation", "lon"], out)),
    ),
    (
        field("okta.useragent.os", S, NO_ARG, PLAIN, "Useragent OS"),
        Bind::Plain(|ev, out| string(ev, &["client", "userAgent", "os"], out)),
    ),
    (
        field("okta.useragent.browser", S, NO_ARG, PLAIN, "Useragent Browser"),
        Bind::Plain(|ev, out| string(ev, &["client", "userAgent", "browser"], out)),
    ),
    (
        field("okta.useragent.raw", S, NO_ARG, PLAIN, "Raw Useragent"),
        Bind::Plain(|ev, out| string(ev, &["client", "userAgent", "rawUserAgent"], out)),
    ),
    (
        field("okta.result", S, NO_ARG, PLAIN, "Outcome Result"),
        Bind::Plain(|ev, out| string(ev, &["outcome", "result"], out)),
    ),
    (
        field("okta.reason", S, NO_ARG, PLAIN, "Outcome Reason"),
        Bind::Plain(|ev, out| string(ev, &["outcome", "reason"], out)),
    ),
    (
        field("okta.transaction.id", S, NO_ARG, PLAIN, "Transaction ID"),
        Bind::Plain(|ev, out| string(ev, &["transaction", "id"], out)),
    ),
    (
        field("okta.transaction.type", S, NO_ARG, PLAIN, "Transaction Type"),
        Bind::Plain(|ev, out| string(ev, &["transaction", "type"], out)),
    ),
    (
        field("okta.requesturi", S, NO_ARG, PLAIN, "Request URI"),
        Bind::Plain(|ev, out| string(ev, &[DEBUG[0], DEBUG[1], "requestUri"], out)),
    ),
    (
        field("okta.principal.id", S, NO_ARG, PLAIN, "Principal ID"),
        Bind::Plain(|ev, out| string(ev, &[DEBUG[0], DEBUG[1], "originalPrincipal", "id"], out)),
    ),
    (
        field("okta.principal.alternateid", S, NO_ARG, PLAIN, "Principal Alternate ID"),
        Bind::Plain(|ev, out| string(ev, &[DEBUG[0], DEBUG[1], "originalPrincipal", "alternateId"], out)),
    ),
    (
        field("okta.principal.type", S, NO_ARG, PLAIN, "Principal Type"),
        Bind::Plain(|ev, out| string(ev, &[DEBUG[0], DEBUG[1], "originalPrincipal", "type"], out)),
    ),
    (
        field("okta.principal.name", S, NO_ARG, PLAIN, "Principal Name"),
        Bind::Plain(|ev, out| string(ev, &[DEBUG[0], DEBUG[1], "originalPrincipal", "displayName"], out)),
    ),
    (
        field("okta.authentication.step", S, NO_ARG, PLAIN, "Authentication Step"),
        Bind::Plain(|ev, out| int_text(ev, &["authenticationContext", "authenticationStep"], out)),
    ),
    (
        field("okta.authentication.sessionid", S, NO_ARG, PLAIN, "External Session ID"),
        Bind::Plain(|ev, out| string(ev, &["authenticationContext", "externalSessionId"], out)),
    ),
    (
        field(
            "okta.authentication.provider",
            S,
            NO_ARG,
            PLAIN,
            "Authentication Provider",
        ),
        Bind::Plain(|ev, out| string(ev, &["authenticationContext", "authenticationProvider"], out)),
    ),
    (
        field(
            "okta.authentication.credentialprovider",
            S,
            NO_ARG,
            PLAIN,
            "Credential Provider",
        ),
        Bind::Plain(|ev, out| string(ev, &["authenticationContext", "credentialProvider"], out)),
    ),
    (
        field("okta.security.asnumber", U64, NO_ARG, PLAIN, "Security AS Number"),
        Bind::Plain(|ev, out| {
            out.push_u64(
                get(ev.value, &["securityContext", "asNumber"])
                    .and_then(JsonRef::as_u64)
                    .unwrap_or(0),
            )
        }),
    ),
    (
        field("okta.security.asorg", S, NO_ARG, PLAIN, "Security AS Org"),
        Bind::Plain(|ev, out| string(ev, &["securityContext", "asOrg"], out)),
    ),
    (
        field("okta.security.isp", S, NO_ARG, PLAIN, "Security ISP"),
        Bind::Plain(|ev, out| string(ev, &["securityContext", "isp"], out)),
    ),
    (
        field("okta.security.domain", S, NO_ARG, PLAIN, "Security Domain"),
        Bind::Plain(|ev, out| string(ev, &["securityContext", "domain"], out)),
    ),
    (
        field("okta.security.isproxy", S, NO_ARG, PLAIN, "Is Proxy"),
        Bind::Plain(|ev, out| {
            let v = get(ev.value, &["securityContext", "isProxy"]);
            match (v.and_then(JsonRef::as_bool), v.and_then(JsonRef::as_str)) {
                (Some(true), _) => out.push_bytes(b"true"),
                (_, Some(s)) => out.push_bytes(s.as_bytes()),
                _ => out.push_bytes(b"false"),
            }
        }),
    ),
    (
        field("okta.target.user.id", S, NO_ARG, PLAIN, "Target User ID"),
        Bind::Plain(|ev, out| last_target(ev, "User", "id", out)),
    ),
    (
        field(
            "okta.target.user.alternateid",
            S,
            NO_ARG,
            PLAIN,
            "Target User Alternate ID",
        ),
        Bind::Plain(|ev, out| last_target(ev, "User", "alternateId", out)),
    ),
    (
        field("okta.target.user.name", S, NO_ARG, PLAIN, "Target User Name"),
        Bind::Plain(|ev, out| last_target(ev, "User", "displayName", out)),
    ),
    (
        field("okta.target.group.id", S, NO_ARG, PLAIN, "Target Group ID"),
        Bind::Plain(|ev, out| last_target(ev, "UserGroup", "id", out)),
    ),
    (
        field(
            "okta.target.group.alternateid",
            S,
            NO_ARG,
            PLAIN,
            "Target Group Alternate ID",
        ),
        Bind::Plain(|ev, out| last_target(ev, "UserGroup", "alternateId", out)),
    ),
    (
        field("okta.target.group.name", S, NO_ARG, PLAIN, "Target Group Name"),
        Bind::Plain(|ev, out| last_target(ev, "UserGroup", "displayName", out)),
    ),
    (
        field(
            "okta.target.app.alternateid",
            S,
            NO_ARG,
            PLAIN,
            "Target App Alternate ID",
        ),
        Bind::Plain(|ev, out| last_target(ev, "AppInstance", "alternateId", out)),
    ),
    (
        field("okta.targets.displayName", S, OPT_INDEX, PLAIN, "Targets Display Names"),
        Bind::Index(targets_display_names),
    ),
    (
        field(
            "okta.mfa.failure.countlast",
            U64,
            REQ_INDEX,
            PLAIN,
            "Count of MFA failures in last seconds",
        ),
        Bind::Index(mfa_count_last),
    ),
    (
        field(
            "okta.mfa.deny.countlast",
            U64,
            REQ_INDEX,
            PLAIN,
            "Count of MFA denies in last seconds",
        ),
        Bind::Index(mfa_count_last),
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn go(f: f64) -> String {
        let mut v = Values::new();
        push_go_float(f, &mut v);
        match v.get(0) {
            Some(crate::value::Value::Bytes(b)) => String::from_utf8_lossy(b).into_owned(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn floats_print_as_go_percent_v() {
        assert_eq!(go(0.0), "0");
        assert_eq!(go(37.7749), "37.7749");
        assert_eq!(go(-122.4194), "-122.4194");
        assert_eq!(go(40.0), "40");
        assert_eq!(go(0.00001), "1e-05");
        assert_eq!(go(1e21), "1e+21");
    }

    #[test]
    fn field_count_matches_plugin() {
        assert_eq!(FIELDS.len(), 54);
    }
}
