//! CloudTrail files driven by S3 event notifications on an SQS queue: long-poll ReceiveMessage (SQS's JSON
//! protocol, SigV4-signed by hand), read every object a message names (S3 `ObjectCreated:*` events, also inside an
//! SNS envelope, and CloudTrail's own SNS notifications), evaluate its records, and only then DeleteMessage. A
//! message whose object cannot be read is not deleted: it returns after its visibility timeout (at-least-once);
//! objects already evaluated are remembered, so a redelivered message does not evaluate them twice.

use crate::batch::{deliver, BatchSender};
use crate::config::SqsConfig;
use crate::error::{InputError, Result};
use crate::frame::{newest_ts, stream_records};
use crate::metrics::SourceMetrics;
use crate::s3::{host_of, region_or_default, sign_request, CredentialChain, S3Objects, SignInput};
use mamoru_records::{Limits, RecordSource};
use reqwest::{Client, Url};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::{HashSet, VecDeque};
use std::time::Duration;
use tokio::sync::watch;

/// How many evaluated objects are remembered to recognise a redelivered message.
const REMEMBERED_OBJECTS: usize = 8192;
/// Pause after a failed ReceiveMessage before trying again.
const RECEIVE_BACKOFF: Duration = Duration::from_secs(5);

/// One object a notification names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRef {
    pub bucket: String,
    /// The key, URL-decoded (S3 event notifications encode it like a form value).
    pub key: String,
    /// What tells two writes of the same key apart: the event's sequencer, else its ETag.
    pub version: String,
}

impl ObjectRef {
    fn identity(&self) -> String {
        format!("{}/{}#{}", self.bucket, self.key, self.version)
    }
}

/// What a message asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Notification {
    /// Objects to read (possibly none: other event types, S3's test event).
    Objects(Vec<ObjectRef>),
}

/// Decodes a key of an S3 event notification (`+` is a space, `%XX` a byte).
pub fn decode_key(raw: &str) -> Option<String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = raw.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

fn text<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(v, |v, k| v.get(k))?.as_str()
}

