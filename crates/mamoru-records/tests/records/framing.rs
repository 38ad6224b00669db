//! Framing of every accepted layout, gzip, stdin-like readers, bad input and limits.

use mamoru_records::{Limits, Record, RecordError, RecordReader, RecordSource, Stats};
use std::io::{Cursor, Write};
use std::path::PathBuf;

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)
}

fn read_all(reader: RecordReader) -> (Vec<Record>, Vec<RecordError>, Stats) {
    let mut reader = reader;
    let mut records = Vec::new();
    let mut errors = Vec::new();
    for item in reader.by_ref() {
        match item {
            Ok(r) => records.push(r),
            Err(e) => errors.push(e),
        }
    }
    let stats = reader.stats();
    (records, errors, stats)
}

fn open(name: &str, source: RecordSource) -> (Vec<Record>, Vec<RecordError>, Stats) {
    read_all(RecordReader::open(data(name), source, Limits::default()).expect("open fixture"))
}

fn from_bytes(bytes: Vec<u8>, source: RecordSource, limits: Limits) -> (Vec<Record>, Vec<RecordError>, Stats) {
    read_all(RecordReader::from_reader("mem.json", Cursor::new(bytes), source, limits).expect("reader"))
}

fn str_at<'a>(r: &'a Record, key: &str) -> &'a str {
    r.json().get(key).and_then(|v| v.as_str()).unwrap_or("")
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

#[test]
fn k8s_event_list_items_become_records_with_their_own_raw_text_and_lines() {
    let (records, errors, stats) = open("k8s_eventlist.json", RecordSource::K8sAudit);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(records.len(), 3);
    assert_eq!(stats.records, 3);
    assert_eq!(
        stats.skipped_no_timestamp, 1,
        "the RequestReceived item has no stageTimestamp"
    );
    let ids: Vec<&str> = records.iter().map(|r| str_at(r, "auditID")).collect();
    assert_eq!(
        ids,
        [
            "3f4a2c1e-7b55-4d1a-9f0e-51c1a7d2b901",
            "b0f1d7a3-1f0a-4c39-8c0c-0a5f2d4c9e77",
            "e2c85f0d-3b17-49b8-a1d2-55f6e0a0c3aa"
        ]
    );
    // 2024-03-01T09:15:02.140321Z
    assert_eq!(records[0].ts_ns, 1_709_284_502_140_321_000);
    let text = std::fs::read(data("k8s_eventlist.json")).unwrap();
    for r in &records {
        // raw is the exact item text, found at its origin offset, on its origin line.
        let at = r.origin.offset as usize;
        assert_eq!(&text[at..at + r.raw().len()], r.raw());
        let line = 1 + text[..at].iter().filter(|&&b| b == b'\n').count() as u64;
        assert_eq!(r.origin.line, line);
        assert_eq!(serde_json::from_slice::<serde_json::Value>(r.raw()).unwrap(), r.value());
    }
    assert_eq!(records[0].origin.line, 6);
    assert!(records[0].origin.file.ends_with("k8s_eventlist.json"));
}

#[test]
fn k8s_ndjson_log_reports_non_events_by_line_and_keeps_going() {
    let (records, errors, stats) = open("k8s_audit.log", RecordSource::K8sAudit);
    assert_eq!(records.len(), 5);
    assert_eq!(
        records.iter().map(|r| r.origin.line).collect::<Vec<_>>(),
        [1, 2, 3, 5, 6]
    );
    assert_eq!(errors.len(), 1);
    assert_eq!(stats.errors, 1);
    let msg = errors[0].to_string();
    assert!(msg.contains("k8s_audit.log:4 (byte "), "{msg}");
    assert!(msg.contains("not a Kubernetes audit Event or EventList"), "{msg}");
}

#[test]
fn k8s_single_event_and_arrays_of_event_lists() {
    let event = r#"{"kind":"Event","auditID":"a1","stage":"ResponseComplete","stageTimestamp":"2024-01-01T00:00:00Z"}"#;
    let list = format!(r#"{{"kind":"EventList","items":[{event},{event}]}}"#);
    let (records, errors, _) = from_bytes(
        format!("[{list}, {event}]").into_bytes(),
        RecordSource::K8sAudit,
        Limits::default(),
    );
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(records.len(), 3);
    assert!(records.iter().all(|r| r.raw() == event.as_bytes()));
    let (records, _, _) = from_bytes(event.as_bytes().to_vec(), RecordSource::K8sAudit, Limits::default());
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].ts_ns, 1_704_067_200_000_000_000);
}

