//! The exchange clients and the incremental downloader against a local mock exchange serving
//! the bundled real candles in Binance's and Bybit's formats, with failures injected.
//! After every scenario the store must hold exactly the expected bars.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use vane_core::{Bars, Interval, Symbol, Timestamp};
use vane_market_data::{
    DownloadRequest, DownloadSummary, Downloader, Exchange, MarketDataError, ParquetStore, Progress, RetryPolicy,
    Sleeper,
};
use vane_testkit::{Fault, Flavor, MockExchange, fixture_bars};

struct Rig {
    mock: MockExchange,
    sleeps: Arc<Mutex<Vec<Duration>>>,
    store: ParquetStore,
    _dir: tempfile::TempDir,
    exchange: Exchange,
}

fn btc() -> Symbol {
    Symbol::new("BTCUSDT").unwrap()
}

fn fixture() -> Bars {
    fixture_bars("BTCUSDT_4h.csv", Interval::H4)
}

/// "Now" just after the fixture's last 4h bar closed.
fn after_fixture() -> Timestamp {
    Timestamp(fixture().last_open_time().unwrap().0 + Interval::H4.millis() + 60_000)
}

fn rig(flavor: Flavor, bars: Bars) -> Rig {
    let exchange = match flavor {
        Flavor::BinanceSpot => Exchange::BinanceSpot,
        Flavor::BinanceUsdm => Exchange::BinanceUsdm,
        Flavor::BybitLinear => Exchange::BybitLinear,
    };
    let dir = tempfile::tempdir().unwrap();
    Rig {
        mock: MockExchange::start(flavor, btc(), Interval::H4, bars),
        sleeps: Arc::default(),
        store: ParquetStore::new(dir.path()),
        _dir: dir,
        exchange,
    }
}

impl Rig {
    fn run(&self, limit: usize, now: Timestamp) -> Result<DownloadSummary, MarketDataError> {
        self.run_with(limit, now, RetryPolicy { base_delay: Duration::from_millis(250), ..RetryPolicy::default() })
    }

    fn run_with(&self, limit: usize, now: Timestamp, retry: RetryPolicy) -> Result<DownloadSummary, MarketDataError> {
        Job { retry, ..self.job(limit, now) }.run(&mut |_| {})
    }

    /// A download from this rig's mock into its store, recording sleeps; fields overridable.
    fn job(&self, limit: usize, now: Timestamp) -> Job<'_> {
        let sleeps = self.sleeps.clone();
        Job {
            exchange: self.exchange,
            url: self.mock.url(),
            store: &self.store,
            since: Timestamp::from_ymd(2023, 1, 1).unwrap(),
            until: None,
            limit,
            now,
            retry: RetryPolicy { base_delay: Duration::from_millis(250), ..RetryPolicy::default() },
            sleeper: Sleeper::new(move |d| sleeps.lock().unwrap().push(d)),
        }
    }

    fn stored(&self) -> Bars {
        self.store.read(&btc(), Interval::H4).unwrap()
    }

    fn sleeps(&self) -> Vec<Duration> {
        self.sleeps.lock().unwrap().clone()
    }
}

struct Job<'a> {
    exchange: Exchange,
    url: String,
    store: &'a ParquetStore,
    since: Timestamp,
    until: Option<Timestamp>,
    limit: usize,
    now: Timestamp,
    retry: RetryPolicy,
    sleeper: Sleeper,
}

impl Job<'_> {
    fn run(self, progress: &mut dyn FnMut(&Progress)) -> Result<DownloadSummary, MarketDataError> {
        let client = self.exchange.client(Some(&self.url), self.retry, self.sleeper);
        let req = DownloadRequest { symbol: btc(), interval: Interval::H4, since: self.since, until: self.until };
        let now = self.now;
        Downloader::new(client.as_ref(), self.store)
            .with_page_limit(self.limit)
            .with_clock(Arc::new(move || now))
            .download(&req, progress)
    }
}

/// The store holds exactly `want`: same open times (so no gap, no duplicate) and same values.
fn assert_store_eq(got: &Bars, want: &Bars) {
    assert_eq!(got.len(), want.len(), "row count");
    assert_eq!(got.open_time(), want.open_time());
    assert_eq!(got.close(), want.close());
    assert_eq!(got, want, "every column identical");
}