/// Parses a message body: an S3 event notification (`{"Records":[{"eventName":"ObjectCreated:Put","s3":...}]}`),
/// S3's `s3:TestEvent`, CloudTrail's SNS notification (`{"s3Bucket":..,"s3ObjectKey":[..]}`), each either raw or
/// as the `Message` of an SNS envelope. Errors say what is wrong with the body.
pub fn parse_notification(body: &str) -> std::result::Result<Notification, String> {
    let doc: Value = serde_json::from_str(body).map_err(|e| format!("not JSON: {e}"))?;
    let doc = match (text(&doc, &["Type"]), text(&doc, &["Message"])) {
        (Some("Notification"), Some(inner)) => {
            serde_json::from_str(inner).map_err(|e| format!("SNS Message is not JSON: {e}"))?
        }
        _ => doc,
    };
    if text(&doc, &["Event"]) == Some("s3:TestEvent") {
        return Ok(Notification::Objects(Vec::new()));
    }
    if let (Some(bucket), Some(keys)) = (text(&doc, &["s3Bucket"]), doc.get("s3ObjectKey")) {
        // CloudTrail's own notification: keys are plain (not URL-encoded) and written once.
        let keys = keys.as_array().ok_or("s3ObjectKey is not an array")?;
        let objects = keys
            .iter()
            .map(|k| {
                k.as_str().map(|key| ObjectRef {
                    bucket: bucket.to_string(),
                    key: key.to_string(),
                    version: String::new(),
                })
            })
            .collect::<Option<Vec<_>>>()
            .ok_or("s3ObjectKey holds a non-string")?;
        return Ok(Notification::Objects(objects));
    }
    let records = doc
        .get("Records")
        .and_then(Value::as_array)
        .ok_or("neither an S3 event notification nor a CloudTrail notification")?;
    let mut objects = Vec::new();
    for (i, r) in records.iter().enumerate() {
        let name = text(r, &["eventName"]).ok_or_else(|| format!("Records[{i}] has no eventName"))?;
        if !name.starts_with("ObjectCreated:") {
            continue;
        }
        let bucket = text(r, &["s3", "bucket", "name"]).ok_or_else(|| format!("Records[{i}] has no s3.bucket.name"))?;
        let raw_key = text(r, &["s3", "object", "key"]).ok_or_else(|| format!("Records[{i}] has no s3.object.key"))?;
        let key = decode_key(raw_key).ok_or_else(|| format!("Records[{i}]: badly encoded key {raw_key:?}"))?;
        let version = text(r, &["s3", "object", "sequencer"])
            .or_else(|| text(r, &["s3", "object", "eTag"]))
            .unwrap_or_default();
        objects.push(ObjectRef {
            bucket: bucket.to_string(),
            key,
            version: version.to_string(),
        });
    }
    Ok(Notification::Objects(objects))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Message {
    message_id: String,
    receipt_handle: String,
    #[serde(default)]
    body: String,
}

#[derive(Debug, Deserialize)]
struct ReceiveAnswer {
    #[serde(rename = "Messages", default)]
    messages: Vec<Message>,
}

/// Objects evaluated recently (bounded, oldest forgotten first).
#[derive(Default)]
struct Remembered {
    order: VecDeque<String>,
    set: HashSet<String>,
}

impl Remembered {
    fn contains(&self, id: &str) -> bool {
        self.set.contains(id)
    }

    fn insert(&mut self, id: String) {
        if self.set.insert(id.clone()) {
            self.order.push_back(id);
        }
        while self.order.len() > REMEMBERED_OBJECTS {
            if let Some(old) = self.order.pop_front() {
                self.set.remove(&old);
            }
        }
    }
}

/// An SQS queue client speaking the JSON protocol (`X-Amz-Target: AmazonSQS.<Action>`).
struct Queue {
    url: String,
    endpoint: Url,
    region: String,
    client: Client,
    creds: CredentialChain,
}

impl Queue {
    async fn call(&self, action: &str, mut body: Value) -> Result<Value> {
        body["QueueUrl"] = json!(self.url);
        let payload = serde_json::to_vec(&body).map_err(|e| InputError::Http(format!("SQS {action}: {e}")))?;
        let host = host_of(&self.endpoint)?;
        let extra = [
            ("content-type".to_string(), "application/x-amz-json-1.0".to_string()),
            ("x-amz-target".to_string(), format!("AmazonSQS.{action}")),
        ];
        let creds = self.creds.get().await?;
        let headers = sign_request(
            &SignInput {
                service: "sqs",
                region: &self.region,
                method: "POST",
                host: &host,
                path: self.endpoint.path(),
                query: &[],
                headers: &extra,
                payload: &payload,
            },
            &creds,
            crate::time::now_secs(),
        );
        let mut req = self.client.post(self.endpoint.clone()).body(payload);
        for (k, v) in headers {
            req = req.header(k, v);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| InputError::Http(format!("SQS {action}: {e}")))?;
        let status = resp.status();
        let text = resp
            .text()
            .await
            .map_err(|e| InputError::Http(format!("SQS {action}: {e}")))?;
        if !status.is_success() {
            return Err(InputError::Http(format!(
                "SQS {action}: {status}: {}",
                text.chars().take(300).collect::<String>()
            )));
        }
        if text.trim().is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&text).map_err(|e| InputError::Http(format!("SQS {action} answer: {e}")))
    }

    async fn receive(&self, cfg: &SqsConfig) -> Result<Vec<Message>> {
        let mut body = json!({
            "MaxNumberOfMessages": cfg.max_messages,
            "WaitTimeSeconds": cfg.wait_time_s,
        });
        if let Some(v) = cfg.visibility_timeout_s {
            body["VisibilityTimeout"] = json!(v);
        }
        let answer = self.call("ReceiveMessage", body).await?;
        if answer.is_null() {
            return Ok(Vec::new());
        }
        let answer: ReceiveAnswer =
            serde_json::from_value(answer).map_err(|e| InputError::Http(format!("SQS ReceiveMessage answer: {e}")))?;
        Ok(answer.messages)
    }

    async fn delete(&self, receipt_handle: &str) -> Result<()> {
        self.call("DeleteMessage", json!({ "ReceiptHandle": receipt_handle }))
            .await
            .map(drop)
    }
}

/// The region in a queue URL's `sqs.<region>.amazonaws.com` host.
fn region_of_queue(url: &Url) -> Option<String> {
    let host = url.host_str()?;
    let rest = host.strip_prefix("sqs.")?;
    let region = rest.split('.').next()?;
    (!region.is_empty() && rest.contains(".amazonaws.")).then(|| region.to_string())
}

