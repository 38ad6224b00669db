//! The configuration example of docs/SOURCES.md parses (as YAML, the way the `mamoru run -c` file is read) into
//! `SourcesConfig` with the documented values.

use mamoru_inputs::SourcesConfig;

#[derive(serde::Deserialize)]
struct File {
    sources: SourcesConfig,
}

#[test]
fn documented_configuration_parses() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/SOURCES.md")).unwrap();
    let section = doc.split("## Configuration").nth(1).expect("configuration section");
    let yaml = section
        .split("```yaml")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("a yaml block");
    let file: File = serde_saphyr::from_str(yaml).unwrap_or_else(|e| panic!("docs YAML: {e}\n{yaml}"));
    let cfg = file.sources;
    let w = cfg
        .k8s_audit
        .as_ref()
        .and_then(|k| k.webhook.as_ref())
        .expect("k8s webhook");
    assert_eq!(w.endpoint.listen, "0.0.0.0:9765");
    assert_eq!(w.max_body_bytes, 12_582_912);
    assert!(w
        .endpoint
        .tls
        .as_ref()
        .and_then(|t| t.client_ca_file.as_ref())
        .is_some());
    assert_eq!(cfg.k8s_audit.as_ref().unwrap().tail.len(), 1);
    let s3 = cfg.aws_cloudtrail.as_ref().and_then(|c| c.s3.as_ref()).expect("s3");
    assert_eq!(s3.prefix, "AWSLogs/111122223333/CloudTrail/us-east-1/");
    let sqs = cfg.aws_cloudtrail.as_ref().and_then(|c| c.sqs.as_ref()).expect("sqs");
    assert_eq!(
        sqs.queue_url,
        "https://sqs.us-east-1.amazonaws.com/111122223333/cloudtrail-objects"
    );
    assert_eq!((sqs.wait_time_s, sqs.visibility_timeout_s), (20, Some(300)));
    assert_eq!(cfg.okta.as_ref().unwrap().limit, 1000);
    assert_eq!(cfg.github.as_ref().unwrap().api_url, "https://api.github.com");
    let push = cfg
        .gcp_auditlog
        .as_ref()
        .and_then(|g| g.push.as_ref())
        .expect("gcp push");
    assert_eq!(push.audience.as_deref(), Some("https://mamoru.example.com/gcp-audit"));
}
