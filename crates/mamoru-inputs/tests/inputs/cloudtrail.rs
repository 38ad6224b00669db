//! aws_cloudtrail end to end: gzipped CloudTrail files listed from an S3 bucket (moto's server) and read from a
//! local directory, evaluated with the bundled CloudTrail rules; a crash mid-file and a restart neither repeat nor
//! skip a record; a gzip bomb and a truncated file are rejected and counted.

use crate::common;

use common::*;
use mamoru_inputs::{run_sources, CloudTrailConfig, DirectoryConfig, S3Config, SourcesConfig, StaticCredentials};

const RECORDS: &str = "crates/mamoru-cli/tests/data/cloudtrail_records.json";
const PREFIX: &str = "AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/14/";

fn records() -> Vec<serde_json::Value> {
    let v: serde_json::Value = serde_json::from_slice(&read(RECORDS)).unwrap();
    v["Records"].as_array().unwrap().clone()
}

/// A CloudTrail log file holding `records[range]`, gzipped.
fn trail_file(range: std::ops::Range<usize>) -> Vec<u8> {
    let recs = records();
    gzip(&serde_json::to_vec(&serde_json::json!({ "Records": recs[range].to_vec() })).unwrap())
}

fn key(time: &str, tag: &str) -> String {
    format!("{PREFIX}111122223333_CloudTrail_us-east-1_20240514T{time}Z_{tag}.json.gz")
}

fn ids(range: std::ops::Range<usize>) -> Vec<String> {
    records()[range]
        .iter()
        .map(|r| r["eventID"].as_str().unwrap().to_string())
        .collect()
}

/// 64 MiB of whitespace, gzipped to a few tens of KiB.
fn gzip_bomb() -> Vec<u8> {
    gzip(&vec![b' '; 64 << 20])
}

