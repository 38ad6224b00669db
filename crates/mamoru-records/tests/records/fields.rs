//! End to end from files to field values: every field of every JSON catalogue, on records framed from the fixtures.

use mamoru_fields::json::{catalog_for, JsonContext, JsonEvent, JSON_SOURCES};
use mamoru_fields::{BindError, Catalog, Value as FieldValue, Values};
use mamoru_records::{Limits, Record, RecordReader, RecordSource};
use std::collections::BTreeSet;
use std::path::PathBuf;

fn load(files: &[&str], source: RecordSource) -> Vec<Record> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    files
        .iter()
        .flat_map(|f| RecordReader::open(dir.join(f), source, Limits::default()).expect("fixture"))
        .filter_map(Result::ok)
        .collect()
}

/// A record built in the test (for fields the fixtures do not exercise).
fn inline(json: &str, ts_ns: u64) -> Record {
    let origin = mamoru_records::Origin {
        file: "inline".into(),
        line: 1,
        offset: 0,
    };
    // Framed as a GitHub record (no timestamp member needed), then given the test's time.
    let mut r = Record::from_json_bytes(json.as_bytes().to_vec(), RecordSource::Github, origin)
        .expect("inline record")
        .expect("not dropped");
    r.ts_ns = ts_ns;
    r
}

fn split_field(expr: &str) -> (&str, Option<&str>) {
    match expr.split_once('[') {
        Some((name, rest)) => (name, Some(rest.strip_suffix(']').expect("closing bracket"))),
        None => (expr, None),
    }
}

fn render(v: FieldValue<'_>) -> String {
    match v {
        FieldValue::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        FieldValue::U64(n) => n.to_string(),
        FieldValue::I64(n) => n.to_string(),
        FieldValue::Bool(b) => b.to_string(),
        other => format!("{other:?}"),
    }
}

fn extract(catalog: &dyn Catalog<mamoru_fields::json::JsonSource>, ev: &JsonEvent<'_>, expr: &str) -> Vec<String> {
    let (name, arg) = split_field(expr);
    let bound = catalog.bind(name, arg).unwrap_or_else(|e| panic!("{expr}: {e}"));
    let mut out = Values::new();
    bound.extractor.extract(ev, &mut out);
    (0..out.len()).filter_map(|i| out.get(i)).map(render).collect()
}

