//! Test support for the vane workspace (`publish = false`, a dev-dependency only): the bundled
//! fixtures, read through one helper, and a local mock exchange that serves the fixture candles
//! in Binance's and Bybit's real response formats, with scripted failures.
//!
//! The mock is a plain `std::net` HTTP/1.1 server on 127.0.0.1 (one thread, `Connection: close`):
//! no async runtime, no extra dependencies.
//!
//! Helpers panic on failure (with the path or address in the message): they serve tests only.
//!
//! # Feature flags
//! None.
#![warn(missing_docs)]

use std::collections::{BTreeMap, VecDeque};
use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use vane_core::{Bar, Bars, Interval, Symbol, Timestamp};
use vane_market_data::ParquetStore;
use vane_market_data::client::bybit_interval;

/// The repository's `fixtures/` folder.
pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

/// Reads a bundled candle CSV (`rel` under `fixtures/`), checked against `interval`.
pub fn fixture_bars(rel: &str, interval: Interval) -> Bars {
    let path = fixtures_dir().join(rel);
    vane_market_data::read_csv(&path, Some(interval)).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()))
}

/// A parquet store under `dir/data` holding the bundled BTCUSDT and ETHUSDT 4h candles (2023).
pub fn fixture_store_4h(dir: &std::path::Path) -> ParquetStore {
    let store = ParquetStore::new(dir.join("data"));
    for s in ["BTCUSDT", "ETHUSDT"] {
        let symbol = Symbol::new(s).expect("valid symbol");
        store
            .append(&symbol, Interval::H4, &fixture_bars(&format!("{s}_4h.csv"), Interval::H4))
            .expect("fixture store");
    }
    store
}

/// Hand-written test paths: one 1-minute bar per `(open, high, low, close)` row from time 0,
/// volume 1.
pub fn ohlc_path(rows: &[(f64, f64, f64, f64)]) -> Bars {
    let bars: Vec<Bar> = rows
        .iter()
        .enumerate()
        .map(|(i, &(o, h, l, c))| Bar::ohlcv(Timestamp(i as i64 * 60_000), o, h, l, c, 1.0))
        .collect();
    Bars::from_bars(&bars).expect("a valid hand-written path")
}

/// Which exchange format the mock speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    /// `/api/v3/klines`, limit ≤ 1000.
    BinanceSpot,
    /// `/fapi/v1/klines`, limit ≤ 1500.
    BinanceUsdm,
    /// `/v5/market/kline?category=linear`, limit ≤ 1000, newest first.
    BybitLinear,
}

/// A scripted answer that replaces the normal one for one request.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// An HTTP status with a body and, optionally, a `Retry-After` header (seconds).
    Status {
        /// The status code.
        code: u16,
        /// `Retry-After` seconds.
        retry_after: Option<u64>,
        /// The body.
        body: String,
    },
    /// A 200 whose body is cut-off JSON.
    MalformedJson,
    /// A 200 with no klines.
    EmptyPage,
    /// A Bybit 200 with this `retCode` and `retMsg`.
    RetCode(i64, String),
    /// Answers as a server that ignores the requested start time: the first `limit` bars of the
    /// data (and the latest ones for Bybit), whatever window was asked for.
    IgnoreStart,
    /// Reads the request, then says nothing for this many milliseconds before closing the
    /// connection (a hanging server; the mock serves nobody else meanwhile).
    Hang(u64),
    /// Drops the connection without answering and stops listening: every later connection is
    /// refused, as when an exchange endpoint goes away mid-download.
    Die,
}

#[derive(Default)]
struct State {
    faults: VecDeque<Fault>,
    /// Faults keyed by the 0-based index of the request they replace.
    faults_at: BTreeMap<usize, Fault>,
    requests: Vec<String>,
    weight: u64,
    weight_per_request: u64,
}

/// A mock exchange serving `bars` of one symbol and interval.
pub struct MockExchange {
    addr: std::net::SocketAddr,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for MockExchange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockExchange").field("addr", &self.addr).finish()
    }
}

impl MockExchange {
    /// Starts serving on a free loopback port.
    pub fn start(flavor: Flavor, symbol: Symbol, interval: Interval, bars: Bars) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let state = Arc::new(Mutex::new(State { weight_per_request: 2, ..State::default() }));
        let stop = Arc::new(AtomicBool::new(false));
        let (st, sp) = (state.clone(), stop.clone());
        let handle = std::thread::spawn(move || {
            let data = Dataset { flavor, symbol, interval, bars };
            for conn in listener.incoming() {
                if sp.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = conn else { continue };
                if serve(stream, &data, &st) == Served::Died {
                    break;
                }
            }
        });
        Self { addr, state, stop, handle: Some(handle) }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Queues a fault for the next request that has no fault scheduled by index.
    pub fn push_fault(&self, fault: Fault) {
        self.state.lock().unwrap().faults.push_back(fault);
    }