pub(crate) struct SqsInput {
    cfg: SqsConfig,
    queue: Queue,
    objects: S3Objects,
    pub source: RecordSource,
    pub limits: Limits,
    pub metrics: SourceMetrics,
    pub batch_records: usize,
}

/// Whether a message may be deleted.
enum Outcome {
    Done,
    /// An object could not be read: leave the message for redelivery.
    Retry,
    /// Shutdown came mid-message.
    Stopped,
}

impl SqsInput {
    pub fn new(
        cfg: SqsConfig,
        limits: Limits,
        metrics: SourceMetrics,
        batch_records: usize,
        client: Client,
    ) -> Result<SqsInput> {
        let url = Url::parse(&cfg.queue_url)
            .map_err(|e| InputError::Config(format!("aws_cloudtrail.sqs.queue_url {}: {e}", cfg.queue_url)))?;
        let region = match &cfg.region {
            Some(r) => r.clone(),
            None => region_of_queue(&url).unwrap_or_else(|| region_or_default(None)),
        };
        // The JSON protocol posts to the service endpoint; the queue is named in the body.
        let mut endpoint = url.clone();
        endpoint.set_path("/");
        endpoint.set_query(None);
        let chain = || CredentialChain::new(cfg.credentials.clone(), cfg.profile.clone(), cfg.imds, client.clone());
        let queue = Queue {
            url: cfg.queue_url.clone(),
            endpoint,
            region: region.clone(),
            client: client.clone(),
            creds: chain(),
        };
        let objects = S3Objects::new(cfg.s3_endpoint.clone(), region, cfg.max_object_bytes, chain())?;
        Ok(SqsInput {
            cfg,
            queue,
            objects,
            source: RecordSource::CloudTrail,
            limits,
            metrics,
            batch_records,
        })
    }

    pub async fn run(self, sink: BatchSender, mut shutdown: watch::Receiver<bool>) -> Result<()> {
        let mut remembered = Remembered::default();
        loop {
            if *shutdown.borrow() {
                return Ok(());
            }
            let received = tokio::select! {
                r = self.queue.receive(&self.cfg) => r,
                _ = shutdown.changed() => return Ok(()),
            };
            let messages = match received {
                Ok(m) => m,
                Err(e) => {
                    self.metrics.error("receive");
                    tracing::warn!(source = %self.source, queue = %self.cfg.queue_url, error = %e,
                        "ReceiveMessage failed; retrying");
                    tokio::select! {
                        _ = tokio::time::sleep(RECEIVE_BACKOFF) => continue,
                        _ = shutdown.changed() => return Ok(()),
                    }
                }
            };
            for m in messages {
                match self.message(&m, &sink, &shutdown, &mut remembered).await? {
                    Outcome::Done => self.delete(&m).await,
                    Outcome::Retry => {}
                    // Not deleted: the queue hands the message out again after its visibility timeout.
                    Outcome::Stopped => return Ok(()),
                }
            }
        }
    }

    async fn delete(&self, m: &Message) {
        if let Err(e) = self.queue.delete(&m.receipt_handle).await {
            // The message comes back; its objects are remembered, so they are not evaluated again.
            self.metrics.error("delete");
            tracing::warn!(source = %self.source, message = %m.message_id, error = %e, "DeleteMessage failed");
        }
    }

    async fn message(
        &self,
        m: &Message,
        sink: &BatchSender,
        shutdown: &watch::Receiver<bool>,
        remembered: &mut Remembered,
    ) -> Result<Outcome> {
        let objects = match parse_notification(&m.body) {
            Ok(Notification::Objects(o)) => o,
            Err(why) => {
                // Left on the queue: its redrive policy moves it to the dead-letter queue.
                self.metrics.error("message");
                tracing::warn!(source = %self.source, message = %m.message_id, error = %why,
                    "not an S3 event notification; left on the queue");
                return Ok(Outcome::Retry);
            }
        };
        let mut outcome = Outcome::Done;
        for object in objects {
            if !object.key.starts_with(&self.cfg.prefix)
                || object.key.contains("/CloudTrail-Digest/")
                || remembered.contains(&object.identity())
            {
                continue;
            }
            if *shutdown.borrow() {
                return Ok(Outcome::Stopped);
            }
            let name = format!("s3://{}/{}", object.bucket, object.key);
            let bytes = match self.objects.get(&object.bucket, &object.key).await {
                Ok(b) => b,
                Err(e) => {
                    self.metrics.error("open");
                    tracing::warn!(source = %self.source, file = %name, message = %m.message_id, error = %e,
                        "cannot read the object; the message stays on the queue for redelivery");
                    outcome = Outcome::Retry;
                    continue;
                }
            };
            if !self.evaluate(name, bytes, sink, shutdown).await? {
                return Ok(Outcome::Stopped);
            }
            remembered.insert(object.identity());
        }
        Ok(outcome)
    }

