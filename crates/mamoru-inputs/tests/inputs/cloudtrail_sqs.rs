//! aws_cloudtrail driven by S3 event notifications on an SQS queue, against moto's server (S3 and SQS): records of
//! the announced objects arrive and fire the bundled rules; a message is deleted once its objects were evaluated;
//! a message naming a missing object stays on the queue, comes back, and is finished (without evaluating its good
//! object twice) once the object exists; a garbage object is reported while the good ones still arrive.

use crate::common;

use common::*;
use mamoru_inputs::{
    run_sources, sigv4_sign_request, AwsCredentials, CloudTrailConfig, SignInput, SourcesConfig, SqsConfig,
    StaticCredentials,
};
use serde_json::{json, Value};

const RECORDS: &str = "crates/mamoru-cli/tests/data/cloudtrail_records.json";
const BUCKET: &str = "org-trail";
const PREFIX: &str = "AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/14/";
const KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

fn records() -> Vec<Value> {
    let v: Value = serde_json::from_slice(&read(RECORDS)).unwrap();
    v["Records"].as_array().unwrap().clone()
}

fn trail_file(range: std::ops::Range<usize>) -> Vec<u8> {
    gzip(&serde_json::to_vec(&json!({ "Records": records()[range].to_vec() })).unwrap())
}

fn ids(range: std::ops::Range<usize>) -> Vec<String> {
    records()[range]
        .iter()
        .map(|r| r["eventID"].as_str().unwrap().to_string())
        .collect()
}

/// The S3 event record S3 sends for a new object (the key URL-encoded as S3 does: space as `+`).
fn created(key: &str, sequencer: &str) -> Value {
    json!({
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
        "eventTime": "2024-05-14T09:00:00.000Z", "eventName": "ObjectCreated:Put",
        "s3": {"s3SchemaVersion": "1.0", "configurationId": "trail",
            "bucket": {"name": BUCKET, "arn": format!("arn:aws:s3:::{BUCKET}")},
            "object": {"key": key.replace(' ', "+"), "size": 1000, "eTag": "0123", "sequencer": sequencer}}
    })
}