#[test]
fn binance_spot_paginates_the_whole_fixture() {
    let r = rig(Flavor::BinanceSpot, fixture());
    let s = r.run(500, after_fixture()).unwrap();
    assert_store_eq(&r.stored(), &fixture());
    assert_eq!((s.rows_added, s.rows_replaced, s.stored_rows), (2190, 0, 2190));
    assert_eq!(s.requests, 5, "2190 bars in pages of 500");
    assert!(s.report.is_clean());
    let reqs = r.mock.requests();
    assert!(
        reqs[0].starts_with("/api/v3/klines?symbol=BTCUSDT&interval=4h&startTime=1672531200000&endTime="),
        "{}",
        reqs[0]
    );
    assert!(reqs.iter().all(|q| q.ends_with("&limit=500")));
    // A second run has nothing to fetch and changes nothing.
    let again = r.run(500, after_fixture()).unwrap();
    assert_eq!((again.rows_added, again.requests), (0, 0));
    assert_store_eq(&r.stored(), &fixture());
}

#[test]
fn binance_usdm_uses_fapi_and_1500_limit() {
    let r = rig(Flavor::BinanceUsdm, fixture());
    let s = r.run(1500, after_fixture()).unwrap();
    assert_eq!(s.requests, 2);
    assert!(r.mock.requests()[0].starts_with("/fapi/v1/klines?"));
    assert_store_eq(&r.stored(), &fixture());
}

#[test]
fn bybit_newest_first_pages_are_stored_oldest_first() {
    let r = rig(Flavor::BybitLinear, fixture());
    let s = r.run(1000, after_fixture()).unwrap();
    assert_eq!(s.requests, 3);
    assert!(
        r.mock.requests()[0]
            .starts_with("/v5/market/kline?category=linear&symbol=BTCUSDT&interval=240&start=1672531200000&end=")
    );
    let want = Bars::from_columns({
        // Bybit's kline has volume and turnover (quote volume) only.
        let mut c = fixture().into_columns();
        c.trades = None;
        c.taker_buy_base = None;
        c.taker_buy_quote = None;
        c
    })
    .unwrap();
    assert_store_eq(&r.stored(), &want);
}

