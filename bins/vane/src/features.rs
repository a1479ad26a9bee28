//! `vane features`.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use vane_core::{Bars, Interval, Symbol};
use vane_indicators::{FeatureFrame, FeatureSet};
use vane_market_data::{ParquetStore, read_csv, read_parquet_file, write_table_parquet};

use crate::DataDir;

#[derive(Debug, clap::Args)]
pub(crate) struct FeaturesArgs {
    /// Candles from a file (.csv in the fixture schema, or .parquet as the store writes it) ...
    #[arg(long, required_unless_present = "symbol")]
    input: Option<PathBuf>,
    /// ... or from the store.
    #[arg(long, conflicts_with = "input", requires = "interval")]
    symbol: Option<Symbol>,
    /// Bar interval (required with --symbol; inferred from the open times of --input otherwise).
    #[arg(long)]
    interval: Option<Interval>,
    /// The feature set: talib, v1, full, regime or lorentzian.
    #[arg(long)]
    set: FeatureSet,
    /// Also compute the set on this coarser interval and join it without look-ahead.
    #[arg(long)]
    mtf: Option<Interval>,
    /// Output file (.csv or .parquet); CSV to stdout when absent.
    #[arg(long)]
    output: Option<PathBuf>,
    #[command(flatten)]
    data: DataDir,
}

pub(crate) fn run(a: FeaturesArgs) -> Result<()> {
    let (bars, interval) = load(&a)?;
    let frame: FeatureFrame = match a.mtf {
        Some(coarse) => {
            let iv = interval.context("--mtf needs the bar interval: pass --interval")?;
            a.set.compute_multi_timeframe(&bars, iv, coarse)?
        }
        None => a.set.compute(&bars),
    };
    match &a.output {
        None => {
            let stdout = std::io::stdout();
            let mut lock = std::io::BufWriter::new(stdout.lock());
            frame.write_csv(&mut lock)?;
        }
        Some(p) if is_parquet(p) => {
            write_table_parquet(p, "open_time_ms", frame.open_time(), frame.names(), frame.columns())?;
            eprintln!("{} rows × {} {} features -> {}", frame.len(), frame.names().len(), a.set, p.display());
        }
        Some(p) => {
            let tmp = p.with_extension("csv.tmp");
            let mut f = std::io::BufWriter::new(
                std::fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?,
            );
            frame.write_csv(&mut f).with_context(|| format!("writing {}", tmp.display()))?;
            drop(f);
            std::fs::rename(&tmp, p).with_context(|| format!("renaming into {}", p.display()))?;
            eprintln!("{} rows × {} {} features -> {}", frame.len(), frame.names().len(), a.set, p.display());
        }
    }
    Ok(())
}

fn is_parquet(p: &std::path::Path) -> bool {
    p.extension().is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
}

fn load(a: &FeaturesArgs) -> Result<(Bars, Option<Interval>)> {
    if let Some(symbol) = &a.symbol {
        let iv = a.interval.context("--symbol needs --interval")?;
        return Ok((ParquetStore::new(&a.data.data_dir).read(symbol, iv)?, Some(iv)));
    }
    let Some(path) = &a.input else { bail!("give --input FILE or --symbol S --interval I") };
    let bars = if is_parquet(path) { read_parquet_file(path)? } else { read_csv(path, a.interval)? };
    let interval = a.interval.or_else(|| infer_interval(&bars));
    if let Some(iv) = interval
        && let Some(&t) = bars.open_time().iter().find(|&&t| !iv.is_aligned(vane_core::Timestamp(t)))
    {
        bail!("{}: bar at {} is not aligned to {iv}", path.display(), vane_core::Timestamp(t));
    }
    Ok((bars, interval))
}

/// The smallest step between open times, when it is a known interval.
fn infer_interval(bars: &Bars) -> Option<Interval> {
    let step = bars.open_time().windows(2).map(|w| w[1] - w[0]).min()?;
    Interval::from_millis(step)
}
