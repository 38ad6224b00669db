//! `aws_cloudtrail` fields (Falco's cloudtrail plugin): `ct.*`, `s3.*`, `ec2.*`, `ecr.*`, `iam.*`.
//!
//! Plain string fields read with fastjson `GetStringBytes` in the plugin: present only when the value is a JSON
//! string. `ct.request`, `ct.response`, `ct.additionaleventdata` are JSON text.
//!
//! Where mamoru follows the plugin's intent rather than its code (documented divergences):
//! - `ct.request.documentname` reads `/requestParameters/documentName` (the plugin never extracts it);
//! - `ct.serviceeventdetails`/`ct.edgedevicedetails` render objects as JSON text (the plugin gives `""`);
//! - `ct.info` for `PutBucketPublicAccessBlock` reads the flags from the request's configuration object (the
//!   plugin reads them from the record root, so they always print `false`).

use super::path::{array_at, extend_text, get, push_text, str_at};
use super::LIST;
use super::{field, Bind, JsonEvent, DEPRECATED, HIDDEN, NO_ARG, OPT_INDEX, PLAIN, S, U64};
use crate::catalog::FieldInfo;
use crate::value::Values;
use mamoru_records::JsonRef;

/// Pushes the string at `path` (nothing for a missing or non-string value).
fn string(ev: &JsonEvent<'_>, path: &[&str], out: &mut Values) {
    if let Some(s) = str_at(ev.value, path) {
        out.push_bytes(s.as_bytes());
    }
}

/// Pushes the value at `path` as text (JSON text for non-strings).
fn text(ev: &JsonEvent<'_>, path: &[&str], out: &mut Values) {
    if let Some(v) = get(ev.value, path) {
        push_text(v, out);
    }
}

/// "true"/"false" for a boolean (or "true"/"false" string) member; nothing when absent.
fn flag(ev: &JsonEvent<'_>, key: &str, out: &mut Values) {
    if let Some(v) = ev.value.get(key) {
        let set = v.as_bool() == Some(true) || v.as_str() == Some("true");
        out.push_bytes(if set { b"true" } else { b"false" });
    }
}

/// `ct.user`: who acted, by identity type.
fn user(v: JsonRef<'_>) -> Option<&str> {
    let identity = v.get("userIdentity")?;
    let s = |k: &str| identity.get(k).and_then(JsonRef::as_str);
    match identity.get("type")?.as_str()? {
        "Root" | "IAMUser" => s("userName"),
        "AWSService" => s("invokedBy"),
        "AssumedRole" => {
            Some(str_at(identity, &["sessionContext", "sessionIssuer", "userName"]).unwrap_or("AssumedRole"))
        }
        "AWSAccount" => Some("AWSAccount"),
        "FederatedUser" => Some("FederatedUser"),
        _ => None,
    }
}

/// `ct.originaluser`: the session name for assumed roles, else the user name.
fn original_user(v: JsonRef<'_>) -> Option<&str> {
    let identity = v.get("userIdentity")?;
    if identity.get("type").and_then(JsonRef::as_str) == Some("AssumedRole") {
        if let Some(arn) = identity.get("arn").and_then(JsonRef::as_str) {
            let parts: [Option<&str>; 4] = {
                let mut it = arn.split('/');
                [it.next(), it.next(), it.next(), it.next()]
            };
            if let [Some(_), Some(_), Some(session), None] = parts {
                return Some(session);
            }
        }
        return identity
            .get("principalId")
            .and_then(JsonRef::as_str)
            .and_then(|p| p.split_once(':'))
            .map(|(_, session)| session);
    }
    identity.get("userName").and_then(JsonRef::as_str)
}

fn short_source(src: &str) -> &str {
    match src.strip_suffix(".amazonaws.com") {
        Some(short) if !short.is_empty() => short,
        _ => src,
    }
}

/// A number as the plugin reads byte counts: an unsigned integer, or a float truncated.
fn as_u64(v: JsonRef<'_>) -> u64 {
    v.as_u64().or_else(|| v.as_f64().map(|f| f as u64)).unwrap_or(0)
}

