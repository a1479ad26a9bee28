//! Binance spot (`GET /api/v3/klines`, limit ≤ 1000) and USDT-M futures (`GET /fapi/v1/klines`,
//! limit ≤ 1500). Rows are arrays `[open_time, "open", "high", "low", "close", "volume",
//! close_time, "quote_volume", trades, "taker_buy_base", "taker_buy_quote", "ignore"]`.
//!
//! Rate limits: HTTP 429 and 418 are retried after `Retry-After`; after each response the
//! `X-MBX-USED-WEIGHT-1M` header is compared with a weight budget and, when the budget is
//! spent, the client waits for the next minute before the next request.

use std::sync::Mutex;
use std::time::Duration;

use serde_json::Value;
use vane_core::{Bar, Bars, Interval, Symbol, Timestamp};

use super::http::{Http, RawResponse, RetryPolicy, Sleeper, Verdict, snippet};
use super::{Exchange, KlineSource, PageProblem, finish_page, int_field, num_field};
use crate::error::{MarketDataError, Result};

/// Which Binance market.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinanceMarket {
    /// Spot, `/api/v3/klines`.
    Spot,
    /// USDT-M futures, `/fapi/v1/klines`.
    UsdM,
}

/// A Binance kline client.
#[derive(Debug)]
pub struct BinanceClient {
    market: BinanceMarket,
    base_url: String,
    http: Http,
    weight_budget: u64,
    /// Wait owed before the next request (the weight budget was spent).
    pending_wait: Mutex<Option<Duration>>,
}

impl BinanceClient {
    /// A client for `market` at `base_url` (no trailing slash).
    pub fn new(market: BinanceMarket, base_url: String, retry: RetryPolicy, sleeper: Sleeper) -> Self {
        let exchange = match market {
            BinanceMarket::Spot => "binance-spot",
            BinanceMarket::UsdM => "binance-usdm",
        };
        // 80 % of the published request-weight limits (spot 6000/min, futures 2400/min).
        let weight_budget = match market {
            BinanceMarket::Spot => 4800,
            BinanceMarket::UsdM => 1900,
        };
        Self {
            market,
            base_url,
            http: Http::new(exchange, retry, sleeper),
            weight_budget,
            pending_wait: Mutex::new(None),
        }
    }

    /// Sets the used-weight level at which the client pauses until the next minute.
    pub fn with_weight_budget(mut self, weight: u64) -> Self {
        self.weight_budget = weight;
        self
    }

    fn supports(&self, interval: Interval) -> bool {
        use Interval::*;
        match interval {
            S1 => self.market == BinanceMarket::Spot,
            S5 | S10 | S15 | S30 => false,
            _ => true,
        }
    }
}

impl KlineSource for BinanceClient {
    fn exchange(&self) -> Exchange {
        match self.market {
            BinanceMarket::Spot => Exchange::BinanceSpot,
            BinanceMarket::UsdM => Exchange::BinanceUsdm,
        }
    }

    fn max_limit(&self) -> usize {
        match self.market {
            BinanceMarket::Spot => 1000,
            BinanceMarket::UsdM => 1500,
        }
    }

    fn fetch_page(
        &self,
        symbol: &Symbol,
        interval: Interval,
        start: Timestamp,
        end: Timestamp,
        limit: usize,
    ) -> Result<Bars> {
        if !self.supports(interval) {
            return Err(MarketDataError::InvalidArgument(format!("{} has no {interval} klines", self.exchange())));
        }
        if limit == 0 || limit > self.max_limit() {
            return Err(MarketDataError::InvalidArgument(format!(
                "limit {limit} outside 1..={} for {}",
                self.max_limit(),
                self.exchange()
            )));
        }
        if let Some(wait) = self.pending_wait.lock().map(|mut w| w.take()).unwrap_or(None) {
            self.http.sleeper.wait(super::http::RetryNotice {
                exchange: self.http.exchange,
                why: format!("request weight budget of {} per minute spent", self.weight_budget),
                wait,
                asked_by_exchange: true,
                next_attempt: None,
            });
        }
        let path = match self.market {
            BinanceMarket::Spot => "/api/v3/klines",
            BinanceMarket::UsdM => "/fapi/v1/klines",
        };
        let url = format!("{}{path}", self.base_url);
        let query = [
            ("symbol", symbol.to_string()),
            ("interval", interval.to_string()),
            ("startTime", start.0.to_string()),
            ("endTime", end.0.to_string()),
            ("limit", limit.to_string()),
        ];
        let exchange = self.http.exchange;
        let page = self.http.get(&url, &query, |resp: &RawResponse, full: &str| {
            if resp.status != 200 {
                // Binance errors are {"code": -1121, "msg": "Invalid symbol."}.
                if let Ok(v) = serde_json::from_str::<Value>(&resp.body)
                    && let (Some(code), Some(msg)) =
                        (v.get("code").and_then(Value::as_i64), v.get("msg").and_then(Value::as_str))
                {
                    return Verdict::Fail(MarketDataError::Api {
                        exchange,
                        url: full.into(),
                        code,
                        message: msg.into(),
                    });
                }
                return Verdict::Fail(MarketDataError::Http {
                    exchange,
                    url: full.into(),
                    status: resp.status,
                    attempts: 1,
                    body: snippet(&resp.body),
                });
            }
            match parse_klines(&resp.body, interval, start, end) {
                Ok(bars) => Verdict::Done((bars, resp.used_weight_1m)),
                Err(problem) => Verdict::Fail(problem.into_error(exchange, full)),
            }
        })?;
        let (bars, used) = page;
        if let Some(used) = used
            && used >= self.weight_budget
        {
            let now = Timestamp::now().0;
            let to_next_minute = 60_000 - now.rem_euclid(60_000) + 1_000;
            if let Ok(mut w) = self.pending_wait.lock() {
                *w = Some(Duration::from_millis(to_next_minute as u64));
            }
        }
        Ok(bars)
    }
}

