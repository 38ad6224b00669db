//! okta end to end: a local System Log API serving recorded LogEvent pages with Okta's paging (`Link: rel="next"`
//! with `after`) and rate-limit headers; MFA push denials fire a rule; a restart continues at the persisted link.

use crate::common;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use common::*;
use mamoru_inputs::{run_sources, OktaConfig, SourcesConfig};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

const TOKEN: &str = "00okta-test-token";
const RULES: &[(&str, &str)] = &[(
    "okta_test_rules.yaml",
    r#"
- rule: Okta MFA Push Denied
  desc: A user denied an Okta Verify push (MFA fatigue attempts show as bursts of these).
  condition: okta.evt.type = "user.mfa.okta_verify.deny_push"
  output: "MFA push denied (user=%okta.actor.alternateid ip=%okta.client.ip org=%okta.org)"
  priority: WARNING
  source: okta
"#,
)];

#[derive(Default)]
struct Api {
    events: Vec<Value>,
    requests: Vec<String>,
    served: usize,
}

type Shared = Arc<Mutex<Api>>;

async fn logs(State(api): State<Shared>, Query(q): Query<HashMap<String, String>>, headers: HeaderMap) -> Response {
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(&format!("SSWS {TOKEN}")) {
        return (StatusCode::UNAUTHORIZED, "{\"errorCode\":\"E0000011\"}").into_response();
    }
    let host = headers
        .get("host")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let mut api = api.lock().unwrap();
    let mut query: Vec<_> = q.iter().map(|(k, v)| format!("{k}={v}")).collect();
    query.sort();
    api.requests.push(query.join("&"));
    api.served += 1;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    // The third request is rate limited: the poller must wait for the reset and retry the same link.
    if api.served == 3 {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [
                ("x-rate-limit-limit", "60".to_string()),
                ("x-rate-limit-remaining", "0".to_string()),
                ("x-rate-limit-reset", (now + 1).to_string()),
            ],
            "{\"errorCode\":\"E0000047\"}",
        )
            .into_response();
    }
    let limit: usize = q.get("limit").and_then(|l| l.parse().ok()).unwrap_or(1000);
    let start: usize = q.get("after").and_then(|a| a.parse().ok()).unwrap_or(0);
    let page: Vec<Value> = api.events.iter().skip(start).take(limit).cloned().collect();
    let next = start + page.len();
    let link_self = format!("<http://{host}/api/v1/logs?{}>; rel=\"self\"", query.join("&"));
    let link_next = format!("<http://{host}/api/v1/logs?limit={limit}&after={next}>; rel=\"next\"");
    // Remaining drops to 1 on the second page: below the configured minimum, so the poller waits for the reset.
    let remaining = if api.served == 2 { 1 } else { 50 };
    let mut resp = (StatusCode::OK, serde_json::to_string(&page).unwrap()).into_response();
    let h = resp.headers_mut();
    h.insert("content-type", "application/json".parse().unwrap());
    h.append("link", link_self.parse().unwrap());
    h.append("link", link_next.parse().unwrap());
    h.insert("x-rate-limit-limit", "60".parse().unwrap());
    h.insert("x-rate-limit-remaining", remaining.to_string().parse().unwrap());
    h.insert("x-rate-limit-reset", (now + 1).to_string().parse().unwrap());
    resp
}

async fn serve(api: Shared) -> String {
    let app = axum::Router::new()
        .route("/api/v1/logs", axum::routing::get(logs))
        .with_state(api);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum_serve(listener, app).await;
    });
    format!("http://{addr}")
}

/// A minimal HTTP/1 server loop (axum's `serve` is not enabled in this workspace's feature set).
async fn axum_serve(listener: tokio::net::TcpListener, app: axum::Router) -> std::io::Result<()> {
    loop {
        let (stream, _) = listener.accept().await?;
        let app = app.clone();
        tokio::spawn(async move {
            let svc = hyper_util::service::TowerToHyperService::new(app);
            let _ = hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new())
                .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                .await;
        });
    }
}

