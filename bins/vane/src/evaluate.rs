//! `vane backtest`, `vane metrics`, `vane calibrate`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde_json::json;
use vane_backtest::{Metrics, compute_metrics, run_positions};
use vane_calibration::{CalibrationFile, FORMAT_VERSION, Method, fit_binary};
use vane_core::{Interval, Timestamp};
use vane_costs::CostModel;
use vane_market_data::{read_csv, read_parquet_file};

/// A small CSV: header name → column index, and the rows' fields.
type Table = (HashMap<String, usize>, Vec<Vec<String>>);

/// Reads a CSV with a header.
fn read_table(path: &Path) -> Result<Table> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header = lines.next().with_context(|| format!("{}: empty file", path.display()))?;
    let cols: HashMap<String, usize> = header.split(',').enumerate().map(|(i, h)| (h.trim().to_string(), i)).collect();
    let rows = lines.map(|l| l.split(',').map(|f| f.trim().to_string()).collect()).collect();
    Ok((cols, rows))
}

fn column<T: std::str::FromStr>(
    path: &Path,
    cols: &HashMap<String, usize>,
    rows: &[Vec<String>],
    name: &str,
) -> Result<Vec<T>> {
    let k = *cols.get(name).with_context(|| format!("{}: no column {name:?}", path.display()))?;
    rows.iter()
        .enumerate()
        .map(|(i, r)| {
            let f = r.get(k).map(String::as_str).unwrap_or("");
            f.parse::<T>()
                .map_err(|_| anyhow::anyhow!("{}:{}: column {name}: {f:?} is not a valid value", path.display(), i + 2))
        })
        .collect()
}

#[derive(Debug, clap::Args)]
pub(crate) struct BacktestArgs {
    /// Candles (.csv in the fixture schema, or .parquet).
    #[arg(long)]
    prices: PathBuf,
    /// Positions CSV: `open_time_ms,position` (a position decided at that bar's close); bars
    /// without a row keep the previous position.
    #[arg(long)]
    positions: PathBuf,
    /// Fee per side, bps.
    #[arg(long, default_value_t = 0.0)]
    fee_bps: f64,
    /// Slippage per side, bps.
    #[arg(long, default_value_t = 0.0)]
    slip_bps: f64,
    /// Periods per year (default: from the bar interval, 24/7).
    #[arg(long)]
    periods_per_year: Option<f64>,
    /// Write `open_time_ms,return` per period here.
    #[arg(long)]
    returns_out: Option<PathBuf>,
    /// Print the metrics as JSON.
    #[arg(long)]
    json: bool,
}

pub(crate) fn backtest(a: BacktestArgs) -> Result<()> {
    let parquet = a.prices.extension().is_some_and(|e| e.eq_ignore_ascii_case("parquet"));
    let bars = if parquet { read_parquet_file(&a.prices)? } else { read_csv(&a.prices, None)? };
    let (cols, rows) = read_table(&a.positions)?;
    let times: Vec<i64> = column(&a.positions, &cols, &rows, "open_time_ms")?;
    let pos: Vec<f64> = column(&a.positions, &cols, &rows, "position")?;
    let by_time: HashMap<i64, f64> = times.iter().copied().zip(pos.iter().copied()).collect();
    if let Some(t) = times.iter().find(|t| bars.open_time().binary_search(t).is_err()) {
        bail!("{}: open_time_ms {t} ({}) is not a bar of {}", a.positions.display(), Timestamp(*t), a.prices.display());
    }
    let mut current = 0.0;
    let positions: Vec<f64> = bars
        .open_time()
        .iter()
        .map(|t| {
            if let Some(p) = by_time.get(t) {
                current = *p;
            }
            current
        })
        .collect();
    let costs = CostModel { fee_bps: a.fee_bps, slip_bps: a.slip_bps, funding_bps_per_8h: 0.0 };
    let bt = run_positions(bars.close(), &positions, &costs)?;
    let ppy = match a.periods_per_year {
        Some(p) => p,
        None => {
            let step = bars
                .open_time()
                .windows(2)
                .map(|w| w[1] - w[0])
                .min()
                .context("need at least two bars to infer the interval")?;
            Interval::from_millis(step)
                .context("cannot infer the bar interval: pass --periods-per-year")?
                .periods_per_year()
        }
    };
    if let Some(out) = &a.returns_out {
        let mut s = String::from("open_time_ms,return\n");
        for (t, r) in bars.open_time().iter().zip(&bt.returns).skip(1) {
            s.push_str(&format!("{t},{r}\n"));
        }
        std::fs::write(out, s).with_context(|| format!("writing {}", out.display()))?;
    }
    print_metrics(&bt.metrics(ppy), a.json)
}