fn s3_config(state: &std::path::Path, endpoint: &str) -> SourcesConfig {
    SourcesConfig {
        state_dir: state.to_path_buf(),
        batch_records: 2,
        aws_cloudtrail: Some(CloudTrailConfig {
            directory: None,
            s3: Some(S3Config {
                bucket: "org-trail".into(),
                prefix: "AWSLogs/111122223333/CloudTrail/us-east-1/".into(),
                region: Some("us-east-1".into()),
                endpoint: Some(endpoint.into()),
                poll_interval_s: 1,
                max_file_bytes: 8 << 20,
                max_object_bytes: 1 << 20,
                credentials: Some(StaticCredentials {
                    access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
                    secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
                    session_token: None,
                }),
                profile: None,
                imds: false,
            }),
            sqs: None,
        }),
        ..SourcesConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_listing_resumes_mid_file_without_duplicates_and_fires_rules() {
    init_tracing();
    let moto = Moto::start().await;
    moto.put("org-trail", Vec::new()).await;
    moto.put(&format!("org-trail/{}", key("0900", "a")), trail_file(0..5))
        .await;
    moto.put(&format!("org-trail/{}", key("0905", "b")), trail_file(5..9))
        .await;
    moto.put(&format!("org-trail/{}", key("0906", "bomb")), gzip_bomb())
        .await;
    moto.put(&format!("org-trail/{}", key("0910", "c")), trail_file(9..11))
        .await;
    // Digest files are not logs.
    moto.put(
        "org-trail/AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2024/05/14/d.json.gz",
        gzip(b"{\"digest\":1}"),
    )
    .await;

    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");

    // First run: the evaluator commits 4 batches of at most 2 records (a[0..2], a[2..4], a[4..5], b[5..7]), then
    // crashes on b[7..9]: the restart must resume in the middle of file b.
    let (tx, rx) = channel();
    let crashing = Evaluator::start(rx, &[], Some(4));
    let h = run_sources(s3_config(&state, &moto.endpoint), tx).await.unwrap();
    let first = crashing.join();
    assert!(h.stop().await.is_err(), "the input saw its evaluator go away");
    let first_ids = first.ids("aws_cloudtrail");
    assert_eq!(first_ids, ids(0..7), "committed before the crash");

    // Second run: the rest, once; then a file delivered while running.
    let (tx, rx) = channel();
    let eval = Evaluator::start(rx, &[], None);
    let h = run_sources(s3_config(&state, &moto.endpoint), tx).await.unwrap();
    eval.wait_for("files b and c", |s| s.ids("aws_cloudtrail").len() == 4)
        .await;
    moto.put(&format!("org-trail/{}", key("0915", "d")), trail_file(11..13))
        .await;
    let seen = eval.wait_for("file d", |s| s.ids("aws_cloudtrail").len() == 6).await;
    assert_eq!(seen.ids("aws_cloudtrail"), ids(7..13), "no duplicate, no gap");
    let m = h.metrics().input("aws_cloudtrail", "s3");
    assert_eq!(
        m.errors_total("input_too_large"),
        1,
        "the gzip bomb is refused and counted"
    );

    let mut all = first.alerts.clone();
    all.extend(seen.alerts.clone());
    let fired: Vec<&str> = all.iter().map(|(_, r, _)| r.as_str()).collect();
    for rule in [
        "Console Login Without MFA",
        "Console Root Login Without MFA",
        "CloudTrail Logging Disabled",
        "Delete Bucket Public Access Block",
        "Put Bucket Policy",
        "Delete Bucket Encryption",
    ] {
        assert!(fired.contains(&rule), "{rule} fired: {fired:?}");
    }
    let disabled = fired.iter().filter(|r| **r == "CloudTrail Logging Disabled").count();
    assert_eq!(disabled, 1, "each record evaluated once across the crash");
    h.stop().await.unwrap();
    drop(eval);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn directory_of_files_with_a_truncated_file_and_restart() {
    init_tracing();
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("trail");
    let day = logs.join("2024/05/14");
    std::fs::create_dir_all(&day).unwrap();
    std::fs::write(day.join("f1.json.gz"), trail_file(0..4)).unwrap();
    // Truncated JSON: the file ends inside the Records array.
    let whole = serde_json::to_vec(&serde_json::json!({ "Records": records()[4..8].to_vec() })).unwrap();
    std::fs::write(day.join("f2.json"), &whole[..whole.len() - 40]).unwrap();
    std::fs::write(
        day.join("f3.json"),
        serde_json::to_vec(&serde_json::json!({ "Records": records()[8..10].to_vec() })).unwrap(),
    )
    .unwrap();
    std::fs::write(day.join(".f4.json.tmp"), b"partial").unwrap();
    let cfg = |state: &std::path::Path| SourcesConfig {
        state_dir: state.to_path_buf(),
        aws_cloudtrail: Some(CloudTrailConfig {
            directory: Some(DirectoryConfig {
                path: logs.clone(),
                poll_interval_s: 1,
                max_file_bytes: 8 << 20,
            }),
            s3: None,
            sqs: None,
        }),
        ..SourcesConfig::default()
    };
    let state = dir.path().join("state");
    let (tx, rx) = channel();
    let eval = Evaluator::start(rx, &[], None);
    let h = run_sources(cfg(&state), tx).await.unwrap();
    let m = h.metrics().input("aws_cloudtrail", "directory");
    eval.wait_for("f3's records", |s| s.ids("aws_cloudtrail").ends_with(&ids(8..10)))
        .await;
    let seen = eval.snapshot().ids("aws_cloudtrail");
    assert!(seen.starts_with(&ids(0..4)), "{seen:?}");
    assert!(
        m.errors_total("malformed") + m.errors_total("unrecognized") >= 1,
        "the truncated file is reported"
    );
    h.stop().await.unwrap();

    // Restart with one more file: only it is read.
    std::fs::write(day.join("f5.json.gz"), trail_file(10..13)).unwrap();
    let (tx, rx) = channel();
    let eval2 = Evaluator::start(rx, &[], None);
    let h = run_sources(cfg(&state), tx).await.unwrap();
    eval2.wait_for("f5", |s| s.ids("aws_cloudtrail").len() >= 3).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(eval2.snapshot().ids("aws_cloudtrail"), ids(10..13));
    h.stop().await.unwrap();
}
