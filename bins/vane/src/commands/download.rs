//! `vane download`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use vane_core::{DAY_MS, Interval, Symbol, Timestamp};
use vane_market_data::{
    DownloadRequest, DownloadSummary, Downloader, Exchange, MarketDataError, ParquetStore, RetryPolicy, Sleeper,
    read_universe,
};

use crate::args::download::DownloadArgs;
use crate::output::Render;

#[derive(Serialize)]
pub(crate) struct Downloads {
    exchange: Exchange,
    downloads: Vec<DownloadSummary>,
    #[serde(skip)]
    failures: Vec<Symbol>,
}

fn progress_bar(prefix: String) -> ProgressBar {
    let bar = ProgressBar::new(1000);
    bar.set_style(
        ProgressStyle::with_template("{prefix:>14} [{bar:30}] {percent:>3}% {msg}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_prefix(prefix);
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

pub(crate) fn run(a: DownloadArgs) -> Result<Downloads> {
    let symbols = match &a.symbols_file {
        Some(f) => read_universe(f)?,
        None => a.symbols.clone(),
    };
    if symbols.is_empty() {
        bail!("no symbols given");
    }
    if let Some(hint) = missing_interval(a.exchange, a.interval) {
        return Err(crate::failure::usage(hint));
    }
    let retry = RetryPolicy {
        max_attempts: a.max_attempts.max(1),
        max_wait: Duration::from_secs(a.max_wait),
        timeout: Duration::from_secs(a.timeout),
        ..RetryPolicy::default()
    };
    // Every wait (Retry-After, backoff, the weight budget) is shown on stderr above the bar.
    let current: Arc<Mutex<Option<ProgressBar>>> = Arc::default();
    let shown = current.clone();
    let sleeper = Sleeper::default().with_report(move |n| {
        let line = format!("note: {n}");
        match shown.lock().ok().and_then(|b| b.clone()) {
            Some(bar) => bar.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    });
    let client = a.exchange.client(a.base_url.as_deref(), retry, sleeper);
    let store = ParquetStore::new(&a.data.data_dir);
    let mut pg = match &a.pg.database_url {
        Some(url) => Some(crate::commands::db::open(Some(url))?),
        None => None,
    };
    let since = a.since.unwrap_or_else(|| Timestamp(Timestamp::now().0 - i64::from(a.since_days) * DAY_MS));
    let mut report = Downloads { exchange: a.exchange, downloads: Vec::new(), failures: Vec::new() };
    for symbol in symbols {
        let req = DownloadRequest { symbol: symbol.clone(), interval: a.interval, since, until: a.until };
        let bar = progress_bar(format!("{symbol} {}", a.interval));
        if let Ok(mut c) = current.lock() {
            *c = Some(bar.clone());
        }
        let mut on_page = |p: &vane_market_data::Progress| {
            bar.set_position((p.fraction() * 1000.0) as u64);
            bar.set_message(format!("{} bars, up to {}", p.rows_fetched, p.fetched_until));
        };
        let result = match pg.as_mut() {
            None => Downloader::new(client.as_ref(), &store).download(&req, &mut on_page),
            Some(pg) => match pg.download(client.as_ref(), &req, Timestamp::now(), &mut on_page) {
                Ok(s) => Ok(s),
                Err(vane_postgres::PgError::MarketData(e)) => Err(e),
                // The database failed (unreachable, not migrated, ...): every symbol would.
                Err(e) => return Err(e.into()),
            },
        };
        bar.finish_and_clear();
        if let Ok(mut c) = current.lock() {
            *c = None;
        }
        match result {
            Ok(s) => report.downloads.push(s),
            // An error that every symbol would hit (a bad URL, an interval the exchange lacks,
            // a --since out of range) ends the run with its own class.
            Err(e) if is_for_every_symbol(&e) => return Err(e.into()),
            Err(e) => {
                eprintln!("error: {symbol} {}: {e}", a.interval);
                report.failures.push(symbol);
            }
        }
    }
    Ok(report)
}

/// Whether `exchange` serves `interval` klines (Binance spot: 1s and 1m up; Binance USDT-M:
/// 1m up; Bybit linear: its own list, without 8h).
fn offers(exchange: Exchange, interval: Interval) -> bool {
    match exchange {
        Exchange::BinanceSpot => interval == Interval::S1 || interval.millis() >= Interval::M1.millis(),
        Exchange::BinanceUsdm => interval.millis() >= Interval::M1.millis(),
        Exchange::BybitLinear => vane_market_data::client::bybit_interval(interval).is_some(),
    }
}

/// When `exchange` has no `interval` klines: the message, with the interval to download instead
/// and the `vane resample` that builds the asked one from it. Checked before any request, so a
/// newcomer's `--interval 5s` fails at once rather than after a network round trip.
fn missing_interval(exchange: Exchange, interval: Interval) -> Option<String> {
    if offers(exchange, interval) {
        return None;
    }
    // The coarsest interval the exchange serves that divides the asked one.
    let source = Interval::ALL
        .iter()
        .rev()
        .copied()
        .find(|&s| s.millis() < interval.millis() && interval.millis() % s.millis() == 0 && offers(exchange, s));
    let fix = match source {
        Some(s) => format!(
            "download --interval {s} and build {interval} with `vane resample --symbol S --from {s} --to {interval}`"
        ),
        None if interval.millis() < Interval::M1.millis() => format!(
            "only binance-spot has second bars (1s): download those with --exchange binance-spot --interval 1s, then `vane resample --symbol S --from 1s --to {interval}`"
        ),
        None => "pick another --interval".to_string(),
    };
    Some(format!("--interval {interval}: {exchange} has no {interval} klines; {fix}"))
}

fn is_for_every_symbol(e: &MarketDataError) -> bool {
    let e = match e {
        MarketDataError::Interrupted { source, .. } => source.as_ref(),
        other => other,
    };
    matches!(
        e,
        MarketDataError::BadUrl { .. } | MarketDataError::InvalidArgument(_) | MarketDataError::NotAFolder { .. }
    )
}

impl Render for Downloads {
    fn human(&self) -> String {
        self.downloads.iter().map(|s| describe(s, self.exchange) + "\n").collect()
    }
    fn failure(&self) -> Option<String> {
        (!self.failures.is_empty()).then(|| {
            let names: Vec<&str> = self.failures.iter().map(Symbol::as_str).collect();
            format!("{} of the symbols failed: {}", self.failures.len(), names.join(","))
        })
    }
}

fn describe(s: &DownloadSummary, exchange: Exchange) -> String {
    let range = match (s.first_added_ms, s.last_added_ms) {
        (Some(a), Some(b)) => format!(" ({} → {})", Timestamp(a), Timestamp(b)),
        _ => String::new(),
    };
    let gaps = if s.report.gaps.is_empty() {
        "no gaps".to_string()
    } else {
        format!("{} gap(s), {} missing bars", s.report.gaps.len(), s.report.missing_bars())
    };
    format!(
        "{} {} from {exchange}: +{} rows{range}, {} requests; stored {} rows, {gaps}",
        s.symbol, s.interval, s.rows_added, s.requests, s.stored_rows
    )
}