fn print_metrics(m: &Metrics, as_json: bool) -> Result<()> {
    if as_json {
        println!("{}", serde_json::to_string_pretty(m)?);
        return Ok(());
    }
    let v = serde_json::to_value(m)?;
    for (k, x) in v.as_object().expect("metrics serialise to an object") {
        println!("{k:<24} {}", if x.is_null() { "n/a".to_string() } else { x.to_string() });
    }
    Ok(())
}

#[derive(Debug, clap::Args)]
pub(crate) struct MetricsArgs {
    /// CSV with a `return` column (one period per row).
    #[arg(long)]
    returns: PathBuf,
    /// Periods per year (4h: 2190, 1d: 365, 1m: 525600).
    #[arg(long)]
    periods_per_year: f64,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

pub(crate) fn metrics(a: MetricsArgs) -> Result<()> {
    let (cols, rows) = read_table(&a.returns)?;
    let r: Vec<f64> = column(&a.returns, &cols, &rows, "return")?;
    if let Some(i) = r.iter().position(|x| !x.is_finite() || *x <= -1.0) {
        bail!("{}:{}: return {} must be finite and > −1", a.returns.display(), i + 2, r[i]);
    }
    if a.periods_per_year.is_nan() || a.periods_per_year <= 0.0 {
        bail!("--periods-per-year must be > 0");
    }
    print_metrics(&compute_metrics(&r, a.periods_per_year, None, &[]), a.json)
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum MethodArg {
    Platt,
    Isotonic,
    Auto,
}

#[derive(Debug, clap::Args)]
pub(crate) struct CalibrateArgs {
    /// platt, isotonic or auto (the better on a held-out part, with fallbacks).
    #[arg(long, value_enum, default_value = "auto")]
    method: MethodArg,
    /// CSV with `score,label` (label 0/1) to fit on, in time order.
    #[arg(long)]
    fit: PathBuf,
    /// CSV with a `score` column to calibrate.
    #[arg(long)]
    apply: PathBuf,
    /// Output CSV: the apply file's columns plus `calibrated`.
    #[arg(long)]
    output: PathBuf,
    /// Held-out share for `auto`.
    #[arg(long, default_value_t = 0.3)]
    holdout: f64,
    /// Also save the fitted calibrator (calibration.json).
    #[arg(long)]
    save: Option<PathBuf>,
    /// Print the fitted parameters as JSON.
    #[arg(long)]
    json: bool,
}

pub(crate) fn calibrate(a: CalibrateArgs) -> Result<()> {
    let (cols, rows) = read_table(&a.fit)?;
    let scores: Vec<f64> = column(&a.fit, &cols, &rows, "score")?;
    let labels: Vec<u8> = column(&a.fit, &cols, &rows, "label")?;
    if let Some(i) = labels.iter().position(|&l| l > 1) {
        bail!("{}:{}: label {} must be 0 or 1", a.fit.display(), i + 2, labels[i]);
    }
    let y: Vec<bool> = labels.iter().map(|&l| l == 1).collect();
    let method = match a.method {
        MethodArg::Platt => Method::Platt,
        MethodArg::Isotonic => Method::Isotonic,
        MethodArg::Auto => Method::Auto,
    };
    let (cal, choice) = fit_binary(method, &scores, &y, a.holdout)?;
    let (acols, arows) = read_table(&a.apply)?;
    let apply_scores: Vec<f64> = column(&a.apply, &acols, &arows, "score")?;
    let text = std::fs::read_to_string(&a.apply)?;
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let mut out = format!("{},calibrated\n", lines.next().unwrap_or("score"));
    for (line, s) in lines.zip(&apply_scores) {
        out.push_str(&format!("{line},{}\n", cal.apply(*s)));
    }
    std::fs::write(&a.output, out).with_context(|| format!("writing {}", a.output.display()))?;
    let file = CalibrationFile {
        format_version: FORMAT_VERSION,
        calibrators: vec![cal.clone()],
        temperature: None,
        choices: vec![choice.clone()],
    };
    if let Some(p) = &a.save {
        std::fs::write(p, file.to_json()).with_context(|| format!("writing {}", p.display()))?;
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&json!({ "calibrator": cal, "choice": choice }))?);
    } else {
        eprintln!("{}: {} ({})", cal.method(), a.output.display(), choice.reason);
    }
    Ok(())
}
