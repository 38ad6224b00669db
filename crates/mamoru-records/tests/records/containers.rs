//! Container documents (CloudTrail files, audit `EventList`s) are framed from one parse of the whole document; the
//! records, their raw text, lines and offsets must be exactly what the input holds, across read boundaries, with
//! whitespace and documents around them, and documents the fast path declines must still frame as before.

use mamoru_records::{Limits, Record, RecordError, RecordReader, RecordSource};
use serde_json::json;
use std::io::Read;

/// A reader that hands out at most `step` bytes per read (documents then span many reads).
struct Trickle {
    data: Vec<u8>,
    at: usize,
    step: usize,
}

impl Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.step.min(buf.len()).min(self.data.len() - self.at);
        buf[..n].copy_from_slice(&self.data[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

fn frame(input: &[u8], source: RecordSource, step: usize) -> (Vec<Record>, Vec<RecordError>) {
    let reader = Trickle {
        data: input.to_vec(),
        at: 0,
        step,
    };
    let mut records = Vec::new();
    let mut errors = Vec::new();
    for item in RecordReader::from_reader("mem.json", reader, source, Limits::default()).unwrap() {
        match item {
            Ok(r) => records.push(r),
            Err(e) => errors.push(e),
        }
    }
    (records, errors)
}

/// Each record's raw text is the input at its offset, and its line is the input's line there.
fn assert_placed(input: &[u8], records: &[Record]) {
    for r in records {
        let at = r.origin.offset as usize;
        assert_eq!(&input[at..at + r.raw().len()], r.raw(), "raw text at offset {at}");
        let line = 1 + input[..at].iter().filter(|&&b| b == b'\n').count() as u64;
        assert_eq!(r.origin.line, line, "line of the record at offset {at}");
    }
}

fn trail(ids: &[&str]) -> serde_json::Value {
    let records: Vec<_> = ids
        .iter()
        .map(|id| {
            json!({"eventVersion": "1.08", "eventTime": "2024-05-14T09:00:00Z", "eventType": "AwsApiCall",
            "eventName": "GetObject", "eventID": id, "requestParameters": {"key": "a\"b\n"}})
        })
        .collect();
    json!({ "Records": records })
}

fn ids(records: &[Record], key: &str) -> Vec<String> {
    records
        .iter()
        .map(|r| r.json().get(key).and_then(|v| v.as_str()).unwrap_or("").to_string())
        .collect()
}

#[test]
fn cloudtrail_documents_frame_with_exact_offsets_across_reads() {
    let mut input = b"\n \n".to_vec();
    input.extend_from_slice(
        serde_json::to_string_pretty(&trail(&["a", "b", "c"]))
            .unwrap()
            .as_bytes(),
    );
    input.extend_from_slice(b"\n\n");
    input.extend_from_slice(trail(&["d", "e"]).to_string().as_bytes());
    input.push(b'\n');
    for step in [1, 7, 64, 1 << 20] {
        let (records, errors) = frame(&input, RecordSource::CloudTrail, step);
        assert!(errors.is_empty(), "step {step}: {errors:?}");
        assert_eq!(ids(&records, "eventID"), ["a", "b", "c", "d", "e"], "step {step}");
        assert_placed(&input, &records);
    }
}

#[test]
fn declined_documents_still_frame_their_records_and_report_the_rest() {
    // A non-object element: the objects around it are records, the element an error.
    let input = br#"{"Records":[{"eventTime":"2024-05-14T09:00:00Z","eventType":"AwsApiCall","eventID":"x"},5,
{"eventTime":"2024-05-14T09:00:01Z","eventType":"AwsApiCall","eventID":"y"}]}"#;
    let (records, errors) = frame(input, RecordSource::CloudTrail, 1 << 20);
    assert_eq!(ids(&records, "eventID"), ["x", "y"]);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_placed(input, &records);
    // Invalid JSON after the array: the records before it still come, the document's error is reported.
    let input =
        br#"{"Records":[{"eventTime":"2024-05-14T09:00:00Z","eventType":"AwsApiCall","eventID":"x"}], "n": tru}"#;
    let (records, _errors) = frame(input, RecordSource::CloudTrail, 3);
    assert_eq!(ids(&records, "eventID"), ["x"]);
    assert_placed(input, &records);
}

#[test]
fn event_lists_frame_with_exact_offsets_and_kind_anywhere() {
    let event = |id: &str| {
        json!({"kind": "Event", "apiVersion": "audit.k8s.io/v1", "auditID": id, "stage": "ResponseComplete",
            "stageTimestamp": "2024-05-14T09:00:00.000000Z", "verb": "get"})
    };
    let first = json!({"kind": "EventList", "apiVersion": "audit.k8s.io/v1", "items": [event("1"), event("2")]});
    // `kind` after `items`: recognised by the general path.
    let second = format!("{{\"items\":[{}],\"kind\":\"EventList\"}}", event("3"));
    let mut input = serde_json::to_string_pretty(&first).unwrap().into_bytes();
    input.push(b'\n');
    input.extend_from_slice(second.as_bytes());
    for step in [5, 1 << 20] {
        let (records, errors) = frame(&input, RecordSource::K8sAudit, step);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(ids(&records, "auditID"), ["1", "2", "3"]);
        assert_placed(&input, &records);
    }
}