/// A hand-signed call of SQS's JSON protocol (moto routes it by the signature's service).
async fn sqs(endpoint: &str, action: &str, body: Value) -> Value {
    let url = reqwest::Url::parse(&format!("{endpoint}/")).unwrap();
    let host = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap());
    let payload = serde_json::to_vec(&body).unwrap();
    let extra = [
        ("content-type".to_string(), "application/x-amz-json-1.0".to_string()),
        ("x-amz-target".to_string(), format!("AmazonSQS.{action}")),
    ];
    let creds = AwsCredentials {
        access_key_id: KEY_ID.into(),
        secret_access_key: SECRET.into(),
        session_token: None,
        expires: None,
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let headers = sigv4_sign_request(
        &SignInput {
            service: "sqs",
            region: "us-east-1",
            method: "POST",
            host: &host,
            path: "/",
            query: &[],
            headers: &extra,
            payload: &payload,
        },
        &creds,
        now,
    );
    let mut req = reqwest::Client::new().post(url).body(payload);
    for (k, v) in headers {
        req = req.header(k, v);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let text = resp.text().await.unwrap();
    assert!(status.is_success(), "SQS {action}: {status}: {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

async fn send(endpoint: &str, queue: &str, body: String) {
    sqs(endpoint, "SendMessage", json!({"QueueUrl": queue, "MessageBody": body})).await;
}

/// Messages on the queue, visible or in flight.
async fn messages_left(endpoint: &str, queue: &str) -> u64 {
    let a = sqs(
        endpoint,
        "GetQueueAttributes",
        json!({"QueueUrl": queue, "AttributeNames": ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]}),
    )
    .await;
    ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        .iter()
        .map(|k| {
            let v = &a["Attributes"][k];
            v.as_u64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                .unwrap_or_else(|| panic!("{k} in {a}"))
        })
        .sum()
}

fn config(state: &std::path::Path, endpoint: &str, queue: &str) -> SourcesConfig {
    SourcesConfig {
        state_dir: state.to_path_buf(),
        batch_records: 2,
        aws_cloudtrail: Some(CloudTrailConfig {
            directory: None,
            s3: None,
            sqs: Some(SqsConfig {
                queue_url: queue.into(),
                region: Some("us-east-1".into()),
                s3_endpoint: Some(endpoint.into()),
                prefix: "AWSLogs/".into(),
                wait_time_s: 1,
                max_messages: 10,
                visibility_timeout_s: Some(1),
                max_file_bytes: 8 << 20,
                max_object_bytes: 1 << 20,
                credentials: Some(StaticCredentials {
                    access_key_id: KEY_ID.into(),
                    secret_access_key: SECRET.into(),
                    session_token: None,
                }),
                profile: None,
                imds: false,
            }),
        }),
        ..SourcesConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqs_notifications_drive_s3_reads_and_messages_are_deleted_after_evaluation() {
    init_tracing();
    let moto = Moto::start().await;
    let ep = moto.endpoint.clone();
    moto.put(BUCKET, Vec::new()).await;
    let queue = sqs(&ep, "CreateQueue", json!({"QueueName": "trail-objects"})).await["QueueUrl"]
        .as_str()
        .unwrap()
        .to_string();

    let (a, b, missing, garbage) = (
        format!("{PREFIX}111122223333_CloudTrail_us-east-1_20240514T0900Z_a.json.gz"),
        format!("{PREFIX}111122223333_CloudTrail_us-east-1_20240514T0905Z_b b.json.gz"),
        format!("{PREFIX}111122223333_CloudTrail_us-east-1_20240514T0910Z_late.json.gz"),
        format!("{PREFIX}111122223333_CloudTrail_us-east-1_20240514T0915Z_garbage.json.gz"),
    );
    moto.put(&format!("{BUCKET}/{a}"), trail_file(0..5)).await;
    moto.put(&format!("{BUCKET}/{b}"), trail_file(5..9)).await;
    moto.put(&format!("{BUCKET}/{garbage}"), gzip(b"this is not a CloudTrail log"))
        .await;

    // 1: a plain S3 notification. 2: through SNS, naming b and an object not written yet. 3: S3's test event.
    // 4: the garbage object. 5: not a notification at all.
    send(&ep, &queue, json!({"Records": [created(&a, "01")]}).to_string()).await;
    let inner = json!({"Records": [created(&b, "02"), created(&missing, "03")]}).to_string();
    let sns = json!({"Type": "Notification", "MessageId": "5a1e", "TopicArn": "arn:aws:sns:us-east-1:111122223333:t",
        "Message": inner, "Timestamp": "2024-05-14T09:10:00.000Z"});
    send(&ep, &queue, sns.to_string()).await;
    send(
        &ep,
        &queue,
        json!({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": BUCKET}).to_string(),
    )
    .await;
    send(&ep, &queue, json!({"Records": [created(&garbage, "04")]}).to_string()).await;
    send(&ep, &queue, "{\"hello\": \"world\"}".to_string()).await;
    assert_eq!(messages_left(&ep, &queue).await, 5);

    let dir = tempfile::tempdir().unwrap();
    let (tx, rx) = channel();
    let eval = Evaluator::start(rx, &[], None);
    let h = run_sources(config(dir.path(), &ep, &queue), tx).await.unwrap();
    let m = h.metrics().input("aws_cloudtrail", "sqs");
    let seen = eval
        .wait_for("objects a and b", |s| s.ids("aws_cloudtrail").len() >= 9)
        .await;
    let mut got = seen.ids("aws_cloudtrail");
    got.sort();
    let mut want = ids(0..9);
    want.sort();
    assert_eq!(got, want, "a and b, each record once");
    // The missing object keeps its message on the queue: it is reported, and comes back after its visibility
    // timeout to be reported again.
    eventually("the missing object reported twice", || m.errors_total("open") >= 2).await;
    eventually("the garbage object reported", || {
        m.errors_total("malformed") + m.errors_total("unrecognized") >= 1
    })
    .await;
    assert!(m.errors_total("message") >= 1, "the non-notification is reported");
    // Left: the message naming the missing object and the non-notification (for the dead-letter queue).
    let start = std::time::Instant::now();
    while messages_left(&ep, &queue).await != 2 {
        assert!(start.elapsed() < std::time::Duration::from_secs(60), "messages deleted");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }

    // The object arrives late: the redelivered message finishes with it, and b is not evaluated again.
    moto.put(&format!("{BUCKET}/{missing}"), trail_file(9..12)).await;
    let seen = eval
        .wait_for("the late object", |s| s.ids("aws_cloudtrail").len() >= 12)
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let all = eval.snapshot();
    assert_eq!(
        all.ids("aws_cloudtrail").len(),
        12,
        "no record evaluated twice: {seen:#?}"
    );
    assert_eq!(&all.ids("aws_cloudtrail")[9..], ids(9..12).as_slice());
    let start = std::time::Instant::now();
    while messages_left(&ep, &queue).await != 1 {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(60),
            "the late message deleted"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }

    let rules = all.rules();
    for rule in [
        "Console Login Without MFA",
        "CloudTrail Logging Disabled",
        "Put Bucket Policy",
        "Delete Bucket Encryption",
    ] {
        assert!(rules.contains_key(rule), "{rule} fired: {rules:?}");
    }
    assert_eq!(m.records_total(), 12);
    h.stop().await.unwrap();
    drop(eval);
}
