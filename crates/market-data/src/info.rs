//! What the store holds (`vane data info`) and CSV imports into it (`vane import`).

use std::path::{Path, PathBuf};

use serde::Serialize;
use vane_core::{Interval, Symbol};

use crate::csv::read_csv;
use crate::error::Result;
use crate::gaps::{Gap, gap_report};
use crate::store::ParquetStore;

/// One stored series: rows, time range, gaps, duplicates, misaligned bars.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SeriesInfo {
    /// The instrument.
    pub symbol: Symbol,
    /// The bar length.
    pub interval: Interval,
    /// Bars stored.
    pub rows: usize,
    /// Open time of the first bar.
    pub first_open_time_ms: Option<i64>,
    /// Open time of the last bar.
    pub last_open_time_ms: Option<i64>,
    /// Runs of missing bars.
    pub gaps: Vec<Gap>,
    /// Repeated open times.
    pub duplicates: usize,
    /// Open times off the interval's grid.
    pub misaligned: usize,
}

/// Every stored series of `store`, with its gap report.
pub fn store_info(store: &ParquetStore) -> Result<Vec<SeriesInfo>> {
    let mut files = Vec::new();
    for s in store.list()? {
        let bars = store.read(&s.symbol, s.interval)?;
        let rep = gap_report(bars.open_time(), s.interval);
        files.push(SeriesInfo {
            symbol: s.symbol,
            interval: s.interval,
            rows: bars.len(),
            first_open_time_ms: bars.first_open_time().map(|t| t.0),
            last_open_time_ms: bars.last_open_time().map(|t| t.0),
            gaps: rep.gaps,
            duplicates: rep.duplicates,
            misaligned: rep.misaligned,
        });
    }
    Ok(files)
}

/// What [`import_csv`] did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// The instrument.
    pub symbol: Symbol,
    /// The bar length.
    pub interval: Interval,
    /// The store file.
    pub path: PathBuf,
    /// Rows in the CSV.
    pub rows_read: usize,
    /// New open times.
    pub added: usize,
    /// Replaced bars.
    pub replaced: usize,
    /// Bars stored afterwards.
    pub total: usize,
}

/// Merges a candle CSV into the store by open time (nothing written on error).
pub fn import_csv(store: &ParquetStore, csv: &Path, symbol: &Symbol, interval: Interval) -> Result<ImportReport> {
    let bars = read_csv(csv, Some(interval))?;
    let s = store.append(symbol, interval, &bars)?;
    Ok(ImportReport {
        symbol: symbol.clone(),
        interval,
        path: store.path(symbol, interval),
        rows_read: bars.len(),
        added: s.added,
        replaced: s.replaced,
        total: s.total,
    })
}