#[test]
fn http_429_waits_retry_after_then_succeeds() {
    let r = rig(Flavor::BinanceSpot, fixture());
    r.mock.fault_at(
        1,
        Fault::Status { code: 429, retry_after: Some(7), body: r#"{"code":-1003,"msg":"Too many requests."}"#.into() },
    );
    r.run(500, after_fixture()).unwrap();
    assert_eq!(r.sleeps(), vec![Duration::from_secs(7)], "waited exactly Retry-After");
    assert_eq!(r.mock.requests().len(), 6);
    assert_store_eq(&r.stored(), &fixture());
}

#[test]
fn http_500_backs_off_then_succeeds() {
    let r = rig(Flavor::BinanceSpot, fixture());
    r.mock.fault_at(2, Fault::Status { code: 500, retry_after: None, body: "oops".into() });
    r.mock.fault_at(3, Fault::Status { code: 503, retry_after: None, body: "busy".into() });
    r.run(500, after_fixture()).unwrap();
    let sleeps = r.sleeps();
    assert_eq!(sleeps.len(), 2);
    // Exponential backoff with equal jitter: [125, 250] ms, then [250, 500] ms.
    assert!(sleeps[0] >= Duration::from_millis(125) && sleeps[0] <= Duration::from_millis(250), "{sleeps:?}");
    assert!(sleeps[1] >= Duration::from_millis(250) && sleeps[1] <= Duration::from_millis(500), "{sleeps:?}");
    assert_store_eq(&r.stored(), &fixture());
}

#[test]
fn persistent_500_fails_after_bounded_attempts_keeping_earlier_pages() {
    let r = rig(Flavor::BinanceSpot, fixture());
    for i in 2..20 {
        r.mock.fault_at(i, Fault::Status { code: 502, retry_after: None, body: "bad gateway".into() });
    }
    let retry = RetryPolicy { max_attempts: 3, base_delay: Duration::from_millis(1), ..RetryPolicy::default() };
    let e = r.run_with(500, after_fixture(), retry).unwrap_err();
    let MarketDataError::Interrupted { stored, resume_from, source, .. } = &e else { panic!("{e:?}") };
    assert_eq!(*stored, 1000);
    assert!(matches!(**source, MarketDataError::Transport { attempts: 3, .. }), "{source:?}");
    assert_eq!(r.mock.requests().len(), 5, "2 good pages + 3 attempts");
    assert_store_eq(&r.stored(), &fixture().slice(0..1000));
    assert_eq!(*resume_from, Timestamp(fixture().open_time()[1000]));
    assert!(e.to_string().contains("run it again to resume from 2023-06-16T16:00:00Z"), "{e}");
}

#[test]
fn long_retry_after_fails_fast() {
    let r = rig(Flavor::BinanceSpot, fixture());
    r.mock.fault_at(
        0,
        Fault::Status {
            code: 418,
            retry_after: Some(7200),
            body: r#"{"code":-1003,"msg":"Way too many requests; IP banned."}"#.into(),
        },
    );
    let e = r.run(500, after_fixture()).unwrap_err();
    assert!(e.to_string().contains("asks to wait 7200s"), "{e}");
    assert!(r.sleeps().is_empty());
    assert_eq!(r.mock.requests().len(), 1);
    assert!(!r.store.contains(&btc(), Interval::H4));
}

#[test]
fn malformed_json_is_a_clear_error_and_a_rerun_completes() {
    let r = rig(Flavor::BinanceSpot, fixture());
    r.mock.fault_at(3, Fault::MalformedJson);
    let e = r.run(500, after_fixture()).unwrap_err();
    let MarketDataError::Interrupted { stored: 1500, source, .. } = &e else { panic!("{e:?}") };
    assert!(matches!(**source, MarketDataError::Malformed { .. }), "{source:?}");
    assert!(e.to_string().contains("invalid JSON"), "{e}");
    assert_store_eq(&r.stored(), &fixture().slice(0..1500));
    let s = r.run(500, after_fixture()).unwrap();
    assert_eq!(s.rows_added, 690);
    assert_store_eq(&r.stored(), &fixture());
}

#[test]
fn binance_api_error_is_reported_with_code() {
    let r = rig(Flavor::BinanceSpot, fixture());
    let client = Exchange::BinanceSpot.client(Some(&r.mock.url()), RetryPolicy::default(), Sleeper::default());
    let e =
        client.fetch_page(&Symbol::new("ETHUSDT").unwrap(), Interval::H4, Timestamp(0), Timestamp(1), 10).unwrap_err();
    assert!(matches!(&e, MarketDataError::Api { code: -1121, message, .. } if message == "Invalid symbol."), "{e:?}");
    let e = client.fetch_page(&btc(), Interval::S5, Timestamp(0), Timestamp(1), 10).unwrap_err();
    assert!(e.to_string().contains("binance-spot has no 5s klines"), "{e}");
    let e = client.fetch_page(&btc(), Interval::H4, Timestamp(0), Timestamp(1), 1001).unwrap_err();
    assert!(e.to_string().contains("limit 1001 outside 1..=1000"), "{e}");
}

#[test]
fn empty_pages_before_listing_are_skipped() {
    // Asking from 2022-06-01: the first pages cover months before the data starts and come
    // back empty; the download must go on, not stop.
    let r = rig(Flavor::BinanceSpot, fixture());
    let s = Job { since: Timestamp::from_ymd(2022, 6, 1).unwrap(), ..r.job(500, after_fixture()) }
        .run(&mut |_| {})
        .unwrap();
    assert_eq!(s.rows_added, 2190);
    assert_store_eq(&r.stored(), &fixture());
}

#[test]
fn a_hole_in_the_exchange_data_is_stored_as_a_reported_gap() {
    // The exchange itself has no bars for 600 consecutive 4h slots (one whole page window and
    // more): the store holds exactly what the exchange has and the report names the gap.
    let full = fixture();
    let served = full.slice(0..700).merge(&full.slice(1300..2190)).unwrap().0;
    let r = rig(Flavor::BinanceSpot, served.clone());
    let s = r.run(500, after_fixture()).unwrap();
    assert_store_eq(&r.stored(), &served);
    assert_eq!(s.report.gaps.len(), 1);
    assert_eq!(s.report.gaps[0].after_open_time_ms, full.open_time()[699]);
    assert_eq!(s.report.gaps[0].missing_bars, 600);
    assert_eq!(s.report.duplicates, 0);
}

#[test]
fn bybit_rate_limit_retcode_is_retried_and_other_retcodes_fail() {
    let r = rig(Flavor::BybitLinear, fixture());
    r.mock.fault_at(0, Fault::RetCode(10006, "Too many visits!".into()));
    r.mock.fault_at(1, Fault::Status { code: 403, retry_after: None, body: "access too frequent".into() });
    r.mock.fault_at(3, Fault::RetCode(10001, "params error".into()));
    let e = r.run(1000, after_fixture()).unwrap_err();
    let MarketDataError::Interrupted { stored: 1000, source, .. } = &e else { panic!("{e:?}") };
    assert!(
        matches!(&**source, MarketDataError::Api { code: 10001, message, .. } if message == "params error"),
        "{source:?}"
    );
    assert_eq!(r.sleeps().len(), 2, "10006 and 403 were retried");
    assert_eq!(r.stored().len(), 1000);
    r.run(1000, after_fixture()).unwrap();
    assert_eq!(r.stored().open_time(), fixture().open_time());
}

#[test]
fn server_dying_mid_download_then_resumed_run() {
    let r = rig(Flavor::BinanceSpot, fixture());
    r.mock.fault_at(2, Fault::Die);
    let retry = RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(1),
        timeout: Duration::from_secs(5),
        ..RetryPolicy::default()
    };
    let e = r.run_with(500, after_fixture(), retry).unwrap_err();
    let MarketDataError::Interrupted { stored: 1000, source, .. } = &e else { panic!("{e:?}") };
    assert!(matches!(**source, MarketDataError::Transport { attempts: 3, .. }), "{source:?}");
    assert_store_eq(&r.stored(), &fixture().slice(0..1000));

    // The exchange comes back (a new server with the same data); the next run resumes after
    // the last stored bar and completes the series.
    let back = MockExchange::start(Flavor::BinanceSpot, btc(), Interval::H4, fixture());
    let s = Job { url: back.url(), ..r.job(500, after_fixture()) }.run(&mut |_| {}).unwrap();
    assert_eq!((s.rows_added, s.rows_replaced), (1190, 0));
    assert!(
        back.requests()[0].contains(&format!("startTime={}", fixture().open_time()[1000])),
        "{:?}",
        back.requests()[0]
    );
    assert_store_eq(&r.stored(), &fixture());
}

