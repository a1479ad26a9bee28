//! Exchange kline clients behind one trait, [`KlineSource`]: Binance spot, Binance USDT-M
//! futures and Bybit v5 linear perpetuals. Every client takes a base URL (tests point it at a
//! local mock server), retries within a [`RetryPolicy`] and respects the exchange's rate limits.

mod binance;
mod bybit;
mod http;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use vane_core::{Bars, Interval, Symbol, Timestamp};

pub use binance::{BinanceClient, BinanceMarket};
pub use bybit::{BybitClient, bybit_interval};
pub use http::{RetryNotice, RetryPolicy, Sleeper};

use crate::error::{MarketDataError, Result};

/// A source of historical candles, one bounded page at a time.
pub trait KlineSource: Send + Sync {
    /// Which exchange and market this is.
    fn exchange(&self) -> Exchange;

    /// The most bars one request may ask for.
    fn max_limit(&self) -> usize;

    /// Closed or open bars of `symbol` with `start <= open_time <= end`, oldest first, at most
    /// `limit` of them. `end − start` must span at most `limit` bars (the downloader's pages do),
    /// so that "the first `limit` bars" and "the last `limit` bars" — the two conventions
    /// exchanges use — are the same bars.
    fn fetch_page(
        &self,
        symbol: &Symbol,
        interval: Interval,
        start: Timestamp,
        end: Timestamp,
        limit: usize,
    ) -> Result<Bars>;
}

/// The markets vane downloads from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Exchange {
    /// Binance spot, `GET /api/v3/klines`.
    #[serde(rename = "binance-spot")]
    BinanceSpot,
    /// Binance USDT-margined futures, `GET /fapi/v1/klines`.
    #[serde(rename = "binance-usdm")]
    BinanceUsdm,
    /// Bybit v5 linear (USDT perpetual), `GET /v5/market/kline?category=linear`.
    #[serde(rename = "bybit-linear")]
    BybitLinear,
}

impl Exchange {
    /// The CLI spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Exchange::BinanceSpot => "binance-spot",
            Exchange::BinanceUsdm => "binance-usdm",
            Exchange::BybitLinear => "bybit-linear",
        }
    }

    /// The public production endpoint.
    pub fn default_base_url(self) -> &'static str {
        match self {
            Exchange::BinanceSpot => "https://api.binance.com",
            Exchange::BinanceUsdm => "https://fapi.binance.com",
            Exchange::BybitLinear => "https://api.bybit.com",
        }
    }

    /// A client for this exchange at `base_url` (the production endpoint when `None`).
    pub fn client(self, base_url: Option<&str>, retry: RetryPolicy, sleeper: Sleeper) -> Box<dyn KlineSource> {
        let url = base_url.unwrap_or(self.default_base_url()).trim_end_matches('/').to_string();
        match self {
            Exchange::BinanceSpot => Box::new(BinanceClient::new(BinanceMarket::Spot, url, retry, sleeper)),
            Exchange::BinanceUsdm => Box::new(BinanceClient::new(BinanceMarket::UsdM, url, retry, sleeper)),
            Exchange::BybitLinear => Box::new(BybitClient::new(url, retry, sleeper)),
        }
    }
}

impl fmt::Display for Exchange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Exchange {
    type Err = MarketDataError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "binance-spot" => Ok(Exchange::BinanceSpot),
            "binance-usdm" => Ok(Exchange::BinanceUsdm),
            "bybit-linear" => Ok(Exchange::BybitLinear),
            _ => Err(MarketDataError::InvalidArgument(format!(
                "unknown exchange {s:?}: expected binance-spot, binance-usdm or bybit-linear"
            ))),
        }
    }
}