fn bytes_in(v: JsonRef<'_>) -> Option<u64> {
    get(v, &["additionalEventData", "bytesTransferredIn"]).map(as_u64)
}

fn bytes_out(v: JsonRef<'_>) -> Option<u64> {
    get(v, &["additionalEventData", "bytesTransferredOut"]).map(as_u64)
}

fn s3_bytes(v: JsonRef<'_>) -> Option<u64> {
    match (bytes_in(v), bytes_out(v)) {
        (None, None) => None,
        (i, o) => Some(i.unwrap_or(0).saturating_add(o.unwrap_or(0))),
    }
}

fn event_name(v: JsonRef<'_>) -> Option<&str> {
    v.get("eventName").and_then(JsonRef::as_str)
}

/// `ec2.imageids`: the image ids in the response's instance set, else the one the request names.
fn push_image_ids(ev: &JsonEvent<'_>, idx: Option<usize>, out: &mut Values) {
    let v = ev.value;
    if let Some(items) = array_at(v, &["responseElements", "instancesSet", "items"]) {
        let mut ids = items
            .iter()
            .filter_map(|i| i.get("imageId").and_then(JsonRef::as_str))
            .peekable();
        if ids.peek().is_some() {
            match idx {
                Some(i) => ids.nth(i).into_iter().for_each(|id| out.push_bytes(id.as_bytes())),
                None => ids.for_each(|id| out.push_bytes(id.as_bytes())),
            }
            return;
        }
    }
    let request_forms: [&[&str]; 3] = [
        &["requestParameters", "imageId"],
        &[
            "requestParameters",
            "DescribeFastLaunchImagesRequest",
            "ImageId",
            "content",
        ],
        &["requestParameters", "launchSpecification", "imageId"],
    ];
    if idx.unwrap_or(0) == 0 {
        if let Some(id) = request_forms.iter().find_map(|p| str_at(v, p)) {
            out.push_bytes(id.as_bytes());
        }
    }
}

/// `ec2.name`: the `Name` tag of the instance tag specification (the last one wins, as in the plugin).
fn ec2_name(v: JsonRef<'_>) -> Option<&str> {
    let items = array_at(v, &["requestParameters", "tagSpecificationSet", "items"])?;
    let mut name = None;
    for item in items
        .iter()
        .filter(|i| i.get("resourceType").and_then(JsonRef::as_str) == Some("instance"))
    {
        let mut tags = item.get("tags").and_then(JsonRef::as_array).into_iter().flatten();
        if let Some(tag) = tags.find(|t| t.get("key").and_then(JsonRef::as_str) == Some("Name")) {
            name = tag.get("value").and_then(JsonRef::as_str);
        }
    }
    name.filter(|n| !n.is_empty())
}

/// `ct.info`: `<user> via <ip> [!]<←|→> <eventName>` plus event details.
fn push_info(v: JsonRef<'_>, out: &mut Values) {
    let Some(who) = user(v) else {
        out.push_bytes(b"<invalid cloudtrail event: userIdentity field missing>");
        return;
    };
    let Some(ip) = v.get("sourceIPAddress").and_then(JsonRef::as_str) else {
        out.push_bytes(b"<invalid cloudtrail event: eventSource field missing>");
        return;
    };
    let Some(name) = event_name(v) else {
        out.push_bytes(b"<invalid cloudtrail event: eventName field missing>");
        return;
    };
    out.begin_bytes();
    extend_info(v, who, ip, name, out);
}