#[test]
fn the_still_open_bar_is_never_stored() {
    let r = rig(Flavor::BinanceSpot, fixture());
    let last = fixture().last_open_time().unwrap();
    // Two hours into the last bar: it is still open.
    r.run(500, Timestamp(last.0 + 2 * 3_600_000)).unwrap();
    assert_store_eq(&r.stored(), &fixture().slice(0..2189));
    // Once it has closed, the next run adds exactly it.
    let s = r.run(500, after_fixture()).unwrap();
    assert_eq!((s.rows_added, s.requests), (1, 1));
    assert_store_eq(&r.stored(), &fixture());
}

#[test]
fn binance_weight_budget_pauses_until_next_minute() {
    let r = rig(Flavor::BinanceSpot, fixture());
    r.mock.set_weight(4790, 2);
    r.run(500, after_fixture()).unwrap();
    // Weight 4792, 4794, ... ≥ 4800 from the 5th response on: at most one wait owed before a
    // request, each at most 61 s.
    let sleeps = r.sleeps();
    assert_eq!(sleeps.len(), 0, "budget reached only by the last page: {sleeps:?}");
    let r = rig(Flavor::BinanceSpot, fixture());
    r.mock.set_weight(4798, 2);
    r.run(500, after_fixture()).unwrap();
    let sleeps = r.sleeps();
    assert_eq!(sleeps.len(), 4, "one pause before each request after the first: {sleeps:?}");
    assert!(sleeps.iter().all(|d| *d > Duration::from_secs(1) && *d <= Duration::from_secs(61)), "{sleeps:?}");
    assert_store_eq(&r.stored(), &fixture());
}

#[test]
fn progress_reaches_the_target() {
    let r = rig(Flavor::BinanceSpot, fixture());
    let mut seen = Vec::new();
    let s = Job { until: Some(Timestamp::from_ymd(2023, 7, 1).unwrap()), ..r.job(300, after_fixture()) }
        .run(&mut |p| seen.push(p.fraction()))
        .unwrap();
    // 2023-01-01 .. 2023-06-30T20:00 = 181 days × 6 bars.
    assert_eq!(s.rows_added, 1086);
    assert_eq!(s.stored_last_ms, Some(Timestamp::from_ymd(2023, 7, 1).unwrap().0 - Interval::H4.millis()));
    assert_eq!(seen.len(), 4);
    assert!(seen.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(*seen.last().unwrap(), 1.0);
}
