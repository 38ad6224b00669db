//! `mamoru bench json`: raw JSON bytes to alerts for a cloud source, on one core.
//!
//! The workload is generated (seeded) from the recorded fixtures in `crates/mamoru-cli/tests/data`: CloudTrail
//! records grouped into log files `{"Records":[...]}` of 250 records (what CloudTrail writes to S3), Kubernetes
//! audit events grouped into webhook `EventList` batches of 100 events (what the API server posts). Every record
//! gets its own ids, times, users, addresses and request details; most are routine calls that match no rule, and
//! about one in fifty is a copy of a fixture record that does. A pass frames every batch with [`RecordReader`]
//! (the path `replay` and the live inputs use) and evaluates each record with [`JsonPipeline`], rendering every
//! alert. Each pass is timed by the wall clock and by the CPU time of the evaluating thread (the machine may be
//! shared: CPU time is what one core spends); the median and best passes by CPU time are reported, with
//! allocations per record counted by the global allocator.

use anyhow::{bail, Context, Result};
use mamoru_cli::config::Config;
use mamoru_cli::pipeline::JsonPipeline;
use mamoru_fields::json::JsonContext;
use mamoru_records::{Limits, RecordReader, RecordSource};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use crate::alloc_count::allocations;

const CLOUDTRAIL_FIXTURE: &str = include_str!("../../tests/data/cloudtrail_records.json");
const K8S_FIXTURE: &str = include_str!("../../tests/data/k8s_audit_eventlist.json");

/// One in this many records is a copy of a fixture record (which may fire rules); the rest are routine calls.
const PLANT_EVERY: u64 = 50;

/// A small deterministic generator (xorshift64*), so that every run benchmarks the same bytes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Generated input: batches of raw JSON bytes.
struct Workload {
    batches: Vec<Arc<[u8]>>,
    records: u64,
    bytes: usize,
}

pub fn run(source: &str, records: u64, rules: &[PathBuf], passes: usize) -> Result<ExitCode> {
    if records == 0 || passes == 0 {
        bail!("--records and --passes must be positive");
    }
    let (kind, work) = match source {
        "aws_cloudtrail" => (RecordSource::CloudTrail, cloudtrail_workload(records)?),
        "k8s_audit" => (RecordSource::K8sAudit, k8s_workload(records)?),
        other => bail!("bench json supports --source aws_cloudtrail or k8s_audit, not {other:?}"),
    };
    println!(
        "workload: {} {} records in {} batches, {} bytes ({:.0} bytes/record)",
        work.records,
        source,
        work.batches.len(),
        work.bytes,
        work.bytes as f64 / work.records as f64
    );
    let sets = crate::cmd::replay::load_rules(rules, &Config::default())?;
    let ruleset = sets
        .json_ruleset(source)
        .with_context(|| format!("no ruleset for source {source}"))?;
    let active = ruleset.rules().iter().filter(|r| r.is_active()).count();
    println!("rules: {active} active for {source}");
    let mut runs: Vec<Pass> = Vec::with_capacity(passes);
    for pass in 0..passes {
        let r = timed_pass(kind, ruleset, &work)?;
        println!(
            "pass {}: {:.3} s wall, {:.3} s CPU, {:.0} records/s per CPU-second ({:.0} by wall), {:.0} ns CPU/record, \
             {} alerts, allocations/record {:.3}",
            pass + 1,
            r.secs,
            r.cpu_secs,
            r.records as f64 / r.cpu_secs,
            r.records as f64 / r.secs,
            r.cpu_secs * 1e9 / r.records as f64,
            r.alerts,
            r.allocs as f64 / r.records as f64,
        );
        runs.push(r);
    }
    runs.sort_by(|a, b| a.cpu_secs.total_cmp(&b.cpu_secs));
    let (Some(best), Some(median)) = (runs.first(), runs.get(runs.len() / 2)) else {
        bail!("no pass ran")
    };
    for (label, r) in [("median", median), ("best", best)] {
        println!(
            "{label}: {:.0} records/s on one core by CPU time ({:.0} ns/record, {:.1} MB/s), allocations/record {:.3}",
            r.records as f64 / r.cpu_secs,
            r.cpu_secs * 1e9 / r.records as f64,
            work.bytes as f64 / r.cpu_secs / 1e6,
            r.allocs as f64 / r.records as f64,
        );
    }
    Ok(ExitCode::SUCCESS)
}

struct Pass {
    secs: f64,
    /// CPU time of this thread during the pass.
    cpu_secs: f64,
    records: u64,
    alerts: u64,
    allocs: u64,
}

