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
}

pub(crate) fn run(a: ExportArgs) -> Result<Exported> {
    let (from, to) = (a.from.unwrap_or(Timestamp(i64::MIN)), a.to.unwrap_or(Timestamp(i64::MAX)));
    if let Some(url) = &a.pg.database_url {
        check_output(&a.csv, &[], &[])?;
        let store = crate::commands::db::open(Some(url))?;
        let bars = store.read_bars(a.exchange.as_deref(), &a.symbol, a.interval, from, to)?;
        write_csv(&a.csv, &bars, Some(a.interval))?;
        return Ok(Exported { symbol: a.symbol, interval: a.interval, rows: bars.len(), csv: a.csv });
    }
    check_output(&a.csv, &[], &[("the bar store", &a.data.data_dir)])?;
    let store = ParquetStore::new(&a.data.data_dir);
    let bars = store.read_range(&a.symbol, a.interval, from, to)?;
    write_csv(&a.csv, &bars, Some(a.interval))?;
    Ok(Exported { symbol: a.symbol, interval: a.interval, rows: bars.len(), csv: a.csv })
}

impl Render for Exported {
    fn human(&self) -> String {
        format!("exported {} rows of {} {} to {}", self.rows, self.symbol, self.interval, self.csv.display())
    }
}
