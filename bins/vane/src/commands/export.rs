//! `vane export`.

use std::path::PathBuf;

use anyhow::Result;
use serde::Serialize;
use vane_artifact::check_output;
use vane_core::{Interval, Symbol, Timestamp};
use vane_market_data::{ParquetStore, write_csv};

use crate::args::data::ExportArgs;
use crate::output::Render;

#[derive(Serialize)]
pub(crate) struct Exported {
    symbol: Symbol,
    interval: Interval,
    rows: usize,
    csv: PathBuf,
    /// The first and last stored open time, when nothing was in the range.
    #[serde(skip)]
    stored: Option<(Timestamp, Timestamp)>,
}

pub(crate) fn run(a: ExportArgs) -> Result<Exported> {
    let (from, to) = (a.from.unwrap_or(Timestamp(i64::MIN)), a.to.unwrap_or(Timestamp(i64::MAX)));
    if from >= to {
        return Err(crate::failure::usage(format!(
            "--from {from} is not before --to {to}: the range [--from, --to) is empty; pass a --to after --from"
        )));
    }
    if let Some(url) = &a.pg.database_url {
        check_output(&a.csv, &[], &[])?;
        let store = crate::commands::db::open(Some(url))?;
        let bars = store.read_bars(a.exchange.as_deref(), &a.symbol, a.interval, from, to)?;
        write_csv(&a.csv, &bars, Some(a.interval))?;
        return Ok(Exported { symbol: a.symbol, interval: a.interval, rows: bars.len(), csv: a.csv, stored: None });
    }
    check_output(&a.csv, &[], &[("the bar store", &a.data.data_dir)])?;
    let store = ParquetStore::new(&a.data.data_dir);
    let bars = store.read_range(&a.symbol, a.interval, from, to)?;
    write_csv(&a.csv, &bars, Some(a.interval))?;
    // An empty export names the stored range, so a --from/--to outside it is seen at once.
    let mut stored = None;
    if bars.is_empty() {
        let all = store.read(&a.symbol, a.interval)?;
        let t = all.open_time();
        stored = t.first().zip(t.last()).map(|(&f, &l)| (Timestamp(f), Timestamp(l)));
    }
    Ok(Exported { symbol: a.symbol, interval: a.interval, rows: bars.len(), csv: a.csv, stored })
}

impl Render for Exported {
    fn human(&self) -> String {
        format!("exported {} rows of {} {} to {}", self.rows, self.symbol, self.interval, self.csv.display())
    }
    fn status(&self) -> Option<String> {
        let (first, last) = self.stored?;
        Some(format!(
            "warning: no stored {} {} bar opens in [--from, --to); the stored bars open from {first} to {last}",
            self.symbol, self.interval
        ))
    }
}