pub(super) fn parse_klines(
    body: &str,
    interval: Interval,
    start: Timestamp,
    end: Timestamp,
) -> std::result::Result<Bars, PageProblem> {
    let v: Value = serde_json::from_str(body).map_err(|e| format!("invalid JSON ({e}): {}", snippet(body)))?;
    let rows = v.as_array().ok_or_else(|| format!("expected an array of klines, got {}", snippet(body)))?;
    let mut bars = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        let f = row
            .as_array()
            .filter(|a| a.len() >= 11)
            .ok_or_else(|| format!("kline #{i} is not an array of ≥ 11 fields: {row}"))?;
        let at = |k: usize, what: &str| num_field(&f[k], &format!("kline #{i} {what}"));
        let open_time = Timestamp(int_field(&f[0], &format!("kline #{i} open time"))?);
        let close_time = int_field(&f[6], &format!("kline #{i} close time"))?;
        if close_time != interval.close_time(open_time).0 {
            return Err(format!(
                "kline #{i}: close time {close_time} does not match a {interval} bar opening at {open_time}"
            )
            .into());
        }
        let trades = int_field(&f[8], &format!("kline #{i} trades"))?;
        let bar = Bar {
            open_time,
            open: at(1, "open")?,
            high: at(2, "high")?,
            low: at(3, "low")?,
            close: at(4, "close")?,
            volume: at(5, "volume")?,
            quote_volume: Some(at(7, "quote volume")?),
            trades: Some(u64::try_from(trades).map_err(|_| format!("kline #{i}: negative trade count"))?),
            taker_buy_base: Some(at(9, "taker buy base volume")?),
            taker_buy_quote: Some(at(10, "taker buy quote volume")?),
        };
        bars.push(bar);
    }
    finish_page(bars, interval, start, end)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROW: &str = r#"[[1672531200000,"16541.77000000","16559.77000000","16508.39000000","16533.04000000","15515.82327000",1672545599999,"256565046.24440780",529532,"7617.41262000","125959681.22808840","0"]]"#;

    #[test]
    fn parses_real_row() {
        let b = parse_klines(ROW, Interval::H4, Timestamp(0), Timestamp(i64::MAX)).unwrap();
        let bar = b.get(0).unwrap();
        assert_eq!(bar.open_time.0, 1_672_531_200_000);
        assert_eq!((bar.open, bar.close, bar.volume), (16541.77, 16533.04, 15515.82327));
        assert_eq!(bar.trades, Some(529_532));
        assert_eq!(bar.taker_buy_quote, Some(125_959_681.228_088_4));
    }

    #[test]
    fn rejects_malformed() {
        let cases = [
            ("{\"oops\":1}", "expected an array"),
            ("[[1,2]]", "not an array of ≥ 11 fields"),
            ("[1,", "invalid JSON"),
            (&ROW.replace("\"16559.77000000\"", "\"abc\""), "high \"abc\" is not a number"),
            (&ROW.replace("1672545599999", "1672545599000"), "close time"),
            (&ROW.replace("\"16559.77000000\"", "\"1\""), "high 1 is below"),
        ];
        for (body, msg) in cases {
            let e = parse_klines(body, Interval::H4, Timestamp(0), Timestamp(i64::MAX)).unwrap_err();
            assert!(e.contains(msg), "{e:?} lacks {msg:?}");
        }
    }
}
