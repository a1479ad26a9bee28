//! What the store holds (`vane data info`) and CSV imports into it (`vane import`).

use std::path::{Path, PathBuf};

use serde::Serialize;
use vane_core::{Interval, Symbol};

use crate::csv::read_market_csv;
use crate::error::Result;
use crate::gaps::{Gap, gap_report};
use crate::store::{ParquetStore, StoredSeries, has_checksums};
use crate::timerange::TimeRange;

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
    /// Whether the file carries vane's checksums (verified on this read). Files written before
    /// checksums existed are read unverified; the next write to the series adds them.
    pub checksummed: bool,
}

/// A stored file that could not be read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FileError {
    /// The file.
    pub path: PathBuf,
    /// Why it could not be read.
    pub error: String,
}

/// Everything `vane data info` reports: each readable series, each unreadable file with its
/// error, and temporary files left by writers that died.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct StoreReport {
    /// The readable series.
    pub files: Vec<SeriesInfo>,
    /// The files that could not be read.
    pub errors: Vec<FileError>,
    /// `.<SERIES>.parquet.tmp-PID-N` files of processes that are gone (a kill during a write);
    /// the next write to the series removes its own.
    pub stale_temps: Vec<PathBuf>,
}

/// Every stored series of `store`, one report per file: an unreadable file is listed with its
/// error and does not hide the others. Fails only when the folder cannot be listed.
pub fn store_report(store: &ParquetStore) -> Result<StoreReport> {
    let mut report = StoreReport::default();
    for s in store.list()? {
        match series_info(store, &s) {
            Ok(info) => report.files.push(info),
            Err(e) => report.errors.push(FileError { path: s.path.clone(), error: e.to_string() }),
        }
    }
    report.stale_temps = stale_temps(store.dir());
    Ok(report)
}

fn series_info(store: &ParquetStore, s: &StoredSeries) -> Result<SeriesInfo> {
    let bars = store.read(&s.symbol, s.interval)?;
    let rep = gap_report(bars.open_time(), s.interval);
    Ok(SeriesInfo {
        symbol: s.symbol.clone(),
        interval: s.interval,
        rows: bars.len(),
        first_open_time_ms: bars.first_open_time().map(|t| t.0),
        last_open_time_ms: bars.last_open_time().map(|t| t.0),
        gaps: rep.gaps,
        duplicates: rep.duplicates,
        misaligned: rep.misaligned,
        checksummed: has_checksums(&s.path)?,
    })
}

/// Stale temporary files of parquet files in `dir`, sorted.
fn stale_temps(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut targets: Vec<PathBuf> = rd
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let (target, _) = name.strip_prefix('.')?.split_once(".parquet.tmp-")?;
            Some(dir.join(format!("{target}.parquet")))
        })
        .collect();
    targets.sort();
    targets.dedup();
    let mut out: Vec<PathBuf> = targets.iter().flat_map(|t| vane_artifact::fs::stale_temps(t)).collect();
    out.sort();
    out
}

/// Every stored series of `store`, with its gap report; the first unreadable file is an error
/// (see [`store_report`] for a report per file).
pub fn store_info(store: &ParquetStore) -> Result<Vec<SeriesInfo>> {
    store.list()?.iter().map(|s| series_info(store, s)).collect()
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

/// Merges a candle CSV into the store by open time (nothing written on error). Open times
/// must lie in [`TimeRange::now`].
pub fn import_csv(store: &ParquetStore, csv: &Path, symbol: &Symbol, interval: Interval) -> Result<ImportReport> {
    import_csv_in(store, csv, symbol, interval, TimeRange::now())
}

/// [`import_csv`] with the accepted open times given (tests: a fixed clock).
pub fn import_csv_in(
    store: &ParquetStore,
    csv: &Path,
    symbol: &Symbol,
    interval: Interval,
    range: TimeRange,
) -> Result<ImportReport> {
    let bars = read_market_csv(csv, Some(interval), range)?;
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