    /// Replaces the answer to the `index`-th request (0-based) with `fault`.
    pub fn fault_at(&self, index: usize, fault: Fault) {
        self.state.lock().unwrap().faults_at.insert(index, fault);
    }

    /// Sets the used weight reported in `X-MBX-USED-WEIGHT-1M` and its increase per request.
    pub fn set_weight(&self, used: u64, per_request: u64) {
        let mut s = self.state.lock().unwrap();
        s.weight = used;
        s.weight_per_request = per_request;
    }

    /// The request targets (`/path?query`) received so far.
    pub fn requests(&self) -> Vec<String> {
        self.state.lock().unwrap().requests.clone()
    }
}

impl Drop for MockExchange {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

struct Dataset {
    flavor: Flavor,
    symbol: Symbol,
    interval: Interval,
    bars: Bars,
}

#[derive(PartialEq)]
enum Served {
    Ok,
    Died,
}

fn serve(mut stream: TcpStream, data: &Dataset, state: &Mutex<State>) -> Served {
    let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return Served::Ok;
    }
    loop {
        let mut h = String::new();
        match reader.read_line(&mut h) {
            Ok(0) | Err(_) => break,
            Ok(_) if h == "\r\n" || h == "\n" => break,
            Ok(_) => {}
        }
    }
    let target = line.split_whitespace().nth(1).unwrap_or("/").to_string();
    let (fault, weight) = {
        let mut s = state.lock().unwrap();
        let index = s.requests.len();
        s.requests.push(target.clone());
        let fault = s.faults_at.remove(&index).or_else(|| s.faults.pop_front());
        s.weight += s.weight_per_request;
        (fault, s.weight)
    };
    let mut headers = vec![("Content-Type", "application/json".to_string())];
    if matches!(data.flavor, Flavor::BinanceSpot | Flavor::BinanceUsdm) {
        headers.push(("X-MBX-USED-WEIGHT-1M", weight.to_string()));
    }
    let (status, body) = match fault {
        Some(Fault::Die) => {
            let _ = stream.shutdown(Shutdown::Both);
            return Served::Died;
        }
        Some(Fault::Status { code, retry_after, body }) => {
            if let Some(s) = retry_after {
                headers.push(("Retry-After", s.to_string()));
            }
            (code, body)
        }
        Some(Fault::Hang(ms)) => {
            std::thread::sleep(std::time::Duration::from_millis(ms));
            let _ = stream.shutdown(Shutdown::Both);
            return Served::Ok;
        }
        Some(Fault::IgnoreStart) => {
            // Drop the window from the query (no client sends it first).
            let (start_key, end_key) =
                if data.flavor == Flavor::BybitLinear { ("start=", "end=") } else { ("startTime=", "endTime=") };
            let cut: Vec<&str> =
                target.split('&').filter(|kv| !kv.starts_with(start_key) && !kv.starts_with(end_key)).collect();
            answer(data, &cut.join("&"))
        }
        Some(Fault::MalformedJson) => (200, "[[1672531200000,\"16541.77\",\"165".to_string()),
        Some(Fault::EmptyPage) => (200, render(data, &Bars::empty(Default::default()))),
        Some(Fault::RetCode(code, msg)) => {
            (200, format!(r#"{{"retCode":{code},"retMsg":"{msg}","result":{{}},"retExtInfo":{{}},"time":0}}"#))
        }
        None => answer(data, &target),
    };
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        418 => "I'm a teapot",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        _ => "Status",
    };
    let mut out = format!("HTTP/1.1 {status} {reason}\r\nContent-Length: {}\r\nConnection: close\r\n", body.len());
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(&body);
    let _ = stream.write_all(out.as_bytes());
    let _ = stream.flush();
    let _ = stream.shutdown(Shutdown::Both);
    Served::Ok
}

fn answer(data: &Dataset, target: &str) -> (u16, String) {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let q: BTreeMap<&str, &str> = query.split('&').filter_map(|kv| kv.split_once('=')).collect();
    let (want_path, max_limit, start_key, end_key) = match data.flavor {
        Flavor::BinanceSpot => ("/api/v3/klines", 1000, "startTime", "endTime"),
        Flavor::BinanceUsdm => ("/fapi/v1/klines", 1500, "startTime", "endTime"),
        Flavor::BybitLinear => ("/v5/market/kline", 1000, "start", "end"),
    };
    let binance_err = |code: i64, msg: &str| (400, format!(r#"{{"code":{code},"msg":"{msg}"}}"#));
    let bybit_err = |code: i64, msg: &str| {
        (200, format!(r#"{{"retCode":{code},"retMsg":"{msg}","result":{{}},"retExtInfo":{{}},"time":0}}"#))
    };
    let is_bybit = data.flavor == Flavor::BybitLinear;
    if path != want_path {
        return (404, "<html>Not Found</html>".into());
    }
    if q.get("symbol") != Some(&data.symbol.as_str()) {
        return if is_bybit {
            bybit_err(10001, "params error: symbol invalid")
        } else {
            binance_err(-1121, "Invalid symbol.")
        };
    }
    let interval_ok = match data.flavor {
        Flavor::BybitLinear => {
            q.get("interval").copied() == bybit_interval(data.interval) && q.get("category") == Some(&"linear")
        }
        _ => q.get("interval") == Some(&data.interval.as_str()),
    };
    if !interval_ok {
        return if is_bybit {
            bybit_err(10001, "params error: interval invalid")
        } else {
            binance_err(-1120, "Invalid interval.")
        };
    }
    let limit: usize = q.get("limit").and_then(|v| v.parse().ok()).unwrap_or(500);
    if limit == 0 || limit > max_limit {
        return if is_bybit {
            bybit_err(10001, "params error: limit")
        } else {
            binance_err(-1130, "Invalid data sent for a parameter.")
        };
    }
    let start = q.get(start_key).and_then(|v| v.parse().ok()).unwrap_or(i64::MIN);
    let end = q.get(end_key).and_then(|v| v.parse().ok()).unwrap_or(i64::MAX);
    let r = data.bars.index_range(Timestamp(start), Timestamp(end.saturating_add(1)));
    let r = if is_bybit {
        // Bybit returns the latest `limit` bars of the window.
        r.end.saturating_sub(limit).max(r.start)..r.end
    } else {
        r.start..(r.start + limit).min(r.end)
    };
    (200, render(data, &data.bars.slice(r)))
}

fn render(data: &Dataset, bars: &Bars) -> String {
    let c = bars.columns();
    let iv = data.interval;
    let rows: Vec<String> = (0..c.len())
        .map(|i| {
            let qv = c.quote_volume.as_ref().map_or(0.0, |v| v[i]);
            match data.flavor {
                Flavor::BybitLinear => format!(
                    r#"["{}","{}","{}","{}","{}","{}","{}"]"#,
                    c.open_time[i], c.open[i], c.high[i], c.low[i], c.close[i], c.volume[i], qv
                ),
                _ => format!(
                    r#"[{},"{}","{}","{}","{}","{}",{},"{}",{},"{}","{}","0"]"#,
                    c.open_time[i],
                    dec8(c.open[i]),
                    dec8(c.high[i]),
                    dec8(c.low[i]),
                    dec8(c.close[i]),
                    dec8(c.volume[i]),
                    iv.close_time(Timestamp(c.open_time[i])).0,
                    dec8(qv),
                    c.trades.as_ref().map_or(0, |v| v[i]),
                    dec8(c.taker_buy_base.as_ref().map_or(0.0, |v| v[i])),
                    dec8(c.taker_buy_quote.as_ref().map_or(0.0, |v| v[i])),
                ),
            }
        })
        .collect();
    match data.flavor {
        Flavor::BybitLinear => {
            let newest_first: Vec<&String> = rows.iter().rev().collect();
            format!(
                r#"{{"retCode":0,"retMsg":"OK","result":{{"category":"linear","symbol":"{}","list":[{}]}},"retExtInfo":{{}},"time":1700000000000}}"#,
                data.symbol,
                newest_first.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(",")
            )
        }
        _ => format!("[{}]", rows.join(",")),
    }
}

/// Binance's decimal spelling: the value's shortest form padded with zeros to 8 decimals
/// (`16541.77` → `"16541.77000000"`), so parsing it back gives the same `f64`.
fn dec8(v: f64) -> String {
    let s = v.to_string();
    match s.split_once('.') {
        Some((_, frac)) if frac.len() >= 8 => s,
        Some((_, frac)) => format!("{s}{}", "0".repeat(8 - frac.len())),
        None => format!("{s}.00000000"),
    }
}
