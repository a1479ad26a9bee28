//! `vane data info`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Result;
use serde::Serialize;
use vane_core::Timestamp;
use vane_market_data::{ParquetStore, SeriesInfo, store_info};

use crate::args::data::InfoArgs;
use crate::output::{Render, opt_time};

#[derive(Serialize)]
pub(crate) struct StoreReport {
    pub(crate) files: Vec<SeriesInfo>,
    #[serde(skip)]
    pub(crate) dir: PathBuf,
}

pub(crate) fn run(a: InfoArgs) -> Result<StoreReport> {
    let store = ParquetStore::new(&a.data.data_dir);
    Ok(StoreReport { files: store_info(&store)?, dir: a.data.data_dir })
}

/// The store table of `data info` and `demo`.
pub(crate) fn table(dir: &Path, files: &[SeriesInfo]) -> String {
    if files.is_empty() {
        return format!("no candle files in {}", dir.display());
    }
    let mut s = format!(
        "{:<12} {:>4} {:>8}  {:<20}  {:<20}  {:>5} {:>8} {:>5}\n",
        "symbol", "int", "rows", "first open (UTC)", "last open (UTC)", "gaps", "missing", "dups"
    );
    for f in files {
        let missing: i64 = f.gaps.iter().map(|g| g.missing_bars).sum();
        let _ = writeln!(
            s,
            "{:<12} {:>4} {:>8}  {:<20}  {:<20}  {:>5} {:>8} {:>5}",
            f.symbol.as_str(),
            f.interval.as_str(),
            f.rows,
            opt_time(f.first_open_time_ms),
            opt_time(f.last_open_time_ms),
            f.gaps.len(),
            missing,
            f.duplicates
        );
        for g in f.gaps.iter().take(5) {
            let _ = writeln!(s, "    gap after {}: {} missing bar(s)", Timestamp(g.after_open_time_ms), g.missing_bars);
        }
        if f.gaps.len() > 5 {
            let _ = writeln!(s, "    ... {} more gap(s)", f.gaps.len() - 5);
        }
    }
    s
}

impl Render for StoreReport {
    fn human(&self) -> String {
        table(&self.dir, &self.files)
    }
    fn compact(&self) -> bool {
        true
    }
}
