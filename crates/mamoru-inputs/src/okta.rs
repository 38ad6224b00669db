//! `okta`: polls the System Log API (`GET /api/v1/logs`) with `Authorization: SSWS <token>`. The first request
//! asks `since=<now - initial_lookback>&sortOrder=ASCENDING&limit=N`; every answer carries a `Link: <...>;
//! rel="next"` URL (with the `after` cursor) that is followed forever: an empty page means "nothing new yet", so
//! the same link is polled again after `poll_interval_s`. The next link is persisted once the page's records were
//! committed, so a restart continues at the next event. `X-Rate-Limit-Remaining`/`X-Rate-Limit-Reset` are
//! honoured: below `min_rate_limit_remaining`, or on 429, the poller sleeps until the reset time.

use crate::batch::{deliver, BatchSender};
use crate::config::OktaConfig;
use crate::cursor::CursorStore;
use crate::error::{InputError, Result};
use crate::frame::{frame_bytes, newest_ts};
use crate::metrics::SourceMetrics;
use mamoru_records::{Limits, RecordSource};
use reqwest::header::{HeaderMap, ACCEPT, AUTHORIZATION, LINK};
use reqwest::{Client, StatusCode, Url};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use tokio::sync::watch;

/// The next page to fetch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OktaCursor {
    pub next: String,
}

/// Most bytes of one page (1000 events of a few KiB each, with margin).
const MAX_PAGE_BYTES: usize = 64 << 20;
const RETRY_AFTER_ERROR: Duration = Duration::from_secs(30);
/// Longest sleep for a rate-limit reset (guards against a clock skew or bogus header).
const MAX_RATE_LIMIT_SLEEP: Duration = Duration::from_secs(120);

/// The `rel="next"` URL of a `Link` header (several links may share one header, or come in several).
pub fn next_link(headers: &HeaderMap) -> Option<String> {
    for value in headers.get_all(LINK) {
        let Ok(text) = value.to_str() else { continue };
        for link in text.split(',') {
            let mut parts = link.split(';');
            let Some(url) = parts.next().map(str::trim) else {
                continue;
            };
            let is_next = parts.any(|p| {
                let p = p.trim().replace(' ', "");
                p == "rel=\"next\"" || p == "rel=next"
            });
            if is_next {
                if let Some(u) = url.strip_prefix('<').and_then(|u| u.strip_suffix('>')) {
                    return Some(u.to_string());
                }
            }
        }
    }
    None
}

