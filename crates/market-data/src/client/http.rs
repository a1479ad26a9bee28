//! The HTTP layer shared by the exchange clients: timeouts, bounded retries with exponential
//! backoff and jitter, `Retry-After`, and an injectable sleep so tests run without waiting.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;

use crate::error::{MarketDataError, Result};

/// How failed requests are retried.
#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (≥ 1).
    pub max_attempts: u32,
    /// Backoff before the 2nd attempt; doubled for each further one.
    pub base_delay: Duration,
    /// Upper bound of one backoff.
    pub max_delay: Duration,
    /// The longest `Retry-After` honoured; a longer one (an IP ban) fails at once.
    pub max_retry_after: Duration,
    /// Timeout of one request, connection included.
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 6,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(300),
            timeout: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// Backoff before attempt `attempt + 1` (attempt ≥ 1): `base · 2^(attempt−1)`, capped, with
    /// "equal jitter" (uniform in [d/2, d]).
    pub fn backoff(&self, attempt: u32) -> Duration {
        let d = self.base_delay.saturating_mul(1u32 << (attempt - 1).min(20)).min(self.max_delay);
        let half = d / 2;
        half + half.mul_f64(rand::rng().random::<f64>())
    }
}

/// Sleeps for a duration. Injectable so tests can record the waits instead of waiting.
#[derive(Clone)]
pub struct Sleeper(Arc<dyn Fn(Duration) + Send + Sync>);

impl Sleeper {
    /// A sleeper that calls `f`.
    pub fn new(f: impl Fn(Duration) + Send + Sync + 'static) -> Self {
        Self(Arc::new(f))
    }

    /// Sleeps (or records) `d`.
    pub fn sleep(&self, d: Duration) {
        (self.0)(d)
    }
}

impl Default for Sleeper {
    fn default() -> Self {
        Self::new(std::thread::sleep)
    }
}

impl fmt::Debug for Sleeper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sleeper")
    }
}

/// A response as the clients see it.
#[derive(Debug)]
pub(crate) struct RawResponse {
    pub status: u16,
    pub body: String,
    pub retry_after: Option<Duration>,
    pub used_weight_1m: Option<u64>,
}

/// What a client makes of a response.
pub(crate) enum Verdict<T> {
    Done(T),
    Retry { after: Option<Duration>, why: String },
    Fail(MarketDataError),
}

#[derive(Debug)]
pub(crate) struct Http {
    agent: ureq::Agent,
    pub retry: RetryPolicy,
    pub sleeper: Sleeper,
    pub exchange: &'static str,
}

impl Http {
    pub fn new(exchange: &'static str, retry: RetryPolicy, sleeper: Sleeper) -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(retry.timeout))
            .http_status_as_error(false)
            .user_agent(concat!("vane/", env!("CARGO_PKG_VERSION")))
            .build()
            .new_agent();
        Self { agent, retry, sleeper, exchange }
    }

    /// GETs `url?query` until `judge` accepts the response, retrying transport errors, 429/418
    /// and 5xx (and whatever `judge` asks to retry) within the policy.
    pub fn get<T>(
        &self,
        url: &str,
        query: &[(&str, String)],
        judge: impl Fn(&RawResponse, &str) -> Verdict<T>,
    ) -> Result<T> {
        let full = format!("{url}?{}", query.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&"));
        let mut attempt = 0;
        loop {
            attempt += 1;
            let (after, why) = match self.send(url, query) {
                Err(message) => (None, message),
                Ok(resp) => match resp.status {
                    429 | 418 => (resp.retry_after, format!("HTTP {} (rate limited)", resp.status)),
                    500..=599 => (resp.retry_after, format!("HTTP {}", resp.status)),
                    _ => match judge(&resp, &full) {
                        Verdict::Done(v) => return Ok(v),
                        Verdict::Fail(e) => return Err(e),
                        Verdict::Retry { after, why } => (after, why),
                    },
                },
            };
            if let Some(a) = after
                && a > self.retry.max_retry_after
            {
                return Err(MarketDataError::Transport {
                    exchange: self.exchange,
                    url: full,
                    attempts: attempt,
                    message: format!(
                        "{why}; the exchange asks to wait {}s, longer than the {}s allowed",
                        a.as_secs(),
                        self.retry.max_retry_after.as_secs()
                    ),
                });
            }
            if attempt >= self.retry.max_attempts {
                return Err(MarketDataError::Transport {
                    exchange: self.exchange,
                    url: full,
                    attempts: attempt,
                    message: why,
                });
            }
            self.sleeper.sleep(after.unwrap_or_else(|| self.retry.backoff(attempt)));
        }
    }

    fn send(&self, url: &str, query: &[(&str, String)]) -> std::result::Result<RawResponse, String> {
        let mut req = self.agent.get(url);
        for (k, v) in query {
            req = req.query(*k, v);
        }
        let mut resp = req.call().map_err(|e| e.to_string())?;
        let header =
            |name: &str| resp.headers().get(name).and_then(|v| v.to_str().ok()).map(str::trim).map(str::to_string);
        let retry_after = header("retry-after").and_then(|v| v.parse::<u64>().ok()).map(Duration::from_secs);
        let used_weight_1m = header("x-mbx-used-weight-1m").and_then(|v| v.parse::<u64>().ok());
        let status = resp.status().as_u16();
        let body =
            resp.body_mut().with_config().limit(64 << 20).read_to_string().map_err(|e| format!("reading body: {e}"))?;
        Ok(RawResponse { status, body, retry_after, used_weight_1m })
    }
}

/// The first 300 characters of a body, for error messages.
pub(crate) fn snippet(body: &str) -> String {
    let mut s: String = body.chars().take(300).collect();
    if s.len() < body.len() {
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_cap() {
        let p = RetryPolicy {
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
            ..RetryPolicy::default()
        };
        for attempt in 1..=8 {
            let full = Duration::from_millis((100u64 << (attempt - 1)).min(1000));
            for _ in 0..20 {
                let d = p.backoff(attempt);
                assert!(d >= full / 2 && d <= full, "attempt {attempt}: {d:?} outside [{:?}, {full:?}]", full / 2);
            }
        }
    }
}
