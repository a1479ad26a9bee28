//! `vane download`.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use vane_core::{DAY_MS, Interval, Symbol, Timestamp};
use vane_market_data::{DownloadRequest, DownloadSummary, Downloader, Exchange, ParquetStore, RetryPolicy, Sleeper};

use crate::DataDir;

#[derive(Debug, clap::Args)]
pub(crate) struct DownloadArgs {
    /// binance-spot, binance-usdm or bybit-linear.
    #[arg(long, default_value = "binance-spot")]
    exchange: Exchange,
    /// Comma-separated symbols (BTCUSDT,ETHUSDT).
    #[arg(long, value_delimiter = ',', required_unless_present = "symbols_file")]
    symbols: Vec<Symbol>,
    /// A file with one symbol per line (`#` comments allowed), e.g. examples/universes/*.txt.
    #[arg(long, conflicts_with = "symbols")]
    symbols_file: Option<PathBuf>,
    /// Bar interval (1m, 15m, 4h, ...).
    #[arg(long)]
    interval: Interval,
    /// When nothing is stored yet: start this many days ago.
    #[arg(long, default_value_t = 1095, conflicts_with = "since")]
    since_days: u32,
    /// When nothing is stored yet: start at this date (YYYY-MM-DD or ms).
    #[arg(long)]
    since: Option<Timestamp>,
    /// Only bars opening before this date (default: up to the last closed bar).
    #[arg(long)]
    until: Option<Timestamp>,
    #[command(flatten)]
    data: DataDir,
    /// Exchange endpoint (default: the exchange's public API).
    #[arg(long)]
    base_url: Option<String>,
    /// Request attempts before giving up on a page.
    #[arg(long, default_value_t = 6)]
    max_attempts: u32,
    /// Print the summaries as JSON.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(a: DownloadArgs) -> Result<()> {
    let symbols = match &a.symbols_file {
        Some(f) => read_universe(f)?,
        None => a.symbols.clone(),
    };
    if symbols.is_empty() {
        bail!("no symbols given");
    }
    let retry = RetryPolicy { max_attempts: a.max_attempts.max(1), ..RetryPolicy::default() };
    let client = a.exchange.client(a.base_url.as_deref(), retry, Sleeper::default());
    let store = ParquetStore::new(&a.data.data_dir);
    let since = a.since.unwrap_or_else(|| Timestamp(Timestamp::now().0 - i64::from(a.since_days) * DAY_MS));
    let mut summaries: Vec<DownloadSummary> = Vec::new();
    let mut failures = Vec::new();
    for symbol in symbols {
        let req = DownloadRequest { symbol: symbol.clone(), interval: a.interval, since, until: a.until };
        let bar = ProgressBar::new(1000);
        bar.set_style(
            ProgressStyle::with_template("{prefix:>14} [{bar:30}] {percent:>3}% {msg}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        bar.set_prefix(format!("{symbol} {}", a.interval));
        bar.enable_steady_tick(Duration::from_millis(200));
        let result = Downloader::new(client.as_ref(), &store).download(&req, &mut |p| {
            bar.set_position((p.fraction() * 1000.0) as u64);
            bar.set_message(format!("{} bars, up to {}", p.rows_fetched, p.fetched_until));
        });
        bar.finish_and_clear();
        match result {
            Ok(s) => {
                if !a.json {
                    println!("{}", describe(&s, a.exchange));
                }
                summaries.push(s);
            }
            Err(e) => {
                eprintln!("error: {symbol} {}: {e}", a.interval);
                failures.push(symbol);
            }
        }
    }
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({ "exchange": a.exchange, "downloads": summaries }))?
        );
    }
    if !failures.is_empty() {
        bail!(
            "{} of the symbols failed: {}",
            failures.len(),
            failures.iter().map(Symbol::as_str).collect::<Vec<_>>().join(",")
        );
    }
    Ok(())
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

/// Reads a symbol universe: one symbol per line, blank lines and `#` comments ignored.
pub(crate) fn read_universe(path: &std::path::Path) -> Result<Vec<Symbol>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let s = line.split('#').next().unwrap_or("").trim();
        if !s.is_empty() {
            out.push(Symbol::new(s).with_context(|| format!("{}:{}", path.display(), i + 1))?);
        }
    }
    Ok(out)
}
