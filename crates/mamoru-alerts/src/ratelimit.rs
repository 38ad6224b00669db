//! Per-rule token buckets (Falco's `outputs.rate` / `outputs.max_burst`, applied to each rule separately so a noisy
//! rule cannot silence the others). What is suppressed is counted per rule and reported, never dropped silently.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

struct Bucket {
    tokens: f64,
    last: Instant,
}

/// The token buckets of every rule seen.
pub struct RateLimiter {
    rate: f64,
    burst: f64,
    buckets: HashMap<Arc<str>, Bucket>,
    /// Suppressed since the last [`RateLimiter::take_suppressed`].
    suppressed: HashMap<Arc<str>, u64>,
}

impl RateLimiter {
    /// `rate` alerts per second per rule, bursts of `max_burst`; a rate of 0 disables limiting.
    pub fn new(rate: f64, max_burst: u32) -> Self {
        RateLimiter {
            rate,
            burst: f64::from(max_burst.max(1)),
            buckets: HashMap::new(),
            suppressed: HashMap::new(),
        }
    }

    pub fn enabled(&self) -> bool {
        self.rate > 0.0
    }

    /// Whether an alert of `rule` may go out at `now`; a refusal is counted.
    pub fn allow(&mut self, rule: &Arc<str>, now: Instant) -> bool {
        if !self.enabled() {
            return true;
        }
        let (rate, burst) = (self.rate, self.burst);
        let b = self.buckets.entry(rule.clone()).or_insert(Bucket {
            tokens: burst,
            last: now,
        });
        let elapsed = now.saturating_duration_since(b.last).as_secs_f64();
        b.tokens = (b.tokens + elapsed * rate).min(burst);
        b.last = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            true
        } else {
            *self.suppressed.entry(rule.clone()).or_default() += 1;
            false
        }
    }

    /// Suppression counts per rule since the last call, sorted by rule.
    pub fn take_suppressed(&mut self) -> Vec<(Arc<str>, u64)> {
        let mut v: Vec<_> = self.suppressed.drain().collect();
        v.sort();
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn bursts_then_refills_at_rate_per_rule() {
        let mut rl = RateLimiter::new(2.0, 3);
        let (a, b): (Arc<str>, Arc<str>) = (Arc::from("a"), Arc::from("b"));
        let t0 = Instant::now();
        let allowed = (0..10).filter(|_| rl.allow(&a, t0)).count();
        assert_eq!(allowed, 3);
        assert!(rl.allow(&b, t0), "another rule has its own bucket");
        assert!(rl.allow(&a, t0 + Duration::from_millis(500)));
        assert!(!rl.allow(&a, t0 + Duration::from_millis(500)));
        assert_eq!(rl.take_suppressed(), vec![(a.clone(), 8)]);
        assert!(rl.take_suppressed().is_empty());
    }

    #[test]
    fn zero_rate_is_unlimited() {
        let mut rl = RateLimiter::new(0.0, 1);
        let a: Arc<str> = Arc::from("a");
        assert!((0..1000).all(|_| rl.allow(&a, Instant::now())));
    }
}
