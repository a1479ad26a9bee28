//! Bybit v5 `GET /v5/market/kline?category=linear` (limit ≤ 1000). The answer is
//! `{"retCode":0,"retMsg":"OK","result":{"category":"linear","symbol":…,"list":[[startTime,
//! open, high, low, close, volume, turnover], …]}}` with every field a string and the list
//! **newest first**. `retCode ≠ 0` is an error; the rate-limit codes (10006 "too many visits",
//! 10018 "IP rate limit") and HTTP 403 ("access too frequent") are retried with backoff.

use serde_json::Value;
use vane_core::{Bar, Bars, Interval, Symbol, Timestamp};

use super::http::{Http, RawResponse, RetryPolicy, Sleeper, Verdict, snippet};
use super::{Exchange, KlineSource, PageProblem, finish_page, int_field, num_field};
use crate::error::{MarketDataError, Result};

/// Bybit's rate-limit return codes.
const RATE_LIMIT_CODES: [i64; 2] = [10006, 10018];

/// A Bybit linear-perpetual kline client.
#[derive(Debug)]
pub struct BybitClient {
    base_url: String,
    http: Http,
}

impl BybitClient {
    /// A client at `base_url` (no trailing slash).
    pub fn new(base_url: String, retry: RetryPolicy, sleeper: Sleeper) -> Self {
        Self { base_url, http: Http::new("bybit-linear", retry, sleeper) }
    }
}

/// Bybit's interval spelling: minutes, or `D` for a day.
pub fn bybit_interval(interval: Interval) -> Option<&'static str> {
    use Interval::*;
    Some(match interval {
        M1 => "1",
        M3 => "3",
        M5 => "5",
        M15 => "15",
        M30 => "30",
        H1 => "60",
        H2 => "120",
        H4 => "240",
        H6 => "360",
        H12 => "720",
        D1 => "D",
        _ => return None,
    })
}

impl KlineSource for BybitClient {
    fn exchange(&self) -> Exchange {
        Exchange::BybitLinear
    }

    fn max_limit(&self) -> usize {
        1000
    }

    fn fetch_page(
        &self,
        symbol: &Symbol,
        interval: Interval,
        start: Timestamp,
        end: Timestamp,
        limit: usize,
    ) -> Result<Bars> {
        let iv = bybit_interval(interval)
            .ok_or_else(|| MarketDataError::InvalidArgument(format!("bybit-linear has no {interval} klines")))?;
        if limit == 0 || limit > self.max_limit() {
            return Err(MarketDataError::InvalidArgument(format!("limit {limit} outside 1..=1000 for bybit-linear")));
        }
        let url = format!("{}/v5/market/kline", self.base_url);
        let query = [
            ("category", "linear".to_string()),
            ("symbol", symbol.to_string()),
            ("interval", iv.to_string()),
            ("start", start.0.to_string()),
            ("end", end.0.to_string()),
            ("limit", limit.to_string()),
        ];
        let exchange = self.http.exchange;
        self.http.get(&url, &query, |resp: &RawResponse, full: &str| {
            if resp.status == 403 {
                return Verdict::Retry { after: None, why: "HTTP 403 (Bybit: access too frequent)".into() };
            }
            if resp.status != 200 {
                return Verdict::Fail(MarketDataError::Http {
                    exchange,
                    url: full.into(),
                    status: resp.status,
                    attempts: 1,
                    body: snippet(&resp.body),
                });
            }
            judge_body(&resp.body, interval, start, end, exchange, full)
        })
    }
}

/// What a 200 answer's body means: a page, a rate limit to retry, or an error.
pub(super) fn judge_body(
    body: &str,
    interval: Interval,
    start: Timestamp,
    end: Timestamp,
    exchange: &'static str,
    full: &str,
) -> Verdict<Bars> {
    let v: Value = match serde_json::from_str(body) {
        Ok(v) => v,
        Err(e) => {
            return Verdict::Fail(MarketDataError::Malformed {
                exchange,
                url: full.into(),
                message: format!("invalid JSON ({e}): {}", snippet(body)),
            });
        }
    };
    let code = v.get("retCode").and_then(Value::as_i64);
    let msg = v.get("retMsg").and_then(Value::as_str).unwrap_or("").to_string();
    match code {
        Some(0) => {}
        Some(c) if RATE_LIMIT_CODES.contains(&c) => {
            return Verdict::Retry { after: None, why: format!("retCode {c}: {msg}") };
        }
        Some(c) => {
            return Verdict::Fail(MarketDataError::Api { exchange, url: full.into(), code: c, message: msg });
        }
        None => {
            return Verdict::Fail(MarketDataError::Malformed {
                exchange,
                url: full.into(),
                message: format!("no retCode in {}", snippet(body)),
            });
        }
    }
    match parse_list(&v, interval, start, end) {
        Ok(b) => Verdict::Done(b),
        Err(problem) => Verdict::Fail(problem.into_error(exchange, full)),
    }
}

fn parse_list(
    v: &Value,
    interval: Interval,
    start: Timestamp,
    end: Timestamp,
) -> std::result::Result<Bars, PageProblem> {
    let list = v.pointer("/result/list").and_then(Value::as_array).ok_or("no result.list array")?;
    let mut bars = Vec::with_capacity(list.len());
    for (i, row) in list.iter().enumerate() {
        let f = row
            .as_array()
            .filter(|a| a.len() >= 7)
            .ok_or_else(|| format!("kline #{i} is not an array of 7 fields: {row}"))?;
        let at = |k: usize, what: &str| num_field(&f[k], &format!("kline #{i} {what}"));
        let open_time = Timestamp(int_field(&f[0], &format!("kline #{i} start time"))?);
        let bar = Bar {
            quote_volume: Some(at(6, "turnover")?),
            ..Bar::ohlcv(open_time, at(1, "open")?, at(2, "high")?, at(3, "low")?, at(4, "close")?, at(5, "volume")?)
        };
        bars.push(bar);
    }
    finish_page(bars, interval, start, end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_newest_first_list() {
        let body = r#"{"retCode":0,"retMsg":"OK","result":{"category":"linear","symbol":"BTCUSDT","list":[
            ["1670889660000","17199.5","17212.5","17199","17212.5","153.152","2634030.1"],
            ["1670889600000","17194","17199.5","17193.5","17199","78.677","1353005.5"]]},"retExtInfo":{},"time":1670889700000}"#;
        let v: Value = serde_json::from_str(body).unwrap();
        let b = parse_list(&v, Interval::M1, Timestamp(0), Timestamp(i64::MAX)).unwrap();
        assert_eq!(b.open_time(), &[1_670_889_600_000, 1_670_889_660_000]);
        assert_eq!(b.close(), &[17199.0, 17212.5]);
        assert_eq!(b.columns().quote_volume.as_deref(), Some(&[1_353_005.5, 2_634_030.1][..]));
    }

    #[test]
    fn interval_spellings() {
        assert_eq!(bybit_interval(Interval::H4), Some("240"));
        assert_eq!(bybit_interval(Interval::D1), Some("D"));
        assert_eq!(bybit_interval(Interval::H8), None);
        assert_eq!(bybit_interval(Interval::S1), None);
    }
}