fn extend_info(v: JsonRef<'_>, who: &str, ip: &str, name: &str, out: &mut Values) {
    let error = if v.get("errorCode").and_then(JsonRef::as_str).is_some() {
        "!"
    } else {
        ""
    };
    let arrow = if v.get("readOnly").is_some_and(|r| r.as_bool() != Some(true)) {
        "→"
    } else {
        "←"
    };
    out.extend_last(who.as_bytes());
    if who != ip {
        out.extend_last(b" via ");
        out.extend_last(ip.as_bytes());
    }
    out.extend_last(b" ");
    out.extend_last(error.as_bytes());
    out.extend_last(arrow.as_bytes());
    out.extend_last(b" ");
    out.extend_last(name.as_bytes());
    if name == "PutBucketPublicAccessBlock" {
        if let Some(cfg) = get(v, &["requestParameters", "PublicAccessBlockConfiguration"]).filter(|c| c.is_object()) {
            for key in [
                "BlockPublicAcls",
                "BlockPublicPolicy",
                "IgnorePublicAcls",
                "RestrictPublicBuckets",
            ] {
                let set = cfg.get(key).and_then(JsonRef::as_bool) == Some(true);
                out.extend_last(b" ");
                out.extend_last(key.as_bytes());
                out.extend_last(if set { b"=true" } else { b"=false" });
            }
            out.extend_last(b" ");
        }
        return;
    }
    if let Some(size) = s3_bytes(v) {
        let mut buf = itoa_buf();
        out.extend_last(b" Size=");
        out.extend_last(format_u64(size, &mut buf));
    }
    let bucket = str_at(v, &["requestParameters", "bucketName"]);
    let key = str_at(v, &["requestParameters", "key"]);
    let detail: [(&[u8], Option<&str>); 3] = [
        (b" Bucket=", bucket),
        (b" Key=", key),
        (b" Host=", str_at(v, &["requestParameters", "Host"])),
    ];
    if let (Some(b), Some(k)) = (bucket, key) {
        out.extend_last(b" URI=s3://");
        out.extend_last(b.as_bytes());
        out.extend_last(b"/");
        out.extend_last(k.as_bytes());
        return;
    }
    if let Some((label, Some(value))) = detail.iter().find(|(_, v)| v.is_some()) {
        out.extend_last(label);
        out.extend_last(value.as_bytes());
    }
}

fn itoa_buf() -> [u8; 20] {
    [0u8; 20]
}

fn format_u64(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[i..];
        }
    }
}

/// `evt.plugininfo`: `<region> <user> <shortsrc> <eventName> <ct.info>`.
pub(super) fn push_plugininfo(ev: &JsonEvent<'_>, out: &mut Values) {
    let v = ev.value;
    let (Some(src), Some(region), Some(name)) = (
        v.get("eventSource").and_then(JsonRef::as_str),
        v.get("awsRegion").and_then(JsonRef::as_str),
        event_name(v),
    ) else {
        return;
    };
    out.begin_bytes();
    out.extend_last(region.as_bytes());
    if let Some(u) = user(v).filter(|u| !u.is_empty()) {
        out.extend_last(b" ");
        out.extend_last(u.as_bytes());
    }
    out.extend_last(b" ");
    out.extend_last(short_source(src).as_bytes());
    out.extend_last(b" ");
    out.extend_last(name.as_bytes());
    out.extend_last(b" ");
    match (user(v), v.get("sourceIPAddress").and_then(JsonRef::as_str)) {
        (Some(who), Some(ip)) => extend_info(v, who, ip, name, out),
        (None, _) => out.extend_last(b"<invalid cloudtrail event: userIdentity field missing>"),
        (_, None) => out.extend_last(b"<invalid cloudtrail event: eventSource field missing>"),
    }
}

/// `ct.resources`: the JSON text of each resource, joined by commas.
fn resources(ev: &JsonEvent<'_>, out: &mut Values) {
    let Some(list) = ev.value.get("resources").and_then(JsonRef::as_array) else {
        return;
    };
    out.begin_bytes();
    for (i, r) in list.iter().enumerate() {
        if i > 0 {
            out.extend_last(b",");
        }
        extend_text(r, out);
    }
}