type Case = (&'static str, usize, &'static [&'static str]);

/// Checks `cases` on `records` (events numbered from 1, fed to one context in order) and that every plugin field
/// of the catalogue appears in `cases`.
fn check(source: &str, records: &[Record], ctx: &mut JsonContext, cases: &[Case]) {
    let catalog = catalog_for(source).expect("catalogue");
    let mut failures = Vec::new();
    // Extract in stream order so that stateful fields see the history up to their event.
    for (i, r) in records.iter().enumerate() {
        ctx.observe(source, r.json(), r.ts_ns);
        let ev = JsonEvent::new(r.json(), r.ts_ns)
            .with_num(i as u64 + 1)
            .with_context(ctx);
        for (expr, _, want) in cases.iter().filter(|(_, idx, _)| *idx == i) {
            let got = extract(catalog, &ev, expr);
            if got != *want {
                failures.push(format!("{source} record {i} {expr}: got {got:?}, want {want:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let tested: BTreeSet<&str> = cases.iter().map(|(e, _, _)| split_field(e).0).collect();
    let untested: Vec<&str> = catalog
        .fields()
        .iter()
        .map(|f| f.name)
        .filter(|n| !n.starts_with("evt.") && !n.starts_with("json.") && !n.starts_with("jevt."))
        .filter(|n| !tested.contains(n))
        .collect();
    assert!(untested.is_empty(), "{source}: fields without a test: {untested:?}");
}

const POD: usize = 0;
const EXEC: usize = 1;
const CM: usize = 2;
const CRB: usize = 3;
const ROLE: usize = 4;
const SVC: usize = 5;
const EPH: usize = 6;
const ANON: usize = 7;

const K8S: &[Case] = &[
    ("ka.auditid", POD, &["3f4a2c1e-7b55-4d1a-9f0e-51c1a7d2b901"]),
    ("ka.stage", EXEC, &["ResponseStarted"]),
    ("ka.stage", POD, &["ResponseComplete"]),
    ("ka.auth.decision", ANON, &["forbid"]),
    (
        "ka.auth.reason",
        POD,
        &["RBAC: allowed by ClusterRoleBinding \"ci-deployers\" of ClusterRole \"edit\" to Group \"ci-deployers\""],
    ),
    ("ka.auth.reason", CM, &[""]),
    ("ka.auth.openshift.decision", ANON, &["deny"]),
    ("ka.auth.openshift.decision", POD, &[]),
    ("ka.validations.admission.policy.failure", ANON, &["[{\"message\":\"denied\",\"policy\":\"no-anon\"}]"]),
    (
        "ka.security.pod.violations",
        POD,
        &["would violate PodSecurity \"restricted:latest\": host namespaces (hostNetwork=true, hostPID=true), privileged"],
    ),
    ("ka.auth.openshift.username", ANON, &["anonymous"]),
    ("ka.user.name", POD, &["dev-ci@corp.example"]),
    ("ka.user.groups", POD, &["ci-deployers", "system:authenticated"]),
    ("ka.impuser.name", POD, &["system:serviceaccount:payments:deployer"]),
    ("ka.impuser.name", EXEC, &[]),
    ("ka.verb", ANON, &["list"]),
    ("ka.uri", CM, &["/api/v1/namespaces/payments/configmaps"]),
    ("ka.uri.param[command]", EXEC, &["/bin/sh"]),
    ("ka.uri.param[container]", EXEC, &["api"]),
    ("ka.uri.param[fieldManager]", POD, &["kubectl-client-side-apply"]),
    ("ka.uri.param[missing]", EXEC, &[]),
    ("ka.uri.param[command]", CM, &[]),
    ("ka.target.name", EXEC, &["api-7d9c5b6f4-x2x8k"]),
    ("ka.target.namespace", POD, &["payments"]),
    ("ka.target.namespace", CRB, &[]),
    ("ka.target.resource", CRB, &["clusterrolebindings"]),
    ("ka.target.subresource", EXEC, &["exec"]),
    ("ka.target.subresource", POD, &[]),
    ("ka.target.pod.name", POD, &["debug-node-access"]),
    ("ka.target.pod.name", EXEC, &[]),
    ("ka.target.pod.name", CM, &[]),
    (
        "ka.req.binding.subjects",
        CRB,
        &[
            r#"{"kind":"User","apiGroup":"rbac.authorization.k8s.io","name":"mallory@corp.example"}"#,
            r#"{"kind":"ServiceAccount","name":"backdoor","namespace":"kube-system"}"#,
            r#"{"kind":"Group","apiGroup":"rbac.authorization.k8s.io","name":"contractors"}"#,
        ],
    ),
    ("ka.req.binding.subjects.user_names", CRB, &["mallory@corp.example"]),
    ("ka.req.binding.subjects.serviceaccount_names", CRB, &["backdoor"]),
    ("ka.req.binding.subjects.serviceaccount_ns_names", CRB, &["kube-system:backdoor"]),
    ("ka.req.binding.subjects.group_names", CRB, &["contractors"]),
    ("ka.req.binding.role", CRB, &["cluster-admin"]),
    ("ka.req.binding.subject.has_name[anyone]", CRB, &["true"]),
    ("ka.req.configmap.name", CM, &["billing-export"]),
    (
        "ka.req.configmap.obj",
        CM,
        &[r#"{"aws_access_key_id":"AKIAEXAMPLEKEY000000","aws_secret_access_key":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY","region":"eu-west-1"}"#],
    ),
    ("ka.req.pod.containers.args", POD, &["--path.rootfs=/host"]),
    ("ka.req.pod.containers.args[0]", POD, &[]),
    ("ka.req.pod.containers.command", POD, &["sleep infinity"]),
    ("ka.req.pod.containers.name", POD, &["shell", "sidecar"]),
    ("ka.req.pod.containers.name[1]", POD, &["sidecar"]),
    ("ka.req.pod.containers.name[5]", POD, &[]),
    (
        "ka.req.pod.containers.image",
        POD,
        &[
            "docker.io/library/busybox:1.36",
            "quay.io/prometheus/node-exporter@sha256:4cb2b9019f1757be8482419002cb7afe028fdba35d47958829e4cfeaf6246d80",
        ],
    ),
    ("ka.req.pod.containers.image", CM, &[]),
    ("ka.req.container.image", POD, &["docker.io/library/busybox:1.36"]),
    (
        "ka.req.pod.containers.image.repository",
        POD,
        &["docker.io/library/busybox", "quay.io/prometheus/node-exporter"],
    ),
    ("ka.req.container.image.repository", POD, &["docker.io/library/busybox"]),
    ("ka.req.pod.host_ipc", POD, &["false"]),
    ("ka.req.pod.host_network", POD, &["true"]),
    ("ka.req.container.host_network", POD, &["true"]),
    ("ka.req.pod.host_pid", POD, &["true"]),
    ("ka.req.pod.host_pid", CM, &[]),
    ("ka.req.pod.containers.host_port", POD, &["18080", "9090"]),
    ("ka.req.pod.containers.privileged", POD, &["true"]),
    ("ka.req.pod.containers.privileged", EPH, &[]),
    ("ka.req.container.privileged", POD, &["true"]),
    ("ka.req.container.privileged", EPH, &["false"]),
    ("ka.req.container.privileged", CM, &[]),
    ("ka.req.pod.containers.allow_privilege_escalation", POD, &["true"]),
    ("ka.req.pod.containers.read_only_fs", POD, &["false", "true"]),
    ("ka.req.pod.run_as_user", POD, &["1000"]),
    ("ka.req.pod.containers.run_as_user", POD, &["65534"]),
    ("ka.req.pod.containers.eff_run_as_user", POD, &["1000", "65534"]),
    ("ka.req.pod.containers.eff_run_as_user", EPH, &["0"]),
    ("ka.req.pod.run_as_group", POD, &["3000"]),
    ("ka.req.pod.containers.run_as_group", POD, &["65534"]),
    ("ka.req.pod.containers.eff_run_as_group", POD, &["3000", "65534"]),
    ("ka.req.pod.containers.proc_mount", POD, &["Unmasked"]),
    (
        "ka.req.role.rules",
        ROLE,
        &[
            r#"{"apiGroups":["*"],"resources":["*"],"verbs":["*"]}"#,
            r#"{"apiGroups":[""],"resources":["pods/exec","secrets"],"verbs":["create","get"]}"#,
            r#"{"nonResourceURLs":["/metrics","/healthz"],"verbs":["get"]}"#,
        ],
    ),
    ("ka.req.role.rules.apiGroups", ROLE, &["*", ""]),
    ("ka.req.role.rules.apiGroups[1]", ROLE, &[""]),
    ("ka.req.role.rules.nonResourceURLs", ROLE, &["/metrics", "/healthz"]),
    ("ka.req.role.rules.verbs", ROLE, &["*", "create", "get", "get"]),
    ("ka.req.role.rules.resources", ROLE, &["*", "pods/exec", "secrets"]),
    ("ka.req.pod.fs_group", POD, &["2000"]),
    ("ka.req.pod.supplemental_groups", POD, &["4000", "5000"]),
    ("ka.req.pod.containers.add_capabilities", POD, &["SYS_ADMIN", "NET_ADMIN"]),
    ("ka.req.service.type", SVC, &["NodePort"]),
    (
        "ka.req.service.ports",
        SVC,
        &[r#"{"name":"ssh","port":22,"targetPort":22,"nodePort":30022,"protocol":"TCP"}"#, r#"{"port":8080,"protocol":"TCP"}"#],
    ),
    ("ka.req.service.ports[1]", SVC, &[r#"{"port":8080,"protocol":"TCP"}"#]),
    ("ka.req.pod.volumes.hostpath", POD, &["/", "/var/run/docker.sock"]),
    ("ka.req.volume.hostpath[/var/run/docker.sock]", POD, &["true"]),
    ("ka.req.volume.hostpath[/etc]", POD, &["false"]),
    ("ka.req.volume.hostpath[/var/run/*]", POD, &["true"]),
    ("ka.req.volume.hostpath[/etc]", CM, &[]),
    ("ka.req.pod.volumes.flexvolume_driver", POD, &["example.com/lvm"]),
    ("ka.req.pod.volumes.volume_type", POD, &["hostPath", "hostPath", "emptyDir", "flexVolume"]),
    ("ka.req.pod.volumes.volume_type[2]", POD, &["emptyDir"]),
    ("ka.resp.name", POD, &["debug-node-access"]),
    ("ka.response.code", POD, &["201"]),
    ("ka.response.code", ANON, &["403"]),
    ("ka.response.reason", ANON, &["Forbidden"]),
    ("ka.response.reason", POD, &[]),
    ("ka.useragent", ANON, &["python-requests/2.31.0"]),
    ("ka.sourceips", POD, &["10.20.4.17", "192.168.7.3"]),
    ("ka.sourceips[1]", POD, &["192.168.7.3"]),
    ("ka.cluster.name", POD, &["prod-eu-1"]),
    ("ka.cluster.name", EXEC, &[]),
    ("ka.req.pod.initContainers.name", POD, &["setup"]),
    ("ka.req.pod.initContainers.image", POD, &["registry.corp.example/tools/init:2.1"]),
    ("ka.req.pod.initContainers.image.repository", POD, &["registry.corp.example/tools/init"]),
    ("ka.req.pod.initContainers.command", POD, &["sh -c"]),
    ("ka.req.pod.initContainers.args", POD, &["chmod 777 /host/etc"]),
    ("ka.req.pod.initContainers.privileged", POD, &["true"]),
    ("ka.req.pod.initContainers.allow_privilege_escalation", POD, &[]),
    ("ka.req.pod.initContainers.read_only_fs", POD, &[]),
    ("ka.req.pod.initContainers.run_as_user", POD, &["0"]),
    ("ka.req.pod.initContainers.eff_run_as_user", POD, &["0"]),
    ("ka.req.pod.initContainers.run_as_group", POD, &[]),
    ("ka.req.pod.initContainers.eff_run_as_group", POD, &["3000"]),
    ("ka.req.pod.initContainers.proc_mount", POD, &[]),
    ("ka.req.pod.initContainers.add_capabilities", POD, &[]),
    ("ka.req.pod.initContainers.host_port", POD, &["9000"]),
    ("ka.req.pod.ephemeralContainers.name", EPH, &["debugger-x7k2p"]),
    ("ka.req.pod.ephemeralContainers.image", EPH, &["docker.io/nicolaka/netshoot:v0.12"]),
    ("ka.req.pod.ephemeralContainers.image.repository", EPH, &["docker.io/nicolaka/netshoot"]),
    ("ka.req.pod.ephemeralContainers.command", EPH, &["bash"]),
    ("ka.req.pod.ephemeralContainers.args", EPH, &[]),
    ("ka.req.pod.ephemeralContainers.privileged", EPH, &["true"]),
    ("ka.req.pod.ephemeralContainers.allow_privilege_escalation", EPH, &[]),
    ("ka.req.pod.ephemeralContainers.read_only_fs", EPH, &[]),
    ("ka.req.pod.ephemeralContainers.run_as_user", EPH, &[]),
    ("ka.req.pod.ephemeralContainers.eff_run_as_user", EPH, &["0"]),
    ("ka.req.pod.ephemeralContainers.run_as_group", EPH, &[]),
    ("ka.req.pod.ephemeralContainers.eff_run_as_group", EPH, &["0"]),
    ("ka.req.pod.ephemeralContainers.proc_mount", EPH, &[]),
    ("ka.req.pod.ephemeralContainers.add_capabilities", EPH, &["SYS_PTRACE"]),
];

fn k8s_records() -> Vec<Record> {
    load(&["k8s_eventlist.json", "k8s_audit.log"], RecordSource::K8sAudit)
}

#[test]
fn k8s_audit_fields() {
    let records = k8s_records();
    assert_eq!(records.len(), 8);
    check("k8s_audit", &records, &mut JsonContext::empty(), K8S);
}

#[test]
fn k8s_fields_have_no_value_without_audit_id() {
    let catalog = catalog_for("k8s_audit").unwrap();
    let r = inline(
        r#"{"kind":"Event","verb":"create","user":{"username":"x"},"annotations":{"cluster_name":"c"}}"#,
        1,
    );
    let ev = JsonEvent::new(r.json(), r.ts_ns);
    for f in catalog.fields().iter().filter(|f| f.name.starts_with("ka.")) {
        let arg = match f.arg {
            mamoru_fields::ArgSpec::Required(_) => Some("x"),
            _ => None,
        };
        let bound = catalog.bind(f.name, arg).unwrap();
        let mut out = Values::new();
        bound.extractor.extract(&ev, &mut out);
        assert!(out.is_empty(), "{} has a value on a non-audit record", f.name);
    }
}

const LOGIN: usize = 0;
const STOP: usize = 1;
const POLICY: usize = 2;
const RUN: usize = 3;
const GET: usize = 4;
const DENIED: usize = 5;
const MISC: usize = 6;
const ECS: usize = 7;

const CT: &[Case] = &[
    ("ct.id", LOGIN, &["d1f1f0a0-1111-4a6e-9c1e-0b1f2c3d4e5f"]),
    ("ct.error", DENIED, &["AccessDenied"]),
    ("ct.error", LOGIN, &[]),
    (
        "ct.errormessage",
        DENIED,
        &["User: arn:aws:iam::111122223333:user/erin is not authorized to perform: iam:AttachRolePolicy"],
    ),
    ("ct.time", LOGIN, &["2024-03-01T08:00:01Z"]),
    ("ct.src", STOP, &["cloudtrail.amazonaws.com"]),
    ("ct.shortsrc", STOP, &["cloudtrail"]),
    ("ct.name", STOP, &["StopLogging"]),
    ("ct.user", LOGIN, &["carol"]),
    ("ct.user", STOP, &["OpsAdmin"]),
    ("ct.user", GET, &["lambda.amazonaws.com"]),
    ("ct.originaluser", STOP, &["mallory-session"]),
    ("ct.originaluser", LOGIN, &["carol"]),
    ("ct.originaluser", GET, &[]),
    ("ct.user.accountid", LOGIN, &["111122223333"]),
    ("ct.user.accountid", GET, &["111122223333"]),
    ("ct.user.identitytype", STOP, &["AssumedRole"]),
    ("ct.user.principalid", STOP, &["AROAEXAMPLEROLEID:mallory-session"]),
    ("ct.user.arn", LOGIN, &["arn:aws:iam::111122223333:user/carol"]),
    ("ct.region", RUN, &["us-west-2"]),
    ("ct.response.subnetid", RUN, &["subnet-0123abcd"]),
    ("ct.response.reservationid", RUN, &["r-0fedcba9876543210"]),
    ("ct.response", LOGIN, &[r#"{"ConsoleLogin":"Success"}"#]),
    ("ct.response", STOP, &["null"]),
    ("ct.request.availabilityzone", RUN, &["us-west-2a"]),
    ("ct.request.cluster", ECS, &["prod-cluster"]),
    ("ct.request.functionname", MISC, &["billing-export"]),
    ("ct.request.groupname", MISC, &["open-sg"]),
    ("ct.request.host", POLICY, &["corp-exports.s3.amazonaws.com"]),
    ("ct.request.name", STOP, &["arn:aws:cloudtrail:eu-west-1:111122223333:trail/org-trail"]),
    ("ct.request.policy", MISC, &["{\"Version\":\"2012-10-17\"}"]),
    ("ct.request.policy", POLICY, &[]),
    ("ct.request.reason", MISC, &["rotation"]),
    ("ct.request.target", MISC, &["i-0aaa1111bbbb2222c"]),
    ("ct.request.documentname", MISC, &["AWS-RunShellScript"]),
    ("ct.request.serialnumber", MISC, &["arn:aws:iam::111122223333:mfa/carol"]),
    ("ct.request.servicename", ECS, &["payments"]),
    ("ct.request.subnetid", RUN, &["subnet-0123abcd"]),
    ("ct.request.taskdefinition", ECS, &["payments:42"]),
    ("ct.request.username", MISC, &["backdoor-user"]),
    ("ct.request", LOGIN, &["null"]),
    ("ct.request", DENIED, &[r#"{"roleName":"OpsAdmin","policyArn":"arn:aws:iam::aws:policy/AdministratorAccess","policyName":"AdministratorAccess"}"#]),
    ("ct.srcip", LOGIN, &["198.51.100.77"]),
    ("ct.useragent", STOP, &["aws-cli/2.15.20 Python/3.11.6 Linux/6.5.0"]),
    ("ct.info", STOP, &["OpsAdmin via 203.0.113.9 → StopLogging"]),
    ("ct.info", DENIED, &["erin via 198.51.100.81 !→ AttachRolePolicy"]),
    ("ct.info", GET, &["lambda.amazonaws.com ← GetObject Size=48213 URI=s3://corp-exports/reports/2024/q1.csv"]),
    ("ct.info", POLICY, &["dave via 198.51.100.80 → PutBucketPolicy Size=0 Bucket=corp-exports"]),
    (
        "ct.info",
        MISC,
        &["carol via 198.51.100.77 → PutBucketPublicAccessBlock BlockPublicAcls=false BlockPublicPolicy=true IgnorePublicAcls=false RestrictPublicBuckets=false "],
    ),
    ("ct.managementevent", LOGIN, &["true"]),
    ("ct.managementevent", GET, &["false"]),
    ("ct.readonly", GET, &["true"]),
    ("ct.readonly", STOP, &["false"]),
    ("ct.readonly", ECS, &[]),
    ("ct.requestid", STOP, &["0a1b2c3d-4e5f-4061-8273-94a5b6c7d8e9"]),
    ("ct.eventtype", LOGIN, &["AwsConsoleSignIn"]),
    ("ct.apiversion", STOP, &["2013-11-01"]),
    (
        "ct.resources",
        GET,
        &[r#"{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::corp-exports/reports/2024/q1.csv"},{"accountId":"111122223333","type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::corp-exports"}"#],
    ),
    ("ct.resources", LOGIN, &[]),
    ("ct.recipientaccountid", LOGIN, &["111122223333"]),
    ("ct.serviceeventdetails", DENIED, &[r#"{"note":"illustrative"}"#]),
    ("ct.sharedeventid", GET, &["c6c6c6c6-6666-4fb3-8c6d-5a6b7c8d9eaf"]),
    ("ct.vpcendpointid", POLICY, &["vpce-0a1b2c3d"]),
    ("ct.eventcategory", GET, &["Data"]),
    ("ct.addendum.reason", DENIED, &["DELIVERY_DELAY"]),
    ("ct.addendum.updatedfields", DENIED, &["errorCode"]),
    ("ct.addendum.originalrequestid", DENIED, &["orig-req-1"]),
    ("ct.addendum.originaleventid", DENIED, &["orig-evt-1"]),
    ("ct.sessioncredentialfromconsole", LOGIN, &["true"]),
    ("ct.sessioncredentialfromconsole", STOP, &[]),
    ("ct.edgedevicedetails", DENIED, &["snowball-01"]),
    ("ct.tlsdetails.tlsversion", LOGIN, &["TLSv1.3"]),
    ("ct.tlsdetails.ciphersuite", LOGIN, &["TLS_AES_128_GCM_SHA256"]),
    ("ct.tlsdetails.clientprovidedhostheader", LOGIN, &["signin.aws.amazon.com"]),
    (
        "ct.additionaleventdata",
        LOGIN,
        &[r#"{"LoginTo":"https://console.aws.amazon.com/console/home","MobileVersion":"No","MFAUsed":"No"}"#],
    ),
    ("s3.uri", GET, &["s3://corp-exports/reports/2024/q1.csv"]),
    ("s3.uri", POLICY, &[]),
    ("s3.bucket", POLICY, &["corp-exports"]),
    ("s3.key", GET, &["reports/2024/q1.csv"]),
    ("s3.bytes", GET, &["48213"]),
    ("s3.bytes", STOP, &[]),
    ("s3.bytes.in", GET, &["0"]),
    ("s3.bytes.out", GET, &["48213"]),
    ("s3.cnt.get", GET, &["1"]),
    ("s3.cnt.get", POLICY, &[]),
    ("s3.cnt.put", ECS, &["1"]),
    ("s3.cnt.put", GET, &[]),
    ("s3.cnt.other", POLICY, &["1"]),
    ("s3.cnt.other", GET, &[]),
    ("ec2.name", RUN, &["gpu-worker"]),
    ("ec2.name", LOGIN, &[]),
    ("ec2.imageid", RUN, &["ami-0abcdef1234567890"]),
    ("ec2.imageids", RUN, &["ami-0abcdef1234567890", "ami-0abcdef1234567890"]),
    ("ec2.imageids[1]", RUN, &["ami-0abcdef1234567890"]),
    ("ec2.imageids[2]", RUN, &[]),
    ("ec2.imageids", MISC, &["ami-0fromrequest"]),
    ("ecr.repository", ECS, &["payments-api"]),
    ("ecr.imagetag", ECS, &["4.2.0"]),
    ("iam.role", DENIED, &["OpsAdmin"]),
    ("iam.policy", DENIED, &["AdministratorAccess"]),
];

#[test]
fn cloudtrail_fields() {
    let mut records = load(
        &["cloudtrail_111122223333_us-east-1_20240301T0830Z.json"],
        RecordSource::CloudTrail,
    );
    assert_eq!(records.len(), 6);
    // Request parameters the fixture file does not exercise (one record per parameter family).
    records.push(inline(
        r#"{"eventName":"PutBucketPublicAccessBlock","eventType":"AwsApiCall","sourceIPAddress":"198.51.100.77","readOnly":false,
            "userIdentity":{"type":"IAMUser","userName":"carol"},
            "requestParameters":{"functionName":"billing-export","groupName":"open-sg","policy":"{\"Version\":\"2012-10-17\"}",
              "reason":"rotation","target":"i-0aaa1111bbbb2222c","documentName":"AWS-RunShellScript",
              "serialNumber":"arn:aws:iam::111122223333:mfa/carol","userName":"backdoor-user","imageId":"ami-0fromrequest",
              "PublicAccessBlockConfiguration":{"BlockPublicAcls":false,"BlockPublicPolicy":true,"IgnorePublicAcls":false,"RestrictPublicBuckets":false}}}"#,
        1,
    ));
    records.push(inline(
        r#"{"eventName":"PutObject","eventType":"AwsApiCall","requestParameters":{"cluster":"prod-cluster","serviceName":"payments",
            "taskDefinition":"payments:42","repositoryName":"payments-api","imageTag":"4.2.0"}}"#,
        2,
    ));
    check("aws_cloudtrail", &records, &mut JsonContext::empty(), CT);
}

const START: usize = 0;
const DENY2: usize = 2;
const DENY3: usize = 3;
const GROUP: usize = 4;

const OKTA: &[Case] = &[
    ("okta.app", START, &["salesforce"]),
    ("okta.app", DENY2, &[]),
    ("okta.behaviors", START, &["{New Geo-Location=NEGATIVE}"]),
    ("okta.org", START, &["acme"]),
    ("okta.evt.type", DENY2, &["user.mfa.okta_verify.deny_push"]),
    ("okta.evt.legacytype", START, &[""]),
    ("okta.severity", START, &["INFO"]),
    ("okta.message", DENY2, &["User rejected Okta push verify"]),
    ("okta.published", START, &["2024-03-01T11:00:00.123Z"]),
    ("okta.logonlysecuritydata", START, &["{}"]),
    ("okta.logonlysecuritydata", DENY2, &["{\"risk\":{\"level\":\"LOW\"}}"]),
    ("okta.actor.id", DENY2, &["00u9z8y7x6w5v4u3t2s1"]),
    ("okta.actor.Type", DENY2, &["User"]),
    ("okta.actor.alternateid", DENY2, &["bob@corp.example"]),
    ("okta.actor.name", DENY2, &["Bob Example"]),
    ("okta.client.zone", START, &["null"]),
    ("okta.client.ip", START, &["198.51.100.140"]),
    ("okta.client.device", START, &["Computer"]),
    ("okta.client.id", START, &[""]),
    ("okta.client.geo.city", START, &["Lisbon"]),
    ("okta.client.geo.state", START, &["Lisbon"]),
    ("okta.client.geo.country", START, &["Portugal"]),
    ("okta.client.geo.postalcode", START, &["1000-001"]),
    ("okta.client.geo.lat", START, &["38.7223"]),
    ("okta.client.geo.lon", START, &["-9.1393"]),
    ("okta.useragent.os", START, &["Mac OS X"]),
    ("okta.useragent.browser", START, &["SAFARI"]),
    (
        "okta.useragent.raw",
        START,
        &["Mozilla/5.0 (Macintosh; Intel Mac OS X 14_3) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3 Safari/605.1.15"],
    ),
    ("okta.result", DENY2, &["DENY"]),
    ("okta.reason", DENY2, &["User rejected Okta push verify"]),
    ("okta.reason", START, &[""]),
    ("okta.transaction.id", START, &["Zf1234567890abcdef"]),
    ("okta.transaction.type", START, &["WEB"]),
    ("okta.requesturi", GROUP, &["/api/v1/groups/00g1super/users/00u9z8y7x6w5v4u3t2s1"]),
    ("okta.principal.id", START, &["00uorig"]),
    ("okta.principal.id", DENY2, &[""]),
    ("okta.principal.alternateid", START, &["admin@corp.example"]),
    ("okta.principal.type", START, &["User"]),
    ("okta.principal.name", START, &["Admin Person"]),
    ("okta.authentication.step", START, &["0"]),
    ("okta.authentication.sessionid", START, &["102ExampleSessionIdAbC"]),
    ("okta.authentication.provider", START, &["OKTA_AUTHENTICATION_PROVIDER"]),
    ("okta.authentication.credentialprovider", START, &["OKTA_CREDENTIAL_PROVIDER"]),
    ("okta.security.asnumber", START, &["12345"]),
    ("okta.security.asorg", START, &["example telecom"]),
    ("okta.security.isp", START, &["example isp"]),
    ("okta.security.domain", START, &["example.net"]),
    ("okta.security.isproxy", START, &["false"]),
    ("okta.target.user.id", GROUP, &["00u9z8y7x6w5v4u3t2s1"]),
    ("okta.target.user.id", START, &[]),
    ("okta.target.user.alternateid", GROUP, &["bob@corp.example"]),
    ("okta.target.user.name", GROUP, &["Bob Example"]),
    ("okta.target.group.id", GROUP, &["00g1super"]),
    ("okta.target.group.alternateid", GROUP, &["unknown"]),
    ("okta.target.group.name", GROUP, &["Super Admins"]),
    ("okta.target.app.alternateid", GROUP, &["Corp Salesforce"]),
    ("okta.targets.displayName", GROUP, &["(Bob Example,Super Admins,Salesforce.com)"]),
    ("okta.targets.displayName[1]", GROUP, &["Super Admins"]),
    ("okta.targets.displayName", START, &["()"]),
    ("okta.mfa.failure.countlast[3600]", DENY2, &["2"]),
    ("okta.mfa.failure.countlast[60]", DENY3, &["1"]),
    ("okta.mfa.failure.countlast[120]", DENY3, &["3"]),
    ("okta.mfa.deny.countlast[120]", DENY3, &["3"]),
    ("okta.mfa.deny.countlast[120]", START, &[]),
];

#[test]
fn okta_fields() {
    let records = load(&["okta_logs.json"], RecordSource::Okta);
    assert_eq!(records.len(), 5);
    let mut ctx = JsonContext::empty().with_okta("acme", 600, 200);
    check("okta", &records, &mut ctx, OKTA);
}

const PUSH: usize = 0;
const PING: usize = 1;
const MEMBER: usize = 2;
const WORKFLOW: usize = 3;
const PUBLICIZED: usize = 4;

const GITHUB: &[Case] = &[
    ("github.type", PUSH, &["push"]),
    ("github.type", PING, &["ping"]),
    ("github.action", MEMBER, &["added"]),
    ("github.action", PUSH, &[""]),
    ("github.user", PUSH, &["carol-dev"]),
    ("github.repo", PUSH, &["https://github.com/corp-example/payments-api"]),
    ("github.repo.url", PUSH, &["https://github.com/corp-example/payments-api"]),
    ("github.repo.name", PUSH, &["corp-example/payments-api"]),
    ("github.repo.description", PUSH, &["Payments API service"]),
    ("github.repo.description", PUBLICIZED, &[""]),
    ("github.org", PUSH, &["corp-example"]),
    ("github.org", PING, &[""]),
    ("github.owner", PUSH, &["corp-example"]),
    ("github.repo.public", PUSH, &["false"]),
    ("github.repo.public", PUBLICIZED, &["true"]),
    ("github.collaborator.name", MEMBER, &["outside-contractor"]),
    ("github.collaborator.role", MEMBER, &["admin"]),
    ("github.webhook.id", PING, &["4206601"]),
    ("github.webhook.id", PUSH, &["0"]),
    ("github.webhook.type", PING, &["Repository"]),
    ("github.commit.added", PUSH, &["config/prod.env,deploy/key.pem"]),
    ("github.commit.modified", PUSH, &["README.md,src/main.go,src/main.go"]),
    ("github.commit.removed", PUSH, &["old.txt"]),
    ("github.commit.removed", PING, &[""]),
    ("github.diff.has_secrets", PUSH, &["true"]),
    ("github.diff.has_secrets", PING, &[""]),
    ("github.diff.committed_secrets.desc", PUSH, &["AWS Access Key,Private Key"]),
    ("github.diff.committed_secrets.desc", PING, &[]),
    ("github.diff.committed_secrets.files", PUSH, &["config/prod.env,deploy/key.pem"]),
    ("github.diff.committed_secrets.lines", PUSH, &["3,1"]),
    (
        "github.diff.committed_secrets.links",
        PUSH,
        &["https://github.com/corp-example/payments-api/blob/9f1c0a3b7e2d4c5f6a7b8c9d0e1f2a3b4c5d6e7f/config/prod.env/#L3,https://github.com/corp-example/payments-api/blob/9f1c0a3b7e2d4c5f6a7b8c9d0e1f2a3b4c5d6e7f/deploy/key.pem/#L1"],
    ),
    ("github.diff.committed_secrets.links", PING, &[""]),
    ("github.workflow.has_miners", WORKFLOW, &["true"]),
    ("github.workflow.has_miners", PUSH, &[]),
    ("github.workflow.miners.type", WORKFLOW, &["xmrig,stratum"]),
    ("github.workflow.filename", WORKFLOW, &[".github/workflows/build.yml"]),
];

#[test]
fn github_fields() {
    let records = load(&["github_webhooks.ndjson"], RecordSource::Github);
    assert_eq!(records.len(), 5);
    check("github", &records, &mut JsonContext::empty(), GITHUB);
}

const GCP: &[Case] = &[
    ("gcp.user", 2, &["mallory@corp.example"]),
    ("gcp.callerIP", 0, &["198.51.100.200"]),
    ("gcp.userAgent", 0, &["google-cloud-sdk gcloud/467.0.0"]),
    (
        "gcp.authorizationInfo",
        0,
        &[
            r#"[{"resource":"projects/_/buckets/x","permission":"storage.setIamPermissions","granted":true,"resourceAttributes":{}}]"#,
        ],
    ),
    ("gcp.serviceName", 0, &["storage.googleapis.com"]),
    (
        "gcp.policyDelta",
        0,
        &[r#"[{"action":"ADD","role":"roles/storage.objectViewer","member":"allUsers"}]"#],
    ),
    (
        "gcp.policyDelta",
        4,
        &[r#"[{"action":"ADD","role":"roles/bigquery.dataViewer","member":"allAuthenticatedUsers"}]"#],
    ),
    ("gcp.policyDelta", 2, &[""]),
    (
        "gcp.request",
        1,
        &[
            r#"{"@type":"type.googleapis.com/compute.instances.insert","name":"miner-01","machineType":"a2-highgpu-8g"}"#,
        ],
    ),
    ("gcp.request", 2, &[""]),
    ("gcp.methodName", 2, &["google.logging.v2.ConfigServiceV2.DeleteSink"]),
    ("gcp.cloudfunctions.function", 6, &["exfil-fn"]),
    ("gcp.cloudsql.databaseId", 7, &["corp-prod-4471:ledger"]),
    ("gcp.compute.instanceId", 1, &["8822113344556677889"]),
    ("gcp.compute.networkId", 5, &["998877"]),
    ("gcp.compute.subnetwork", 5, &["default-us"]),
    ("gcp.compute.subnetworkId", 5, &["556677"]),
    ("gcp.dns.zone", 8, &["corp-example-com"]),
    (
        "gcp.iam.serviceAccount",
        3,
        &["deployer@corp-prod-4471.iam.gserviceaccount.com"],
    ),
    ("gcp.iam.serviceAccountId", 3, &["104455667788990011223"]),
    ("gcp.location", 0, &["europe-west1"]),
    ("gcp.location", 1, &["us-central1"]),
    ("gcp.location", 5, &["us-central1"]),
    ("gcp.location", 2, &[]),
    ("gcp.logging.sink", 2, &["audit-to-siem"]),
    ("gcp.logging.sink", 3, &[]),
    ("gcp.projectId", 0, &["corp-prod-4471"]),
    ("gcp.resourceName", 2, &["projects/corp-prod-4471/sinks/audit-to-siem"]),
    ("gcp.resourceType", 0, &["gcs_bucket"]),
    (
        "gcp.resourceLabels",
        2,
        &[r#"{"name":"audit-to-siem","project_id":"corp-prod-4471","destination":""}"#],
    ),
    ("gcp.storage.bucket", 0, &["corp-public-assets"]),
    ("gcp.storage.bucket", 1, &[]),
    ("gcp.time", 0, &["2024-03-01T13:00:00.120349Z"]),
];

#[test]
fn gcp_auditlog_fields() {
    let records = load(&["gcp_logentries.json"], RecordSource::GcpAudit);
    assert_eq!(records.len(), 9);
    check("gcp_auditlog", &records, &mut JsonContext::empty(), GCP);
}

#[test]
fn generic_event_fields_and_json_plugin_fields() {
    let records = k8s_records();
    let pod = &records[POD];
    let mut ctx = JsonContext::empty();
    ctx.hostname = "node-1".to_string();
    ctx.observe("k8s_audit", records[0].json(), records[0].ts_ns);
    let catalog = catalog_for("k8s_audit").unwrap();
    let ev = JsonEvent::new(pod.json(), pod.ts_ns).with_num(7).with_context(&ctx);
    let cases: &[(&str, &[&str])] = &[
        ("evt.num", &["7"]),
        ("evt.time", &["09:15:02.140321000"]),
        ("evt.time.s", &["09:15:02"]),
        ("evt.time.iso8601", &["2024-03-01T09:15:02.140321000Z"]),
        ("evt.datetime", &["2024-03-01 09:15:02.140321000"]),
        ("evt.datetime.s", &["2024-03-01 09:15:02"]),
        ("evt.rawtime", &["1709284502140321000"]),
        ("evt.rawtime.s", &["1709284502"]),
        ("evt.rawtime.ns", &["140321000"]),
        ("evt.reltime", &["0"]),
        ("evt.pluginname", &["k8saudit"]),
        ("evt.source", &["k8s_audit"]),
        ("evt.is_async", &["false"]),
        ("evt.asynctype", &[]),
        ("evt.hostname", &["node-1"]),
        ("json.value[/objectRef/resource]", &["pods"]),
        ("jevt.value[/stage]", &["ResponseComplete"]),
        ("json.value[/annotations/authorization.k8s.io~1decision]", &["allow"]),
        ("json.value[annotations/cluster_name]", &["prod-eu-1"]),
        ("json.value[/responseStatus/code]", &["201"]),
        ("json.value[/user/groups/1]", &["system:authenticated"]),
        ("json.value[/requestObject/spec/hostPID]", &["true"]),
        (
            "json.value[/requestObject/spec/containers/0/securityContext/capabilities]",
            &[r#"{"add":["SYS_ADMIN","NET_ADMIN"]}"#],
        ),
        (
            "jevt.value[/requestObject/spec/volumes/2]",
            &[r#"{"name":"scratch","emptyDir":{}}"#],
        ),
        ("json.value[/requestObject/ephemeralContainers/0/image]", &[]),
        ("json.value[/user/groups/9]", &[]),
        ("json.rawtime", &["1709284502140321000"]),
        ("jevt.rawtime", &["1709284502140321000"]),
    ];
    let mut failures = Vec::new();
    for (expr, want) in cases {
        let got = extract(catalog, &ev, expr);
        if got != *want {
            failures.push(format!("{expr}: got {got:?}, want {want:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // evt.plugininfo: the plugin's String(): raw JSON for k8saudit.
    assert_eq!(
        extract(catalog, &ev, "evt.plugininfo"),
        [String::from_utf8_lossy(pod.raw()).into_owned()]
    );
    // json.obj is the record re-indented like Go's json.Indent.
    let obj = extract(catalog, &ev, "json.obj").remove(0);
    assert!(
        obj.starts_with("{\n  \"kind\": \"Event\",\n  \"apiVersion\": \"audit.k8s.io/v1\",\n"),
        "{obj}"
    );
    assert_eq!(serde_json::from_str::<serde_json::Value>(&obj).unwrap(), pod.value());
    assert_eq!(extract(catalog, &ev, "jevt.obj"), [obj]);
    let later = &records[EXEC];
    let ev = JsonEvent::new(later.json(), later.ts_ns).with_context(&ctx);
    assert_eq!(extract(catalog, &ev, "evt.reltime.s"), ["97"]);
    assert_eq!(extract(catalog, &ev, "evt.reltime.ns"), ["911391000"]);
}

#[test]
fn plugininfo_of_cloudtrail_and_github() {
    let ct = load(
        &["cloudtrail_111122223333_us-east-1_20240301T0830Z.json"],
        RecordSource::CloudTrail,
    );
    let catalog = catalog_for("aws_cloudtrail").unwrap();
    let ev = JsonEvent::new(ct[STOP].json(), ct[STOP].ts_ns);
    assert_eq!(
        extract(catalog, &ev, "evt.plugininfo"),
        ["eu-west-1 OpsAdmin cloudtrail StopLogging OpsAdmin via 203.0.113.9 → StopLogging"]
    );
    assert_eq!(extract(catalog, &ev, "evt.pluginname"), ["cloudtrail"]);
    let gh = load(&["github_webhooks.ndjson"], RecordSource::Github);
    let catalog = catalog_for("github").unwrap();
    let ev = JsonEvent::new(gh[PUSH].json(), gh[PUSH].ts_ns);
    assert_eq!(
        extract(catalog, &ev, "evt.plugininfo"),
        ["github push user:carol-dev repo:https://github.com/corp-example/payments-api"]
    );
}

#[test]
fn bind_errors() {
    let k8s = catalog_for("k8s_audit").unwrap();
    let err = |c: &dyn Catalog<_>, name: &str, arg: Option<&str>| c.bind(name, arg).err().expect("bind error");
    assert_eq!(
        err(k8s, "json.value", None),
        BindError::ArgRequired {
            field: "json.value".into()
        }
    );
    assert_eq!(
        err(k8s, "ka.verb", Some("0")),
        BindError::ArgNotAllowed {
            field: "ka.verb".into()
        }
    );
    assert!(matches!(
        err(k8s, "ka.req.pod.containers.image", Some("first")),
        BindError::BadArg { .. }
    ));
    assert!(matches!(
        err(k8s, "json.value", Some("")),
        BindError::ArgRequired { .. } | BindError::BadArg { .. }
    ));
    assert_eq!(err(k8s, "ct.name", None), BindError::UnknownField("ct.name".into()));
    assert_eq!(err(k8s, "proc.name", None), BindError::UnknownField("proc.name".into()));
    let okta = catalog_for("okta").unwrap();
    assert!(matches!(
        err(okta, "okta.mfa.deny.countlast", None),
        BindError::ArgRequired { .. }
    ));
    assert!(catalog_for("syscall").is_none());
    for s in JSON_SOURCES {
        let c = catalog_for(s).unwrap();
        assert_eq!(c.source_name(), *s);
        assert_eq!(c.num_event_codes(), 1);
        assert_eq!(c.event_codes_for("pluginevent"), None);
        let r = inline("{}", 0);
        assert_eq!(c.event_code(&JsonEvent::new(r.json(), 0)), 0);
        // Every field binds (with an argument when required).
        for f in c.fields() {
            let arg = match f.arg {
                mamoru_fields::ArgSpec::Required(mamoru_fields::ArgForm::Index) => Some("1"),
                mamoru_fields::ArgSpec::Required(_) => Some("/a"),
                _ => None,
            };
            c.bind(f.name, arg).unwrap_or_else(|e| panic!("{s}: {e}"));
        }
    }
}