    /// Streams one object's records to the evaluator and waits for each batch's commit; false on shutdown.
    async fn evaluate(
        &self,
        name: String,
        bytes: Vec<u8>,
        sink: &BatchSender,
        shutdown: &watch::Receiver<bool>,
    ) -> Result<bool> {
        let mut chunks = stream_records(
            name,
            Box::new(std::io::Cursor::new(bytes)),
            self.source,
            self.limits,
            0,
            self.batch_records,
            self.metrics.clone(),
        );
        while let Some(chunk) = chunks.recv().await {
            let (n, newest) = (chunk.records.len(), newest_ts(&chunk.records));
            deliver(sink, self.source, chunk.records).await?;
            self.metrics.committed(n, newest);
            if *shutdown.borrow() {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(name: &str, key: &str) -> Value {
        json!({"eventVersion": "2.1", "eventSource": "aws:s3", "eventName": name,
            "s3": {"bucket": {"name": "trail"}, "object": {"key": key, "size": 10, "eTag": "e1", "sequencer": "0A1"}}})
    }

    #[test]
    fn reads_s3_events_raw_and_in_an_sns_envelope() {
        let body = json!({"Records": [event("ObjectCreated:Put", "AWSLogs/1/a+b%2Bc.json.gz"),
            event("ObjectRemoved:Delete", "gone.json.gz")]})
        .to_string();
        let want = Notification::Objects(vec![ObjectRef {
            bucket: "trail".into(),
            key: "AWSLogs/1/a b+c.json.gz".into(),
            version: "0A1".into(),
        }]);
        assert_eq!(parse_notification(&body).unwrap(), want);
        let sns = json!({"Type": "Notification", "MessageId": "m", "TopicArn": "arn:aws:sns:us-east-1:1:t",
            "Message": body})
        .to_string();
        assert_eq!(parse_notification(&sns).unwrap(), want);
    }

    #[test]
    fn reads_cloudtrail_notifications_and_test_events_and_rejects_others() {
        let ct = json!({"s3Bucket": "trail", "s3ObjectKey": ["k1.json.gz", "k2.json.gz"]}).to_string();
        let Notification::Objects(o) = parse_notification(&ct).unwrap();
        assert_eq!(
            o.iter().map(|o| o.key.as_str()).collect::<Vec<_>>(),
            ["k1.json.gz", "k2.json.gz"]
        );
        let test = json!({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "trail"}).to_string();
        assert_eq!(parse_notification(&test).unwrap(), Notification::Objects(Vec::new()));
        assert!(parse_notification("{\"hello\": 1}").is_err());
        assert!(parse_notification("not json").is_err());
        let bad_key = json!({"Records": [event("ObjectCreated:Put", "a%zz")]}).to_string();
        assert!(parse_notification(&bad_key).unwrap_err().contains("badly encoded key"));
    }

    #[test]
    fn queue_region_and_remembered_objects() {
        let url = Url::parse("https://sqs.eu-west-1.amazonaws.com/1/q").unwrap();
        assert_eq!(region_of_queue(&url).as_deref(), Some("eu-west-1"));
        assert_eq!(region_of_queue(&Url::parse("http://127.0.0.1:5000/1/q").unwrap()), None);
        let mut r = Remembered::default();
        for i in 0..REMEMBERED_OBJECTS + 1 {
            r.insert(i.to_string());
        }
        assert!(!r.contains("0") && r.contains("1") && r.contains(&REMEMBERED_OBJECTS.to_string()));
    }
}