#[test]
fn cloudtrail_file_drops_insights_and_records_without_type_or_time() {
    let (records, errors, stats) = open(
        "cloudtrail_111122223333_us-east-1_20240301T0830Z.json",
        RecordSource::CloudTrail,
    );
    assert!(errors.is_empty(), "{errors:?}");
    let names: Vec<&str> = records.iter().map(|r| str_at(r, "eventName")).collect();
    assert_eq!(
        names,
        [
            "ConsoleLogin",
            "StopLogging",
            "PutBucketPolicy",
            "RunInstances",
            "GetObject",
            "AttachRolePolicy"
        ]
    );
    assert_eq!(stats.skipped_insight, 1);
    assert_eq!(stats.skipped_no_event_type, 1);
    assert_eq!(stats.skipped_no_timestamp, 1);
    assert_eq!(stats.skipped(), 3);
    assert_eq!(records[0].ts_ns, 1_709_280_001_000_000_000);
    // All records of a one-line file are on line 1, at increasing offsets.
    assert!(records.iter().all(|r| r.origin.line == 1));
    assert!(records.windows(2).all(|w| w[0].origin.offset < w[1].origin.offset));
}

#[test]
fn cloudtrail_records_as_ndjson_are_accepted() {
    let file = std::fs::read(data("cloudtrail_111122223333_us-east-1_20240301T0830Z.json")).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&file).unwrap();
    let mut ndjson = String::new();
    for r in v["Records"].as_array().unwrap() {
        ndjson.push_str(&serde_json::to_string(r).unwrap());
        ndjson.push('\n');
    }
    let (records, errors, stats) = from_bytes(ndjson.into_bytes(), RecordSource::CloudTrail, Limits::default());
    assert!(errors.is_empty());
    assert_eq!(records.len(), 6);
    assert_eq!(stats.skipped(), 3);
    assert_eq!(records[5].origin.line, 6);
}