/// CPU time consumed by the calling thread, in seconds.
fn thread_cpu_secs() -> Result<f64> {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime only writes the timespec it is handed, which lives for the whole call.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        bail!(
            "clock_gettime(CLOCK_THREAD_CPUTIME_ID): {}",
            std::io::Error::last_os_error()
        );
    }
    Ok(ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9)
}

fn timed_pass(
    kind: RecordSource,
    ruleset: &mamoru_engine::SourceRuleset<mamoru_fields::json::JsonSource>,
    work: &Workload,
) -> Result<Pass> {
    let mut pipeline = JsonPipeline::new(ruleset, JsonContext::empty());
    let mut alerts = 0u64;
    let mut records = 0u64;
    let start_allocs = allocations();
    let start_cpu = thread_cpu_secs()?;
    let start = Instant::now();
    for (i, batch) in work.batches.iter().enumerate() {
        let input = std::io::Cursor::new(batch.clone());
        let reader = RecordReader::from_reader("bench", input, kind, Limits::default())?;
        for rec in reader {
            let rec = rec.with_context(|| format!("batch {i}"))?;
            records += 1;
            pipeline.on_record(&rec, |alert| {
                alerts += 1;
                std::hint::black_box(alert);
            });
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let cpu_secs = thread_cpu_secs()? - start_cpu;
    if records != work.records {
        bail!("framed {records} records, generated {}", work.records);
    }
    Ok(Pass {
        secs,
        cpu_secs,
        records,
        alerts,
        allocs: allocations() - start_allocs,
    })
}

fn fixture_items(text: &str, key: &str) -> Result<Vec<Value>> {
    let doc: Value = serde_json::from_str(text)?;
    match doc.get(key) {
        Some(Value::Array(items)) if !items.is_empty() => Ok(items.clone()),
        _ => bail!("fixture has no {key} array"),
    }
}

/// Groups records into batches written as `<prefix>record,record,...<suffix>` (the envelope's member order as the
/// producers write it: `Records` or `kind` first).
fn batches(records: Vec<Value>, per_batch: usize, prefix: &str, suffix: &str) -> Result<Workload> {
    let total = records.len() as u64;
    let mut out = Vec::new();
    let mut bytes = 0;
    let mut it = records.into_iter().peekable();
    while it.peek().is_some() {
        let mut text = prefix.as_bytes().to_vec();
        for (n, r) in it.by_ref().take(per_batch).enumerate() {
            if n > 0 {
                text.push(b',');
            }
            serde_json::to_writer(&mut text, &r)?;
        }
        text.extend_from_slice(suffix.as_bytes());
        bytes += text.len();
        out.push(Arc::from(text));
    }
    Ok(Workload {
        batches: out,
        records: total,
        bytes,
    })
}

const USERS: &[&str] = &[
    "alice",
    "bob",
    "carol",
    "deploy-bot",
    "ci-runner",
    "dave",
    "erin",
    "frank",
];
const REGIONS: &[&str] = &["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2"];

fn ip(rng: &mut Rng) -> String {
    format!("10.{}.{}.{}", rng.below(256), rng.below(256), 1 + rng.below(254))
}

fn rfc3339(base: u64, i: u64) -> String {
    // 2024-03-01T00:00:00Z plus i milliseconds, as CloudTrail and the API server print times.
    let ms = base + i;
    let (secs, milli) = (ms / 1000, ms % 1000);
    let (h, m, s) = ((secs / 3600) % 24, (secs / 60) % 60, secs % 60);
    format!("2024-03-01T{h:02}:{m:02}:{s:02}.{milli:03}Z")
}

/// Routine CloudTrail calls: (event source, event name, read only, request parameters).
fn routine_cloudtrail(rng: &mut Rng) -> (&'static str, &'static str, bool, Value) {
    let bucket = format!("app-data-{}", rng.below(40));
    let instance = format!("i-0{:016x}", rng.next());
    match rng.below(8) {
        0 => (
            "s3.amazonaws.com",
            "GetObject",
            true,
            json!({"bucketName": bucket, "key": format!("logs/{}.gz", rng.next() % 100000), "Host": format!("{bucket}.s3.amazonaws.com")}),
        ),
        1 => (
            "s3.amazonaws.com",
            "PutObject",
            false,
            json!({"bucketName": bucket, "key": format!("uploads/{:x}", rng.next()), "Host": format!("{bucket}.s3.amazonaws.com")}),
        ),
        2 => (
            "ec2.amazonaws.com",
            "DescribeInstances",
            true,
            json!({"instancesSet": {"items": [{"instanceId": instance}]}, "filterSet": {}}),
        ),
        3 => (
            "sts.amazonaws.com",
            "AssumeRole",
            true,
            json!({"roleArn": "arn:aws:iam::111122223333:role/app-role", "roleSessionName": format!("session-{}", rng.below(1000))}),
        ),
        4 => ("sts.amazonaws.com", "GetCallerIdentity", true, Value::Null),
        5 => (
            "kms.amazonaws.com",
            "Decrypt",
            true,
            json!({"encryptionAlgorithm": "SYMMETRIC_DEFAULT"}),
        ),
        6 => (
            "lambda.amazonaws.com",
            "Invoke",
            false,
            json!({"functionName": format!("handler-{}", rng.below(30))}),
        ),
        _ => (
            "dynamodb.amazonaws.com",
            "Query",
            true,
            json!({"tableName": format!("orders-{}", rng.below(5)), "limit": 100}),
        ),
    }
}

fn cloudtrail_workload(n: u64) -> Result<Workload> {
    let fixtures = fixture_items(CLOUDTRAIL_FIXTURE, "Records")?;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut records = Vec::with_capacity(n as usize);
    for i in 0..n {
        let mut r = rng.pick(&fixtures).clone();
        if i % PLANT_EVERY != 0 {
            let (src, name, read_only, params) = routine_cloudtrail(&mut rng);
            r["eventSource"] = json!(src);
            r["eventName"] = json!(name);
            r["readOnly"] = json!(read_only);
            r["requestParameters"] = params;
            r["responseElements"] = Value::Null;
            if let Some(obj) = r.as_object_mut() {
                obj.remove("errorCode");
                obj.remove("errorMessage");
                obj.remove("additionalEventData");
            }
        }
        let user = *rng.pick(USERS);
        r["eventTime"] = json!(rfc3339(0, i * 7));
        r["eventID"] = json!(format!(
            "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            rng.next() as u32,
            rng.below(65536),
            rng.below(4096),
            rng.below(4096),
            rng.next() & 0xFFFF_FFFF_FFFF
        ));
        r["requestID"] = json!(format!("{:016X}", rng.next()));
        r["sourceIPAddress"] = json!(ip(&mut rng));
        r["awsRegion"] = json!(*rng.pick(REGIONS));
        if let Some(identity) = r.get_mut("userIdentity").and_then(Value::as_object_mut) {
            if identity.contains_key("userName") {
                identity.insert("userName".into(), json!(user));
                identity.insert("arn".into(), json!(format!("arn:aws:iam::111122223333:user/{user}")));
            }
        }
        records.push(r);
    }
    batches(records, 250, r#"{"Records":["#, "]}")
}

/// Routine API server traffic: (verb, resource, namespace).
fn routine_k8s(rng: &mut Rng) -> (&'static str, &'static str, &'static str) {
    let verb = *rng.pick(&["get", "list", "watch", "get", "update", "patch"]);
    let resource = *rng.pick(&[
        "pods",
        "configmaps",
        "endpoints",
        "leases",
        "nodes",
        "services",
        "events",
    ]);
    let ns = *rng.pick(&["default", "kube-system", "payments", "web", "monitoring"]);
    (verb, resource, ns)
}

fn k8s_workload(n: u64) -> Result<Workload> {
    let fixtures = fixture_items(K8S_FIXTURE, "items")?;
    let routine_base = fixtures
        .iter()
        .find(|e| e.get("verb").and_then(Value::as_str) == Some("get"))
        .unwrap_or(&fixtures[0])
        .clone();
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    let mut records = Vec::with_capacity(n as usize);
    for i in 0..n {
        let mut e = if i % PLANT_EVERY == 0 {
            rng.pick(&fixtures).clone()
        } else {
            let (verb, resource, ns) = routine_k8s(&mut rng);
            let mut e = routine_base.clone();
            let name = format!("{resource}-{:x}", rng.next() & 0xFFFFFF);
            e["verb"] = json!(verb);
            e["objectRef"] = json!({"resource": resource, "namespace": ns, "name": name, "apiVersion": "v1"});
            e["requestURI"] = json!(format!("/api/v1/namespaces/{ns}/{resource}/{name}"));
            e["user"] = json!({
                "username": format!("system:serviceaccount:{ns}:{}", rng.pick(USERS)),
                "groups": ["system:serviceaccounts", format!("system:serviceaccounts:{ns}"), "system:authenticated"]
            });
            e
        };
        let t = rfc3339(0, i * 3);
        e["auditID"] = json!(format!(
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            rng.next() as u32,
            rng.below(65536),
            rng.below(65536),
            rng.below(65536),
            rng.next() & 0xFFFF_FFFF_FFFF
        ));
        e["requestReceivedTimestamp"] = json!(t);
        e["stageTimestamp"] = json!(t);
        e["sourceIPs"] = json!([ip(&mut rng)]);
        records.push(e);
    }
    batches(
        records,
        100,
        r#"{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},"items":["#,
        "]}",
    )
}