pub(crate) static FIELDS: &[(FieldInfo, Bind)] = &[
    (
        field(
            "ct.id",
            S,
            NO_ARG,
            PLAIN,
            "The unique ID of the CloudTrail event (eventID).",
        ),
        Bind::Plain(|ev, out| string(ev, &["eventID"], out)),
    ),
    (
        field(
            "ct.error",
            S,
            NO_ARG,
            PLAIN,
            "The error code of the event (no value when the call succeeded).",
        ),
        Bind::Plain(|ev, out| string(ev, &["errorCode"], out)),
    ),
    (
        field(
            "ct.errormessage",
            S,
            NO_ARG,
            PLAIN,
            "The error message of the event (no value when the call succeeded).",
        ),
        Bind::Plain(|ev, out| string(ev, &["errorMessage"], out)),
    ),
    (
        field("ct.time", S, NO_ARG, HIDDEN, "The timestamp of the event (eventTime)."),
        Bind::Plain(|ev, out| string(ev, &["eventTime"], out)),
    ),
    (
        field("ct.src", S, NO_ARG, PLAIN, "The source of the event (eventSource)."),
        Bind::Plain(|ev, out| string(ev, &["eventSource"], out)),
    ),
    (
        field(
            "ct.shortsrc",
            S,
            NO_ARG,
            PLAIN,
            "The source of the event without the '.amazonaws.com' trailer.",
        ),
        Bind::Plain(|ev, out| {
            if let Some(src) = str_at(ev.value, &["eventSource"]) {
                out.push_bytes(short_source(src).as_bytes())
            }
        }),
    ),
    (
        field("ct.name", S, NO_ARG, PLAIN, "The name of the event (eventName)."),
        Bind::Plain(|ev, out| string(ev, &["eventName"], out)),
    ),
    (
        field(
            "ct.user",
            S,
            NO_ARG,
            PLAIN,
            "The user of the event: the user name, the invoking service, or for assumed roles the role name.",
        ),
        Bind::Plain(|ev, out| {
            if let Some(u) = user(ev.value) {
                out.push_bytes(u.as_bytes())
            }
        }),
    ),
    (
        field(
            "ct.originaluser",
            S,
            NO_ARG,
            PLAIN,
            "The user name as CloudTrail records it; for assumed roles, the session name.",
        ),
        Bind::Plain(|ev, out| {
            if let Some(u) = original_user(ev.value) {
                out.push_bytes(u.as_bytes())
            }
        }),
    ),
    (
        field(
            "ct.user.accountid",
            S,
            NO_ARG,
            PLAIN,
            "The account id of the user (else the recipient account id).",
        ),
        Bind::Plain(|ev, out| {
            let id =
                str_at(ev.value, &["userIdentity", "accountId"]).or_else(|| str_at(ev.value, &["recipientAccountId"]));
            if let Some(id) = id {
                out.push_bytes(id.as_bytes())
            }
        }),
    ),
    (
        field(
            "ct.user.identitytype",
            S,
            NO_ARG,
            PLAIN,
            "The kind of user identity (Root, IAMUser, AWSService, ...).",
        ),
        Bind::Plain(|ev, out| string(ev, &["userIdentity", "type"], out)),
    ),
    (
        field(
            "ct.user.principalid",
            S,
            NO_ARG,
            PLAIN,
            "A unique identifier of the user that made the request.",
        ),
        Bind::Plain(|ev, out| string(ev, &["userIdentity", "principalId"], out)),
    ),
    (
        field(
            "ct.user.arn",
            S,
            NO_ARG,
            PLAIN,
            "The ARN of the user that made the request.",
        ),
        Bind::Plain(|ev, out| string(ev, &["userIdentity", "arn"], out)),
    ),
    (
        field("ct.region", S, NO_ARG, PLAIN, "The region of the event (awsRegion)."),
        Bind::Plain(|ev, out| string(ev, &["awsRegion"], out)),
    ),
    (
        field(
            "ct.response.subnetid",
            S,
            NO_ARG,
            PLAIN,
            "The subnet ID in the response.",
        ),
        Bind::Plain(|ev, out| string(ev, &["responseElements", "subnetId"], out)),
    ),
    (
        field(
            "ct.response.reservationid",
            S,
            NO_ARG,
            PLAIN,
            "The reservation ID in the response.",
        ),
        Bind::Plain(|ev, out| string(ev, &["responseElements", "reservationId"], out)),
    ),
    (
        field("ct.response", S, NO_ARG, PLAIN, "All response elements, as JSON text."),
        Bind::Plain(|ev, out| text(ev, &["responseElements"], out)),
    ),
    (
        field(
            "ct.request.availabilityzone",
            S,
            NO_ARG,
            PLAIN,
            "The availability zone in the request.",
        ),
        Bind::Plain(|ev, out| string(ev, &["requestParameters", "availabilityZone"], out)),
    ),
    (
        field("ct.request.cluster", S, NO_ARG, PLAIN, "The cluster in the request."),
        Bind::Plain(|ev, out| string(ev, &["requestParameters", "cluster"], out)),
    ),
    (
        field(
            "ct.request.functionname",
            S,
            NO_ARG,
            PLAIN,
            "The function name in the request.",
        ),
        Bind::Plain(|ev, out| string(ev, &["requestParameters", "functionName"], out)),
    ),
    (
        field(
            "ct.request.groupname",
            S,
            NO_ARG,
            PLAIN,
            "The group name in the request.",
        ),
        Bind::Plain(|ev, out| string(ev, &["requestParameters", "groupName"], out)),
    ),
    (
        field("ct.request.host", S, NO_ARG, PLAIN, "The host in the request."),
        Bind::Plain(|ev, out| string(ev, &["requestParameters", "Host"], out)),
    ),
    (
        field(
            "ct.request.name",
            S,
            NO_ARG,
            PLAIN,
            "The name of the entity acted on in the request.",
        ),
        Bind::Plain(|ev, out| string(ev, &["requestParameters", "name"], out)),
    ),
    (
        field("ct.request.policy", S, NO_ARG, PLAIN, "The policy in the request."),
        Bind::Plain(|ev, out| string(ev, &["requestParameters", "policy"], out)),
    ),
    (
        field("ct.request.reason", S, NO_ARG, PLAIN, "The reason in the request."),
        Bind::Plain(|ev, out| string(ev, &["requestParameters", "reason"], out)),
    ),
    (
        field("ct.request.target", S, NO_ARG, PLAIN, "The target in the request."),
        Bind::Plain(|ev, out| string(ev, &["requestParameters", "target"], out)),
    ),
    (
        field(
            "ct.request.documentname",
            S,
            NO_ARG,
            PLAIN,
            "The document name in the request.",
        ),
        Bind::Plain(|ev, out| string(ev, &["requestParameters", "documentName"], out)),
    ),
    (
        field(
            "ct.request.serialnumber",
            S,
            NO_ARG,
            PLAIN,
            "The serial number in the request.",
        ),
        Bind::Plain(|ev, out| string(ev, &["requestParameters", "serialNumber"], out)),
    ),
    (
        field(
            "ct.request.servicename",
            S,
            NO_ARG,
            PLAIN,
            "The service name in the request.",
        ),
        Bind::Plain(|ev, out| string(ev, &["requestParameters", "serviceName"], out)),
    ),
    (
        field("ct.request.subnetid", S, NO_ARG, PLAIN, "The subnet ID in the request."),
        Bind::Plain(|ev, out| string(ev, &["requestParameters", "subnetId"], out)),
    ),
    (
        field(
            "ct.request.taskdefinition",
            S,
            NO_ARG,
            PLAIN,
            "The task definition in the request.",
        ),
        Bind::Plain(|ev, out| string(ev, &["requestParameters", "taskDefinition"], out)),
    ),
    (
        field("ct.request.username", S, NO_ARG, PLAIN, "The user name in the request."),
        Bind::Plain(|ev, out| string(ev, &["requestParameters", "userName"], out)),
    ),
    (
        field("ct.request", S, NO_ARG, PLAIN, "All request parameters, as JSON text."),
        Bind::Plain(|ev, out| text(ev, &["requestParameters"], out)),
    ),
    (
        field(
            "ct.srcip",
            S,
            NO_ARG,
            PLAIN,
            "The IP address the request came from (sourceIPAddress).",
        ),
        Bind::Plain(|ev, out| string(ev, &["sourceIPAddress"], out)),
    ),
    (
        field(
            "ct.useragent",
            S,
            NO_ARG,
            PLAIN,
            "The user agent of the request (userAgent).",
        ),
        Bind::Plain(|ev, out| string(ev, &["userAgent"], out)),
    ),
    (
        field(
            "ct.info",
            S,
            NO_ARG,
            PLAIN,
            "A one-line summary of the event: who, from where, what, and details.",
        ),
        Bind::Plain(|ev, out| push_info(ev.value, out)),
    ),
    (
        field(
            "ct.managementevent",
            S,
            NO_ARG,
            PLAIN,
            "'true' if the event is a management event, 'false' otherwise.",
        ),
        Bind::Plain(|ev, out| {
            let set = ev.value.get("managementEvent").and_then(JsonRef::as_bool) == Some(true);
            out.push_bytes(if set { b"true" } else { b"false" })
        }),
    ),
    (
        field(
            "ct.readonly",
            S,
            NO_ARG,
            PLAIN,
            "'true' if the event only reads information, 'false' if it modifies state.",
        ),
        Bind::Plain(|ev, out| flag(ev, "readOnly", out)),
    ),
    (
        field("ct.requestid", S, NO_ARG, PLAIN, "The ID of the request (requestID)."),
        Bind::Plain(|ev, out| string(ev, &["requestID"], out)),
    ),
    (
        field(
            "ct.eventtype",
            S,
            NO_ARG,
            PLAIN,
            "The type of event that generated the record (eventType).",
        ),
        Bind::Plain(|ev, out| string(ev, &["eventType"], out)),
    ),
    (
        field(
            "ct.apiversion",
            S,
            NO_ARG,
            PLAIN,
            "The API version of an AwsApiCall event.",
        ),
        Bind::Plain(|ev, out| string(ev, &["apiVersion"], out)),
    ),
    (
        field(
            "ct.resources",
            S,
            NO_ARG,
            PLAIN,
            "The resources accessed, as JSON texts joined by commas.",
        ),
        Bind::Plain(resources),
    ),
    (
        field(
            "ct.recipientaccountid",
            S,
            NO_ARG,
            PLAIN,
            "The account ID that received the event.",
        ),
        Bind::Plain(|ev, out| string(ev, &["recipientAccountId"], out)),
    ),
    (
        field(
            "ct.serviceeventdetails",
            S,
            NO_ARG,
            PLAIN,
            "The service event details (JSON text for objects).",
        ),
        Bind::Plain(|ev, out| text(ev, &["serviceEventDetails"], out)),
    ),
    (
        field(
            "ct.sharedeventid",
            S,
            NO_ARG,
            PLAIN,
            "The GUID CloudTrail shares between copies of one event.",
        ),
        Bind::Plain(|ev, out| string(ev, &["sharedEventID"], out)),
    ),
    (
        field(
            "ct.vpcendpointid",
            S,
            NO_ARG,
            PLAIN,
            "The VPC endpoint the request was made through.",
        ),
        Bind::Plain(|ev, out| string(ev, &["vpcEndpointId"], out)),
    ),
    (
        field(
            "ct.eventcategory",
            S,
            NO_ARG,
            PLAIN,
            "The event category (eventCategory).",
        ),
        Bind::Plain(|ev, out| string(ev, &["eventCategory"], out)),
    ),
    (
        field(
            "ct.addendum.reason",
            S,
            NO_ARG,
            PLAIN,
            "Why the event or some of its contents were missing.",
        ),
        Bind::Plain(|ev, out| string(ev, &["addendum", "reason"], out)),
    ),
    (
        field(
            "ct.addendum.updatedfields",
            S,
            NO_ARG,
            PLAIN,
            "The record fields the addendum updates.",
        ),
        Bind::Plain(|ev, out| string(ev, &["addendum", "updatedFields"], out)),
    ),
    (
        field(
            "ct.addendum.originalrequestid",
            S,
            NO_ARG,
            PLAIN,
            "The original request ID of an addendum.",
        ),
        Bind::Plain(|ev, out| string(ev, &["addendum", "originalRequestID"], out)),
    ),
    (
        field(
            "ct.addendum.originaleventid",
            S,
            NO_ARG,
            PLAIN,
            "The original event ID of an addendum.",
        ),
        Bind::Plain(|ev, out| string(ev, &["addendum", "originalEventID"], out)),
    ),
    (
        field(
            "ct.sessioncredentialfromconsole",
            S,
            NO_ARG,
            PLAIN,
            "'true' if the event came from an AWS Management Console session.",
        ),
        Bind::Plain(|ev, out| flag(ev, "sessionCredentialFromConsole", out)),
    ),
    (
        field(
            "ct.edgedevicedetails",
            S,
            NO_ARG,
            PLAIN,
            "The edge devices targeted by the request (JSON text).",
        ),
        Bind::Plain(|ev, out| text(ev, &["edgeDeviceDetails"], out)),
    ),
    (
        field(
            "ct.tlsdetails.tlsversion",
            S,
            NO_ARG,
            PLAIN,
            "The TLS version of the request.",
        ),
        Bind::Plain(|ev, out| string(ev, &["tlsDetails", "tlsVersion"], out)),
    ),
    (
        field(
            "ct.tlsdetails.ciphersuite",
            S,
            NO_ARG,
            PLAIN,
            "The TLS cipher suite of the request.",
        ),
        Bind::Plain(|ev, out| string(ev, &["tlsDetails", "cipherSuite"], out)),
    ),
    (
        field(
            "ct.tlsdetails.clientprovidedhostheader",
            S,
            NO_ARG,
            PLAIN,
            "The host name the client used in the API call.",
        ),
        Bind::Plain(|ev, out| string(ev, &["tlsDetails", "clientProvidedHostHeader"], out)),
    ),
    (
        field(
            "ct.additionaleventdata",
            S,
            NO_ARG,
            PLAIN,
            "All additional event data, as JSON text.",
        ),
        Bind::Plain(|ev, out| text(ev, &["additionalEventData"], out)),
    ),
    (
        field("s3.uri", S, NO_ARG, PLAIN, "The S3 URI (s3://<bucket>/<key>)."),
        Bind::Plain(|ev, out| {
            let bucket = str_at(ev.value, &["requestParameters", "bucketName"]);
            let key = str_at(ev.value, &["requestParameters", "key"]);
            if let (Some(b), Some(k)) = (bucket, key) {
                out.push_fmt(format_args!("s3://{b}/{k}"))
            }
        }),
    ),
    (
        field("s3.bucket", S, NO_ARG, PLAIN, "The bucket name of an S3 event."),
        Bind::Plain(|ev, out| string(ev, &["requestParameters", "bucketName"], out)),
    ),
    (
        field("s3.key", S, NO_ARG, PLAIN, "The S3 key name."),
        Bind::Plain(|ev, out| string(ev, &["requestParameters", "key"], out)),
    ),
    (
        field(
            "s3.bytes",
            U64,
            NO_ARG,
            PLAIN,
            "The size of an S3 download or upload, in bytes.",
        ),
        Bind::Plain(|ev, out| {
            if let Some(n) = s3_bytes(ev.value) {
                out.push_u64(n)
            }
        }),
    ),
    (
        field(
            "s3.bytes.in",
            U64,
            NO_ARG,
            HIDDEN,
            "The size of an S3 upload, in bytes.",
        ),
        Bind::Plain(|ev, out| {
            if let Some(n) = bytes_in(ev.value) {
                out.push_u64(n)
            }
        }),
    ),
    (
        field(
            "s3.bytes.out",
            U64,
            NO_ARG,
            HIDDEN,
            "The size of an S3 download, in bytes.",
        ),
        Bind::Plain(|ev, out| {
            if let Some(n) = bytes_out(ev.value) {
                out.push_u64(n)
            }
        }),
    ),
    (
        field(
            "s3.cnt.get",
            U64,
            NO_ARG,
            HIDDEN,
            "1 for GetObject events (no value otherwise).",
        ),
        Bind::Plain(|ev, out| {
            if event_name(ev.value) == Some("GetObject") {
                out.push_u64(1)
            }
        }),
    ),
    (
        field(
            "s3.cnt.put",
            U64,
            NO_ARG,
            HIDDEN,
            "1 for PutObject events (no value otherwise).",
        ),
        Bind::Plain(|ev, out| {
            if event_name(ev.value) == Some("PutObject") {
                out.push_u64(1)
            }
        }),
    ),
    (
        field(
            "s3.cnt.other",
            U64,
            NO_ARG,
            HIDDEN,
            "1 for events other than GetObject and PutObject (no value for those).",
        ),
        Bind::Plain(|ev, out| {
            if !matches!(event_name(ev.value), Some("GetObject" | "PutObject")) {
                out.push_u64(1)
            }
        }),
    ),
    (
        field(
            "ec2.name",
            S,
            NO_ARG,
            PLAIN,
            "The name of the EC2 instances (their Name tag).",
        ),
        Bind::Plain(|ev, out| {
            if let Some(n) = ec2_name(ev.value) {
                out.push_bytes(n.as_bytes())
            }
        }),
    ),
    (
        field(
            "ec2.imageid",
            S,
            NO_ARG,
            DEPRECATED,
            "Deprecated: the first image ID; use ec2.imageids[0].",
        ),
        Bind::Plain(|ev, out| push_image_ids(ev, Some(0), out)),
    ),
    (
        field(
            "ec2.imageids",
            S,
            OPT_INDEX,
            LIST,
            "The image IDs of the EC2 instances involved.",
        ),
        Bind::Index(push_image_ids),
    ),
    (
        field(
            "ecr.repository",
            S,
            NO_ARG,
            PLAIN,
            "The ECR repository named in the request.",
        ),
        Bind::Plain(|ev, out| string(ev, &["requestParameters", "repositoryName"], out)),
    ),
    (
        field("ecr.imagetag", S, NO_ARG, PLAIN, "The image tag named in the request."),
        Bind::Plain(|ev, out| string(ev, &["requestParameters", "imageTag"], out)),
    ),
    (
        field("iam.role", S, NO_ARG, PLAIN, "The IAM role named in the request."),
        Bind::Plain(|ev, out| string(ev, &["requestParameters", "roleName"], out)),
    ),
    (
        field("iam.policy", S, NO_ARG, PLAIN, "The IAM policy named in the request."),
        Bind::Plain(|ev, out| string(ev, &["requestParameters", "policyName"], out)),
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_count_matches_plugin() {
        assert_eq!(FIELDS.len(), 73);
    }

    fn doc(v: serde_json::Value) -> mamoru_records::JsonDoc {
        mamoru_records::JsonDoc::parse(v.to_string().into_bytes()).expect("valid JSON")
    }

    #[test]
    fn assumed_role_users() {
        let d = doc(serde_json::json!({"userIdentity": {
            "type": "AssumedRole",
            "principalId": "AROAEXAMPLE:alice-session",
            "arn": "arn:aws:sts::111122223333:assumed-role/Deployer/alice-session",
            "sessionContext": {"sessionIssuer": {"userName": "Deployer"}}}}));
        let v = d.root().unwrap();
        assert_eq!(user(v), Some("Deployer"));
        assert_eq!(original_user(v), Some("alice-session"));
        let d = doc(serde_json::json!({"userIdentity": {"type": "AssumedRole", "principalId": "AROAX:bob"}}));
        let v = d.root().unwrap();
        assert_eq!(user(v), Some("AssumedRole"));
        assert_eq!(original_user(v), Some("bob"));
        let d = doc(serde_json::json!({"userIdentity": {"type": "SAMLUser", "userName": "x"}}));
        assert_eq!(user(d.root().unwrap()), None);
    }
}
