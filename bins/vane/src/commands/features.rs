//! `vane features`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use serde::Serialize;
use vane_artifact::check_output;
use vane_indicators::FeatureSet;
use vane_market_data::{ParquetStore, is_parquet, read_bars_file_with_interval, write_table_parquet_owned};

use crate::args::features::FeaturesArgs;
use crate::failure::usage;
use crate::output::Render;

#[derive(Serialize)]
pub(crate) struct Features {
    rows: usize,
    columns: usize,
    set: FeatureSet,
    output: Option<PathBuf>,
}

/// `json`: the global `--json`. Without `--output` the CSV itself goes to stdout, and a JSON
/// summary after it would leave neither parseable, so that pair is refused.
pub(crate) fn run(a: FeaturesArgs, json: bool) -> Result<Features> {
    if json && a.output.is_none() {
        return Err(usage(
            "--json prints a summary of the file --output writes; without --output the features \
             go to stdout as CSV: give --output FILE (.csv or .parquet) or drop --json",
        ));
    }
    if let Some(out) = &a.output {
        let inputs: Vec<&std::path::Path> = a.input.iter().map(|p| p.as_path()).collect();
        check_output(out, &inputs, &[("the bar store", &a.data.data_dir)])?;
    }
    if a.pg.database_url.is_some() && a.symbol.is_none() {
        return Err(usage("--database-url reads a stored series: give --symbol S --interval I, not --input"));
    }
    let (bars, interval) = match (&a.symbol, &a.input) {
        (Some(symbol), _) => {
            let iv = a.interval.context("--symbol needs --interval")?;
            match &a.pg.database_url {
                Some(url) => {
                    let store = crate::commands::db::open(Some(url))?;
                    let all = (vane_core::Timestamp(i64::MIN), vane_core::Timestamp(i64::MAX));
                    (store.read_bars(a.exchange.as_deref(), symbol, iv, all.0, all.1)?, Some(iv))
                }
                None => (ParquetStore::new(&a.data.data_dir).read(symbol, iv)?, Some(iv)),
            }
        }
        (None, Some(path)) => read_bars_file_with_interval(path, a.interval).map_err(|e| match a.interval {
            Some(iv) => super::with_interval_hint(e, path, iv, "--interval"),
            None => e.into(),
        })?,
        (None, None) => return Err(usage("give --input FILE or --symbol S --interval I")),
    };
    let frame = match a.mtf {
        Some(coarse) => {
            let iv = interval.context("--mtf needs the bar interval: pass --interval")?;
            a.set.compute_multi_timeframe(&bars, iv, coarse).with_context(|| format!("--mtf {coarse}"))?
        }
        None => a.set.compute(&bars),
    };
    let (rows, columns) = (frame.len(), frame.names().len());
    match &a.output {
        None => frame.write_csv(&mut std::io::BufWriter::new(std::io::stdout().lock()))?,
        Some(p) if is_parquet(p) => {
            // The frame is handed over: the parquet encoders read its columns in place.
            let (open_time, names, cols) = frame.into_parts();
            write_table_parquet_owned(p, "open_time_ms", open_time, &names, cols)?
        }
        Some(p) => vane_artifact::write_atomic_with(p, |w, tmp| {
            frame.write_csv(w).with_context(|| format!("writing {}", tmp.display()))
        })?,
    }
    Ok(Features { rows, columns, set: a.set, output: a.output })
}

impl Render for Features {
    fn human(&self) -> String {
        String::new()
    }
    fn status(&self) -> Option<String> {
        let p = self.output.as_ref()?;
        Some(format!("{} rows × {} {} features -> {}", self.rows, self.columns, self.set, p.display()))
    }
}