#[test]
fn gzip_is_detected_and_offsets_count_decompressed_bytes() {
    let plain = std::fs::read(data("k8s_audit.log")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log.gz");
    std::fs::write(&path, gzip(&plain)).unwrap();
    let (records, errors, _) = read_all(RecordReader::open(&path, RecordSource::K8sAudit, Limits::default()).unwrap());
    let (plain_records, _, _) = open("k8s_audit.log", RecordSource::K8sAudit);
    assert_eq!(records.len(), plain_records.len());
    assert_eq!(errors.len(), 1);
    for (a, b) in records.iter().zip(&plain_records) {
        assert_eq!(a.raw(), b.raw());
        assert_eq!((a.origin.line, a.origin.offset), (b.origin.line, b.origin.offset));
    }
}

#[test]
fn concatenated_gzip_members_are_all_read() {
    let a = br#"{"kind":"Event","auditID":"m1","stageTimestamp":"2024-01-01T00:00:00Z"}
"#;
    let b = br#"{"kind":"Event","auditID":"m2","stageTimestamp":"2024-01-01T00:00:01Z"}
"#;
    let mut bytes = gzip(a);
    bytes.extend(gzip(b));
    let (records, errors, _) = from_bytes(bytes, RecordSource::K8sAudit, Limits::default());
    assert!(errors.is_empty());
    assert_eq!(
        records.iter().map(|r| str_at(r, "auditID")).collect::<Vec<_>>(),
        ["m1", "m2"]
    );
}

#[test]
fn okta_api_page_array() {
    let (records, errors, stats) = open("okta_logs.json", RecordSource::Okta);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(records.len(), 5);
    assert_eq!(stats.skipped_no_timestamp, 1);
    assert_eq!(records[0].ts_ns, 1_709_290_800_123_000_000);
    assert!(records.windows(2).all(|w| w[0].origin.line < w[1].origin.line));
}

#[test]
fn github_envelopes_get_webhook_type_injected_first() {
    let (records, errors, _) = open("github_webhooks.ndjson", RecordSource::Github);
    assert!(errors.is_empty(), "{errors:?}");
    let types: Vec<&str> = records.iter().map(|r| str_at(r, "webhook_type")).collect();
    assert_eq!(types, ["push", "ping", "member", "workflow_run", "repository"]);
    assert!(records[0]
        .raw()
        .starts_with(br#"{"webhook_type":"push","ref":"refs/heads/main""#));
    assert_eq!(records[0].ts_ns, 1_709_294_400_500_000_000);
    assert_eq!(records[1].ts_ns, 1_709_294_460_000_000_000);
    for r in &records {
        assert_eq!(serde_json::from_slice::<serde_json::Value>(r.raw()).unwrap(), r.value());
        assert!(r.value().get("headers").is_none());
    }
    // A payload without an envelope keeps its bytes; its time is the receipt time (now).
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    assert!(records[4].ts_ns >= before - 60_000_000_000);
}

#[test]
fn github_envelope_edge_cases() {
    let cases = [
        (
            r#"{"headers":{"X-GitHub-Event":["star"]},"body":{}}"#,
            Some(r#"{"webhook_type":"star"}"#),
        ),
        (
            r#"{"headers":{"X-GITHUB-EVENT":"fork"},"body":{"webhook_type":"old","a":1}}"#,
            Some(r#"{"webhook_type":"fork","a":1}"#),
        ),
        (
            r#"{"headers":{"Content-Type":"application/json"},"body":{"a":1}}"#,
            None,
        ),
        (r#"{"headers":{"X-GitHub-Event":"push"},"body":[1]}"#, None),
    ];
    for (input, want) in cases {
        let (records, errors, _) = from_bytes(input.as_bytes().to_vec(), RecordSource::Github, Limits::default());
        match want {
            Some(raw) => {
                assert!(errors.is_empty(), "{input}: {errors:?}");
                assert_eq!(String::from_utf8_lossy(records[0].raw()), raw);
            }
            None => {
                assert!(records.is_empty(), "{input}");
                assert_eq!(errors.len(), 1, "{input}");
            }
        }
    }
    let bad_time = r#"{"headers":{"X-GitHub-Event":"push"},"body":{},"received_at":"yesterday"}"#;
    let (records, errors, stats) = from_bytes(bad_time.as_bytes().to_vec(), RecordSource::Github, Limits::default());
    assert!(records.is_empty() && errors.is_empty());
    assert_eq!(stats.skipped_bad_timestamp, 1);
}

#[test]
fn gcp_array_ndjson_and_entries_page() {
    let (records, errors, _) = open("gcp_logentries.json", RecordSource::GcpAudit);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(records.len(), 9);
    // receiveTimestamp (the Pub/Sub receipt) wins over timestamp.
    assert_eq!(records[0].ts_ns, 1_709_298_001_204_153_571);
    let (records, errors, stats) = open("gcp_logentries.ndjson", RecordSource::GcpAudit);
    assert!(errors.is_empty());
    assert_eq!(records.len(), 3);
    assert_eq!(stats.skipped_no_timestamp, 1);
    let page = r#"{"entries":[{"logName":"l","timestamp":"2024-01-01T00:00:00Z"},{"logName":"l","timestamp":"2024-01-01T00:00:02Z"}],"nextPageToken":"t"}"#;
    let (records, errors, _) = from_bytes(page.as_bytes().to_vec(), RecordSource::GcpAudit, Limits::default());
    assert!(errors.is_empty());
    assert_eq!(records.len(), 2);
    assert_eq!(records[1].ts_ns, 1_704_067_202_000_000_000);
}

#[test]
fn stdin_like_reader_with_bom_crlf_and_blank_lines() {
    let input = b"\xEF\xBB\xBF{\"kind\":\"Event\",\"auditID\":\"x\",\"stageTimestamp\":\"2024-01-01T00:00:00Z\"}\r\n\r\n   \n{\"kind\":\"Event\",\"auditID\":\"y\",\"stageTimestamp\":\"2024-01-01T00:00:00Z\"}";
    let reader = RecordReader::from_reader(
        "<stdin>",
        Cursor::new(input.to_vec()),
        RecordSource::K8sAudit,
        Limits::default(),
    )
    .unwrap();
    assert_eq!(reader.file(), "<stdin>");
    let (records, errors, _) = read_all(reader);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(records.len(), 2);
    assert_eq!(records[1].origin.line, 4);
    assert_eq!(records[0].origin.offset, 3);
}

#[test]
fn malformed_lines_are_reported_with_line_and_offset_and_do_not_lose_neighbours() {
    let good = |id: &str| format!(r#"{{"kind":"Event","auditID":"{id}","stageTimestamp":"2024-01-01T00:00:00Z"}}"#);
    let lines = [
        good("a"),
        r#"{"kind":"Event","auditID":"trunc"#.to_string(),
        good("b"),
        r#"{"kind":"Event","auditID":"c",}"#.to_string(),
        "not json at all".to_string(),
        good("d"),
        r#"{"kind":"Event","auditID":"e""#.to_string(),
    ];
    let input = lines.join("\n");
    let (records, errors, stats) = from_bytes(input.clone().into_bytes(), RecordSource::K8sAudit, Limits::default());
    assert_eq!(
        records.iter().map(|r| str_at(r, "auditID")).collect::<Vec<_>>(),
        ["a", "b", "d"]
    );
    assert_eq!(stats.errors, 4);
    let line_offset = |n: usize| lines[..n - 1].iter().map(|l| l.len() + 1).sum::<usize>() as u64;
    let located: Vec<(u64, u64)> = errors
        .iter()
        .map(|e| match e {
            RecordError::Malformed { at, .. } => (at.line, at.offset),
            other => panic!("unexpected {other}"),
        })
        .collect();
    // Truncated line 2: reported at its start. Line 4: serde places the error at the trailing '}' (column 30).
    assert_eq!(located[0], (2, line_offset(2)));
    assert_eq!(located[1], (4, line_offset(4) + 30));
    assert_eq!(located[2], (5, line_offset(5)));
    assert_eq!(located[3], (7, line_offset(7)));
    assert!(errors[2].to_string().contains("mem.json:5 (byte "), "{}", errors[2]);
    assert!(
        errors[3].to_string().contains("input ends inside a JSON value"),
        "{}",
        errors[3]
    );
}

#[test]
fn malformed_item_inside_a_document_is_located_and_siblings_survive() {
    let input = "{\"kind\":\"EventList\",\"items\":[\n{\"kind\":\"Event\",\"auditID\":\"a\",\"stageTimestamp\":\"2024-01-01T00:00:00Z\"},\n{\"kind\":\"Event\",\"auditID\":01},\n{\"kind\":\"Event\",\"auditID\":\"c\",\"stageTimestamp\":\"2024-01-01T00:00:00Z\"}\n]}";
    let (records, errors, _) = from_bytes(input.as_bytes().to_vec(), RecordSource::K8sAudit, Limits::default());
    assert_eq!(
        records.iter().map(|r| str_at(r, "auditID")).collect::<Vec<_>>(),
        ["a", "c"]
    );
    assert_eq!(errors.len(), 1);
    match &errors[0] {
        RecordError::Malformed { at, .. } => {
            assert_eq!(at.line, 3);
            // serde flags the digit after the leading zero of `01`.
            assert_eq!(&input.as_bytes()[at.offset as usize - 1..at.offset as usize + 1], b"01");
        }
        other => panic!("{other}"),
    }
}

#[test]
fn record_and_document_size_limits() {
    let big = format!(
        r#"{{"kind":"Event","auditID":"big","stageTimestamp":"2024-01-01T00:00:00Z","pad":"{}"}}"#,
        "x".repeat(5000)
    );
    let small = r#"{"kind":"Event","auditID":"s","stageTimestamp":"2024-01-01T00:00:00Z"}"#;
    let limits = Limits {
        max_record_bytes: 1000,
        max_document_bytes: 100_000,
        ..Limits::default()
    };
    let (records, errors, _) = from_bytes(
        format!("{small}\n{big}\n{small}\n").into_bytes(),
        RecordSource::K8sAudit,
        limits,
    );
    assert_eq!(records.len(), 2);
    assert!(
        matches!(&errors[..], [RecordError::TooLarge { what: "record", size, limit: 1000, at }] if *size == big.len() as u64 && at.line == 2)
    );

    // A one-line document over the document limit is skipped; the next line is read.
    let limits = Limits {
        max_record_bytes: 1 << 20,
        max_document_bytes: 2000,
        ..Limits::default()
    };
    let (records, errors, _) = from_bytes(
        format!("{small}\n{big}\n{small}\n").into_bytes(),
        RecordSource::K8sAudit,
        limits,
    );
    assert_eq!(records.len(), 2);
    assert!(matches!(&errors[..], [RecordError::TooLarge { what: "JSON document", at, .. }] if at.line == 2));
}

#[test]
fn oversized_multiline_document_stops_the_stream_after_earlier_records() {
    let small = "{\"kind\":\"Event\",\n\"auditID\":\"s\",\"stageTimestamp\":\"2024-01-01T00:00:00Z\"}\n";
    let big = format!("{{\"kind\":\"EventList\",\n\"items\":[\"{}\"]}}", "y".repeat(400_000));
    let limits = Limits {
        max_document_bytes: 100_000,
        ..Limits::default()
    };
    let (records, errors, _) = from_bytes(
        format!("{small}{big}{small}").into_bytes(),
        RecordSource::K8sAudit,
        limits,
    );
    assert_eq!(records.len(), 1);
    assert!(matches!(
        &errors[..],
        [RecordError::TooLarge {
            what: "JSON document",
            ..
        }]
    ));
}

#[test]
fn gzip_bomb_is_stopped_at_the_input_limit() {
    // 64 MiB of spaces compresses to ~64 KiB.
    let mut plain = br#"{"kind":"Event","auditID":"first","stageTimestamp":"2024-01-01T00:00:00Z"}"#.to_vec();
    plain.push(b'\n');
    plain.resize(plain.len() + (64 << 20), b' ');
    let bomb = gzip(&plain);
    assert!(bomb.len() < 1 << 20);
    let limits = Limits {
        max_input_bytes: 4 << 20,
        ..Limits::default()
    };
    let (records, errors, _) = from_bytes(bomb, RecordSource::K8sAudit, limits);
    assert_eq!(records.len(), 1, "the record before the bomb is kept");
    assert!(matches!(&errors[..], [RecordError::InputTooLarge { limit, .. }] if *limit == 4 << 20));
}

#[test]
fn truncated_gzip_is_a_read_error_after_the_records_it_held() {
    let plain = std::fs::read(data("k8s_audit.log")).unwrap();
    let gz = gzip(&plain);
    // Cut into the trailer (CRC and size): all data decompresses, then the stream is short.
    let cut = gz[..gz.len() - 4].to_vec();
    let (records, errors, _) = from_bytes(cut, RecordSource::K8sAudit, Limits::default());
    assert_eq!(records.len(), 5);
    assert!(
        errors.iter().any(|e| matches!(e, RecordError::Read { .. })),
        "{errors:?}"
    );
}

#[test]
fn open_errors_name_the_file_and_sources_parse_by_name() {
    let err = RecordReader::open("/nonexistent/audit.log", RecordSource::K8sAudit, Limits::default()).unwrap_err();
    assert!(
        err.to_string().starts_with("/nonexistent/audit.log: cannot open"),
        "{err}"
    );
    for s in RecordSource::ALL {
        assert_eq!(RecordSource::from_name(s.name()), Some(s));
    }
    assert_eq!(RecordSource::from_name("syscall"), None);
}

#[test]
fn records_spanning_read_chunks_are_framed_whole() {
    // Records larger than the reader's chunk, with escapes, split at arbitrary points.
    let pad = "ab\\\"c\\\\".repeat(70_000);
    let mut input = String::new();
    for i in 0..3 {
        input.push_str(&format!(
            r#"{{"kind":"Event","auditID":"r{i}","stageTimestamp":"2024-01-01T00:00:00Z","pad":"{pad}"}}"#
        ));
        input.push('\n');
    }
    let (records, errors, _) = from_bytes(input.into_bytes(), RecordSource::K8sAudit, Limits::default());
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(records.len(), 3);
    assert_eq!(records[2].origin.line, 3);
}
