//! The HTTP layer shared by the exchange clients: timeouts, bounded retries with exponential
//! backoff and jitter, `Retry-After`, and an injectable sleep so tests run without waiting.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

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
    /// The most time one request may spend on retries after its first attempt: the waits
    /// (backoff, `Retry-After`) plus the further attempts. When the next wait would pass it, the
    /// request fails at once, saying so.
    pub max_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 6,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(300),
            timeout: Duration::from_secs(30),
            max_wait: Duration::from_secs(300),
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

/// A wait the clients are about to make, told to [`Sleeper::with_report`] before it starts (the
/// CLI prints it on stderr, so a long `Retry-After` is never silent).
#[derive(Clone, Debug, PartialEq)]
pub struct RetryNotice {
    /// Which exchange.
    pub exchange: &'static str,
    /// Why (the failure of the last attempt, or the spent weight budget).
    pub why: String,
    /// How long.
    pub wait: Duration,
    /// Whether the exchange asked for this wait (`Retry-After`, the weight budget).
    pub asked_by_exchange: bool,
    /// The attempt that follows and the attempts allowed, when this is a retry.
    pub next_attempt: Option<(u32, u32)>,
}

impl fmt::Display for RetryNotice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}; waiting {}", self.exchange, self.why, secs(self.wait))?;
        if self.asked_by_exchange {
            f.write_str(" (asked by the exchange)")?;
        }
        if let Some((n, of)) = self.next_attempt {
            write!(f, " before attempt {n} of {of}")?;
        }
        Ok(())
    }
}

/// `3s`, `0.5s`.
pub(crate) fn secs(d: Duration) -> String {
    if d.subsec_millis() == 0 { format!("{}s", d.as_secs()) } else { format!("{:.1}s", d.as_secs_f64()) }
}

type Report = Arc<dyn Fn(&RetryNotice) + Send + Sync>;

/// Sleeps for a duration, and tells an optional observer about each wait first. Injectable so
/// tests can record the waits instead of waiting.
#[derive(Clone)]
pub struct Sleeper {
    sleep: Arc<dyn Fn(Duration) + Send + Sync>,
    report: Option<Report>,
}

impl Sleeper {
    /// A sleeper that calls `f`.
    pub fn new(f: impl Fn(Duration) + Send + Sync + 'static) -> Self {
        Self { sleep: Arc::new(f), report: None }
    }

    /// Also calls `report` before each wait of a client (retries, rate limits).
    pub fn with_report(mut self, report: impl Fn(&RetryNotice) + Send + Sync + 'static) -> Self {
        self.report = Some(Arc::new(report));
        self
    }

    /// Sleeps (or records) `d`.
    pub fn sleep(&self, d: Duration) {
        (self.sleep)(d)
    }

    /// Reports `notice`, then sleeps its wait.
    pub fn wait(&self, notice: RetryNotice) {
        if let Some(r) = &self.report {
            r(&notice);
        }
        self.sleep(notice.wait);
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
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(MarketDataError::BadUrl {
                exchange: self.exchange,
                url: url.to_string(),
                message: "the exchange URL must start with http:// or https://".into(),
            });
        }
        let mut attempt = 0;
        // Time spent after the first attempt: waits and further attempts, bounded by max_wait.
        let mut spent = Duration::ZERO;
        loop {
            attempt += 1;
            let timeout = if attempt == 1 {
                self.retry.timeout
            } else {
                self.retry.timeout.min(self.retry.max_wait.saturating_sub(spent))
            };
            let t0 = Instant::now();
            let sent = self.send(url, query, timeout.max(Duration::from_millis(1)));
            if attempt > 1 {
                spent += t0.elapsed();
            }
            let (after, why) = match sent {
                Err(SendError::Permanent(message)) => {
                    return Err(MarketDataError::BadUrl { exchange: self.exchange, url: full, message });
                }
                Err(SendError::Transient(message)) => (None, message),
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
            let fail = |message: String| MarketDataError::Transport {
                exchange: self.exchange,
                url: full.clone(),
                attempts: attempt,
                message,
            };
            if let Some(a) = after
                && a > self.retry.max_retry_after
            {
                return Err(fail(format!(
                    "{why}; the exchange asks to wait {}, longer than the {} allowed",
                    secs(a),
                    secs(self.retry.max_retry_after)
                )));
            }
            if attempt >= self.retry.max_attempts {
                return Err(fail(why));
            }
            let wait = after.unwrap_or_else(|| self.retry.backoff(attempt));
            if spent + wait > self.retry.max_wait {
                return Err(fail(format!(
                    "{why}; waiting {} more would pass the {} allowed for retries (--max-wait; {} spent)",
                    secs(wait),
                    secs(self.retry.max_wait),
                    secs(spent)
                )));
            }
            self.sleeper.wait(RetryNotice {
                exchange: self.exchange,
                why,
                wait,
                asked_by_exchange: after.is_some(),
                next_attempt: Some((attempt + 1, self.retry.max_attempts)),
            });
            spent += wait;
        }
    }

    fn send(
        &self,
        url: &str,
        query: &[(&str, String)],
        timeout: Duration,
    ) -> std::result::Result<RawResponse, SendError> {
        let mut req = self.agent.get(url);
        for (k, v) in query {
            req = req.query(*k, v);
        }
        let req = req.config().timeout_global(Some(timeout)).build();
        let mut resp = req.call().map_err(|e| match e {
            ureq::Error::BadUri(_) | ureq::Error::Http(_) | ureq::Error::InvalidProxyUrl => {
                SendError::Permanent(e.to_string())
            }
            ureq::Error::Timeout(_) => SendError::Transient(format!("no answer within {} ({e})", secs(timeout))),
            _ => SendError::Transient(e.to_string()),
        })?;
        let header =
            |name: &str| resp.headers().get(name).and_then(|v| v.to_str().ok()).map(str::trim).map(str::to_string);
        let retry_after = header("retry-after").and_then(|v| v.parse::<u64>().ok()).map(Duration::from_secs);
        let used_weight_1m = header("x-mbx-used-weight-1m").and_then(|v| v.parse::<u64>().ok());
        let status = resp.status().as_u16();
        let body = resp
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_string()
            .map_err(|e| SendError::Transient(format!("reading body: {e}")))?;
        Ok(RawResponse { status, body, retry_after, used_weight_1m })
    }
}

/// Why a request got no response.
enum SendError {
    /// The request cannot work (a bad URL): not retried.
    Permanent(String),
    /// Connection refused or reset, timeout, a cut body: retried.
    Transient(String),
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