/// Parses the body of a 200 answer to a kline request of `exchange` for the window
/// `[start, end]`, exactly as the client does: the validated bars, or the error the client
/// would give (malformed, API error, a page that does not advance; a Bybit rate-limit code is
/// a transport error here, as after the client's last retry). Never panics, whatever `body` is.
pub fn parse_page(
    exchange: Exchange,
    body: &str,
    interval: Interval,
    start: Timestamp,
    end: Timestamp,
) -> Result<Bars> {
    let name = exchange.as_str();
    match exchange {
        Exchange::BinanceSpot | Exchange::BinanceUsdm => {
            binance::parse_klines(body, interval, start, end).map_err(|p| p.into_error(name, "-"))
        }
        Exchange::BybitLinear => match bybit::judge_body(body, interval, start, end, name, "-") {
            http::Verdict::Done(b) => Ok(b),
            http::Verdict::Fail(e) => Err(e),
            http::Verdict::Retry { why, .. } => {
                Err(MarketDataError::Transport { exchange: name, url: "-".into(), attempts: 1, message: why })
            }
        },
    }
}

/// Parses a decimal string field of an exchange row.
fn num_field(v: &serde_json::Value, what: &str) -> std::result::Result<f64, String> {
    let s = v.as_str().ok_or_else(|| format!("{what} is {v}, expected a decimal string"))?;
    s.parse::<f64>().ok().filter(|x| x.is_finite()).ok_or_else(|| format!("{what} {s:?} is not a number"))
}

/// Parses an integer field that an exchange sends as a number or as a string.
fn int_field(v: &serde_json::Value, what: &str) -> std::result::Result<i64, String> {
    v.as_i64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        .ok_or_else(|| format!("{what} is {v}, expected an integer"))
}

/// What is wrong with a page.
#[derive(Debug)]
enum PageProblem {
    /// Not in the documented format.
    Malformed(String),
    /// Only bars outside the requested window: the exchange ignores the start time.
    NoProgress(String),
}

impl PageProblem {
    fn into_error(self, exchange: &'static str, url: &str) -> MarketDataError {
        match self {
            PageProblem::Malformed(message) => MarketDataError::Malformed { exchange, url: url.into(), message },
            PageProblem::NoProgress(message) => MarketDataError::NoProgress { exchange, url: url.into(), message },
        }
    }

    #[cfg(test)]
    fn contains(&self, s: &str) -> bool {
        match self {
            PageProblem::Malformed(m) | PageProblem::NoProgress(m) => m.contains(s),
        }
    }
}

impl From<String> for PageProblem {
    fn from(s: String) -> Self {
        PageProblem::Malformed(s)
    }
}

impl From<&str> for PageProblem {
    fn from(s: &str) -> Self {
        PageProblem::Malformed(s.into())
    }
}

/// Turns parsed rows (in the exchange's order) into a validated page: valid candles, aligned,
/// inside [start, end], sorted. A page whose bars all lie outside the window means the exchange
/// ignored the window: taking it as "no bars here" would skip history silently.
fn finish_page(
    mut rows: Vec<vane_core::Bar>,
    interval: Interval,
    start: Timestamp,
    end: Timestamp,
) -> std::result::Result<Bars, PageProblem> {
    for (i, bar) in rows.iter().enumerate() {
        if let Some(p) = bar.problem() {
            return Err(format!("kline #{i} at {}: {p}", bar.open_time).into());
        }
    }
    rows.sort_by_key(|b| b.open_time);
    if let Some(b) = rows.iter().find(|b| !interval.is_aligned(b.open_time)) {
        return Err(format!("bar at {} is not aligned to {interval}", b.open_time).into());
    }
    let before = rows.len();
    rows.retain(|b| b.open_time >= start && b.open_time <= end);
    if before > 0 && rows.is_empty() {
        return Err(PageProblem::NoProgress(format!(
            "asked for bars from {start} to {end}, got {before} bar(s) all outside that window: the exchange ignores the requested start time"
        )));
    }
    Bars::from_bars(&rows).map_err(|e| PageProblem::Malformed(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exchange_spellings() {
        for e in [Exchange::BinanceSpot, Exchange::BinanceUsdm, Exchange::BybitLinear] {
            assert_eq!(e.as_str().parse::<Exchange>().unwrap(), e);
            assert_eq!(serde_json::to_string(&e).unwrap(), format!("\"{e}\""));
        }
        assert!(
            "binance"
                .parse::<Exchange>()
                .unwrap_err()
                .to_string()
                .contains("binance-spot, binance-usdm or bybit-linear")
        );
    }
}
