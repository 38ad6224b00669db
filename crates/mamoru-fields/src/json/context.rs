//! What the plugin sources know beyond one record: the host name, the okta plugin's configuration, the okta
//! plugin's MFA-failure history, the time of the first event.

use mamoru_records::JsonRef;
use std::collections::{BTreeMap, VecDeque};

const NS_PER_SEC: u64 = 1_000_000_000;
const OKTA_DENY_PUSH: &str = "user.mfa.okta_verify.deny_push";
const OKTA_AUTH_VIA_MFA: &str = "user.authentication.auth_via_mfa";

/// Per-stream context shared by every event of a run. Feed each event to [`JsonContext::observe`] (in stream order,
/// before evaluating rules on it) so that stateful fields (`okta.mfa.*.countlast`, `evt.reltime`) see it.
#[derive(Debug, Clone)]
pub struct JsonContext {
    /// `evt.hostname` (no value when empty).
    pub hostname: String,
    /// `okta.org`: the okta plugin's `organization` setting.
    pub okta_organization: String,
    first_ts: Option<u64>,
    okta_mfa: OktaMfaHistory,
}

impl Default for JsonContext {
    fn default() -> Self {
        Self::empty()
    }
}

impl JsonContext {
    /// A context with no host name, no okta organization and no history.
    pub const fn empty() -> JsonContext {
        JsonContext {
            hostname: String::new(),
            okta_organization: String::new(),
            first_ts: None,
            okta_mfa: OktaMfaHistory::new(DEFAULT_OKTA_CACHE_EXPIRATION_S, DEFAULT_OKTA_CACHE_USERMAXSIZE),
        }
    }

    /// A context whose host name is taken as Falco takes it: `FALCO_HOSTNAME`, else the kernel's host name.
    pub fn from_environment() -> JsonContext {
        JsonContext {
            hostname: detect_hostname(),
            ..JsonContext::empty()
        }
    }

    /// Sets the okta plugin's `organization`, `cache_expiration` (seconds) and `cache_usermaxsize`.
    pub fn with_okta(mut self, organization: &str, cache_expiration_s: u64, cache_usermaxsize: usize) -> JsonContext {
        self.okta_organization = organization.to_string();
        self.okta_mfa = OktaMfaHistory::new(cache_expiration_s, cache_usermaxsize);
        self
    }

    /// Records an event of `source` (a Falco source name) at `ts_ns`.
    pub fn observe(&mut self, source: &str, value: JsonRef<'_>, ts_ns: u64) {
        self.first_ts.get_or_insert(ts_ns);
        if source == "okta" {
            self.okta_mfa.observe(value, ts_ns);
        }
    }

    /// Timestamp of the first observed event (`evt.reltime` origin).
    pub fn first_ts(&self) -> Option<u64> {
        self.first_ts
    }

    pub(crate) fn okta_mfa(&self) -> &OktaMfaHistory {
        &self.okta_mfa
    }
}

/// The okta plugin's code default for `cache_expiration` (its README says 600; the code uses 84600).
pub const DEFAULT_OKTA_CACHE_EXPIRATION_S: u64 = 84_600;
/// The okta plugin's default for `cache_usermaxsize`.
pub const DEFAULT_OKTA_CACHE_USERMAXSIZE: usize = 200;
/// The okta plugin's cache capacity (number of `eventType:actor` keys).
const OKTA_CACHE_KEYS: usize = 10_000;

/// The okta plugin's MFA history: for events `user.mfa.okta_verify.deny_push` and failed
/// `user.authentication.auth_via_mfa`, the distinct timestamps per (event type, actor id), at most `max_per_key`
/// of them, forgotten `ttl` after the key was last updated. Time is event time (the plugin uses wall-clock time
/// for expiry; replaying a file with event time keeps results independent of when the file is read).
#[derive(Debug, Clone)]
pub(crate) struct OktaMfaHistory {
    ttl_ns: u64,
    max_per_key: usize,
    keys: usize,
    by_type: BTreeMap<String, BTreeMap<String, MfaEntry>>,
}

#[derive(Debug, Clone)]
struct MfaEntry {
    stamps: VecDeque<u64>,
    expires_at: u64,
}

/// Whether an okta event is one the plugin counts, and its (event type, actor id).
pub(crate) fn okta_mfa_key(value: JsonRef<'_>) -> Option<(&str, &str)> {
    let event_type = value.get("eventType")?.as_str()?;
    let counted = event_type == OKTA_DENY_PUSH
        || (event_type == OKTA_AUTH_VIA_MFA
            && value
                .get("outcome")
                .and_then(|o| o.get("result"))
                .and_then(JsonRef::as_str)
                == Some("FAILURE"));
    if !counted {
        return None;
    }
    let actor = value
        .get("actor")
        .and_then(|a| a.get("id"))
        .and_then(JsonRef::as_str)
        .unwrap_or("");
    Some((event_type, actor))
}

impl OktaMfaHistory {
    const fn new(ttl_s: u64, max_per_key: usize) -> OktaMfaHistory {
        OktaMfaHistory {
            ttl_ns: ttl_s.saturating_mul(NS_PER_SEC),
            max_per_key,
            keys: 0,
            by_type: BTreeMap::new(),
        }
    }