fn header_u64(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// How long to wait before the next request, from the rate-limit headers.
pub fn rate_limit_wait(headers: &HeaderMap, min_remaining: u64, now_secs: u64) -> Option<Duration> {
    let remaining = header_u64(headers, "x-rate-limit-remaining")?;
    if remaining >= min_remaining {
        return None;
    }
    let reset = header_u64(headers, "x-rate-limit-reset")?;
    Some(Duration::from_secs(reset.saturating_sub(now_secs).max(1)).min(MAX_RATE_LIMIT_SLEEP))
}

pub(crate) struct OktaPoller {
    pub cfg: OktaConfig,
    pub token: String,
    pub store: CursorStore,
    pub metrics: SourceMetrics,
    pub client: Client,
}

impl OktaPoller {
    fn first_url(&self) -> Result<String> {
        let since = crate::time::rfc3339_secs(crate::time::now_secs().saturating_sub(self.cfg.initial_lookback_s));
        let mut url = self
            .base()?
            .join("/api/v1/logs")
            .map_err(|e| InputError::Config(format!("okta url: {e}")))?;
        url.query_pairs_mut()
            .append_pair("since", &since)
            .append_pair("sortOrder", "ASCENDING")
            .append_pair("limit", &self.cfg.limit.to_string());
        Ok(url.to_string())
    }

    fn base(&self) -> Result<Url> {
        Url::parse(&self.cfg.url).map_err(|e| InputError::Config(format!("okta url {}: {e}", self.cfg.url)))
    }

    /// Follows a next link only on the configured origin: the token must never be sent elsewhere.
    fn same_origin(&self, link: &str) -> bool {
        match (Url::parse(link), self.base()) {
            (Ok(l), Ok(b)) => l.origin() == b.origin(),
            _ => false,
        }
    }

    pub async fn run(self, sink: BatchSender, mut shutdown: watch::Receiver<bool>) -> Result<()> {
        let mut next = match self.store.load::<OktaCursor>("okta")? {
            Some(c) if self.same_origin(&c.next) => c.next,
            _ => self.first_url()?,
        };
        let poll = Duration::from_secs(self.cfg.poll_interval_s.max(1));
        loop {
            if *shutdown.borrow() {
                return Ok(());
            }
            let wait = match self.page(&next, &sink).await {
                Ok(Page {
                    next: link,
                    records,
                    wait,
                }) => {
                    if let Some(link) = link {
                        if link != next {
                            next = link;
                            self.store.save_async("okta", OktaCursor { next: next.clone() }).await?;
                        }
                    }
                    // A full page means more is waiting: fetch at once unless rate-limited.
                    wait.or((records < self.cfg.limit as usize).then_some(poll))
                }
                Err(PageError::Fatal(e)) => return Err(e),
                Err(PageError::Retry(why, wait)) => {
                    self.metrics.error("http");
                    tracing::warn!(url = %next, error = %why, "okta poll failed");
                    Some(wait)
                }
            };
            if let Some(wait) = wait {
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = shutdown.changed() => {}
                }
            }
        }
    }

    async fn page(&self, url: &str, sink: &BatchSender) -> Result<Page, PageError> {
        let resp = self
            .client
            .get(url)
            .header(AUTHORIZATION, format!("SSWS {}", self.token))
            .header(ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| PageError::Retry(e.to_string(), RETRY_AFTER_ERROR))?;
        let headers = resp.headers().clone();
        let now = crate::time::now_secs();
        match resp.status() {
            s if s.is_success() => {}
            StatusCode::TOO_MANY_REQUESTS => {
                let reset = header_u64(&headers, "x-rate-limit-reset").unwrap_or(now + 60);
                let wait = Duration::from_secs(reset.saturating_sub(now).max(1)).min(MAX_RATE_LIMIT_SLEEP);
                return Err(PageError::Retry("429 rate limited".into(), wait));
            }
            s => return Err(PageError::Retry(format!("HTTP {s}"), RETRY_AFTER_ERROR)),
        }
        let body = read_limited(resp)
            .await
            .map_err(|e| PageError::Retry(e, RETRY_AFTER_ERROR))?;
        let link = next_link(&headers).filter(|l| {
            let ok = self.same_origin(l);
            if !ok {
                tracing::warn!(link = %l, "okta next link on another origin ignored");
            }
            ok
        });
        let name = format!("okta page {url}");
        let metrics = self.metrics.clone();
        let records = tokio::task::spawn_blocking(move || {
            frame_bytes(&name, body, RecordSource::Okta, Limits::default(), &metrics, 0)
        })
        .await
        .map_err(|e| PageError::Fatal(InputError::Config(format!("framer panicked: {e}"))))?;
        let count = records.len();
        let newest = newest_ts(&records);
        deliver(sink, RecordSource::Okta, records)
            .await
            .map_err(PageError::Fatal)?;
        self.metrics.committed(count, newest);
        Ok(Page {
            next: link,
            records: count,
            wait: rate_limit_wait(&headers, self.cfg.min_rate_limit_remaining, now),
        })
    }
}

struct Page {
    next: Option<String>,
    records: usize,
    wait: Option<Duration>,
}

enum PageError {
    Retry(String, Duration),
    Fatal(InputError),
}

async fn read_limited(mut resp: reqwest::Response) -> std::result::Result<Vec<u8>, String> {
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| e.to_string())? {
        if body.len() + chunk.len() > MAX_PAGE_BYTES {
            return Err(format!("page larger than {MAX_PAGE_BYTES} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_link_headers_and_rate_limits() {
        let mut h = HeaderMap::new();
        h.append(
            LINK,
            "<https://x.okta.com/api/v1/logs?since=a>; rel=\"self\""
                .parse()
                .unwrap(),
        );
        h.append(
            LINK,
            "<https://x.okta.com/api/v1/logs?after=123&limit=2>; rel=\"next\""
                .parse()
                .unwrap(),
        );
        assert_eq!(
            next_link(&h).as_deref(),
            Some("https://x.okta.com/api/v1/logs?after=123&limit=2")
        );
        let mut one = HeaderMap::new();
        one.insert(
            LINK,
            "<https://a/self>; rel=\"self\", <https://a/n>; rel=\"next\""
                .parse()
                .unwrap(),
        );
        assert_eq!(next_link(&one).as_deref(), Some("https://a/n"));
        h.insert("x-rate-limit-remaining", "1".parse().unwrap());
        h.insert("x-rate-limit-reset", "1010".parse().unwrap());
        assert_eq!(rate_limit_wait(&h, 2, 1000), Some(Duration::from_secs(10)));
        assert_eq!(rate_limit_wait(&h, 1, 1000), None);
    }
}