fn config(state: &std::path::Path, url: &str) -> SourcesConfig {
    SourcesConfig {
        state_dir: state.to_path_buf(),
        okta: Some(OktaConfig {
            url: url.into(),
            organization: "corp".into(),
            api_token: Some(TOKEN.into()),
            api_token_env: None,
            poll_interval_s: 1,
            limit: 2,
            initial_lookback_s: 300,
            min_rate_limit_remaining: 2,
        }),
        ..SourcesConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_with_after_cursor_rate_limits_and_resumes() {
    init_tracing();
    let recorded: Vec<Value> =
        serde_json::from_slice(&read("crates/mamoru-records/tests/data/okta_logs.json")).unwrap();
    let good: Vec<String> = recorded
        .iter()
        .filter(|e| e.get("published").is_some())
        .map(|e| e["uuid"].as_str().unwrap().to_string())
        .collect();
    let api: Shared = Arc::new(Mutex::new(Api {
        events: recorded.clone(),
        ..Api::default()
    }));
    let url = serve(api.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");

    let (tx, rx) = channel();
    let eval = Evaluator::start(rx, RULES, None);
    let h = run_sources(config(&state, &url), tx).await.unwrap();
    let seen = eval
        .wait_for("every recorded event", |s| s.ids("okta").len() == good.len())
        .await;
    assert_eq!(seen.ids("okta"), good);
    assert_eq!(
        seen.alert_messages("Okta MFA Push Denied").len(),
        3,
        "{:?}",
        seen.alerts
    );
    // Wait until the poller is past the end (an empty page was served), then stop.
    eventually("an empty page polled", || {
        api.lock()
            .unwrap()
            .requests
            .iter()
            .any(|r| r.contains(&format!("after={}", recorded.len())))
    })
    .await;
    h.stop().await.unwrap();
    {
        let api = api.lock().unwrap();
        assert!(
            api.requests[0].contains("since=") && api.requests[0].contains("sortOrder=ASCENDING"),
            "{:?}",
            api.requests
        );
        assert!(api.requests[1].contains("after=2"), "{:?}", api.requests);
        assert!(
            api.requests[2].contains("after=4") && api.requests[3].contains("after=4"),
            "429 retried: {:?}",
            api.requests
        );
    }

    // Two events arrive while stopped; the restart asks for them with the persisted cursor, not `since`.
    let mut new_events = Vec::new();
    for (i, e) in recorded
        .iter()
        .filter(|e| e.get("published").is_some())
        .take(2)
        .enumerate()
    {
        let mut e = e.clone();
        e["uuid"] = format!("new-{i}").into();
        new_events.push(e);
    }
    api.lock().unwrap().events.extend(new_events);
    let before = api.lock().unwrap().requests.len();
    let (tx, rx) = channel();
    let eval2 = Evaluator::start(rx, RULES, None);
    let h = run_sources(config(&state, &url), tx).await.unwrap();
    let seen2 = eval2.wait_for("the new events", |s| s.ids("okta").len() >= 2).await;
    assert_eq!(seen2.ids("okta"), vec!["new-0".to_string(), "new-1".to_string()]);
    let first_after_restart = api.lock().unwrap().requests[before].clone();
    assert!(
        first_after_restart.contains(&format!("after={}", recorded.len())) && !first_after_restart.contains("since"),
        "{first_after_restart}"
    );
    h.stop().await.unwrap();
    drop((eval, eval2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_token_is_reported_and_retried_not_fatal() {
    init_tracing();
    let api: Shared = Arc::new(Mutex::new(Api::default()));
    let url = serve(api.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(&dir.path().join("state"), &url);
    if let Some(o) = cfg.okta.as_mut() {
        o.api_token = Some("wrong".into());
    }
    let (tx, rx) = channel();
    let eval = Evaluator::start(rx, RULES, None);
    let h = run_sources(cfg, tx).await.unwrap();
    let m = h.metrics().input("okta", "api");
    eventually("the 401 counted", || m.errors_total("http") >= 1).await;
    assert!(eval.snapshot().records.is_empty());
    h.stop().await.unwrap();
}