    fn observe(&mut self, value: JsonRef<'_>, ts_ns: u64) {
        let Some((event_type, actor)) = okta_mfa_key(value) else {
            return;
        };
        if self.keys >= OKTA_CACHE_KEYS && self.lookup(event_type, actor).is_none() {
            self.evict_oldest();
        }
        let actors = self.by_type.entry(event_type.to_string()).or_default();
        let fresh = !actors.contains_key(actor);
        let entry = actors.entry(actor.to_string()).or_insert_with(|| MfaEntry {
            stamps: VecDeque::new(),
            expires_at: 0,
        });
        if fresh {
            self.keys += 1;
        }
        if entry.expires_at <= ts_ns {
            entry.stamps.clear();
        }
        if !entry.stamps.contains(&ts_ns) {
            entry.stamps.push_back(ts_ns);
        }
        while entry.stamps.len() > self.max_per_key {
            entry.stamps.pop_front();
        }
        entry.expires_at = ts_ns.saturating_add(self.ttl_ns);
    }

    fn lookup(&self, event_type: &str, actor: &str) -> Option<&MfaEntry> {
        self.by_type.get(event_type)?.get(actor)
    }

    /// Drops the key that expires first (the plugin's LFU cache evicts by use frequency; with one update per use,
    /// the least recently updated key is the closest deterministic stand-in).
    fn evict_oldest(&mut self) {
        let oldest = self
            .by_type
            .iter()
            .flat_map(|(t, actors)| actors.iter().map(move |(a, e)| (e.expires_at, t.clone(), a.clone())))
            .min();
        if let Some((_, t, a)) = oldest {
            if let Some(actors) = self.by_type.get_mut(&t) {
                actors.remove(&a);
                if actors.is_empty() {
                    self.by_type.remove(&t);
                }
            }
            self.keys = self.keys.saturating_sub(1);
        }
    }

    /// Number of remembered timestamps of (`event_type`, `actor`) later than `now - window_s` seconds; `None` when
    /// nothing is remembered (the field then has no value).
    pub(crate) fn count_last(&self, event_type: &str, actor: &str, now_ns: u64, window_s: u64) -> Option<u64> {
        let entry = self.lookup(event_type, actor)?;
        if entry.expires_at <= now_ns {
            return None;
        }
        let oldest = now_ns.saturating_sub(window_s.saturating_mul(NS_PER_SEC));
        Some(entry.stamps.iter().filter(|&&t| t > oldest).count() as u64)
    }
}

fn detect_hostname() -> String {
    if let Ok(h) = std::env::var("FALCO_HOSTNAME") {
        if !h.is_empty() {
            return h;
        }
    }
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use mamoru_records::JsonDoc;
    use serde_json::json;

    fn doc(v: serde_json::Value) -> JsonDoc {
        JsonDoc::parse(v.to_string().into_bytes()).expect("valid JSON")
    }

    fn deny(actor: &str) -> JsonDoc {
        doc(json!({"eventType": OKTA_DENY_PUSH, "actor": {"id": actor}, "outcome": {"result": "DENY"}}))
    }

    fn root(d: &JsonDoc) -> JsonRef<'_> {
        d.root().expect("parsed")
    }

    #[test]
    fn counts_distinct_recent_denies_per_actor() {
        let mut ctx = JsonContext::empty().with_okta("acme", 600, 3);
        let s = NS_PER_SEC;
        for t in [10, 10, 20, 30, 40] {
            ctx.observe("okta", root(&deny("u1")), t * s);
        }
        ctx.observe("okta", root(&deny("u2")), 40 * s);
        let h = ctx.okta_mfa();
        // At most 3 stamps kept: 20, 30, 40.
        assert_eq!(h.count_last(OKTA_DENY_PUSH, "u1", 40 * s, 100), Some(3));
        assert_eq!(h.count_last(OKTA_DENY_PUSH, "u1", 40 * s, 15), Some(2));
        assert_eq!(h.count_last(OKTA_DENY_PUSH, "u2", 40 * s, 100), Some(1));
        assert_eq!(h.count_last(OKTA_DENY_PUSH, "u3", 40 * s, 100), None);
        // Expired 600 s after the last update.
        assert_eq!(h.count_last(OKTA_DENY_PUSH, "u1", 641 * s, 1000), None);
    }

    #[test]
    fn only_denies_and_failed_mfa_are_counted() {
        let ok = doc(json!({"eventType": OKTA_AUTH_VIA_MFA, "actor": {"id": "u"}, "outcome": {"result": "SUCCESS"}}));
        let failed =
            doc(json!({"eventType": OKTA_AUTH_VIA_MFA, "actor": {"id": "u"}, "outcome": {"result": "FAILURE"}}));
        assert!(okta_mfa_key(root(&ok)).is_none());
        assert_eq!(okta_mfa_key(root(&failed)), Some((OKTA_AUTH_VIA_MFA, "u")));
        let mut ctx = JsonContext::empty();
        ctx.observe("github", root(&failed), 5);
        assert_eq!(ctx.first_ts(), Some(5));
        assert_eq!(ctx.okta_mfa().count_last(OKTA_AUTH_VIA_MFA, "u", 5, 10), None);
    }
}
