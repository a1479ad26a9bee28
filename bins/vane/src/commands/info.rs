//! `vane data info`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Result;
use serde::Serialize;
use vane_core::Timestamp;
use vane_market_data::{FileError, ParquetStore, SeriesInfo, store_report};
use vane_postgres::PgSeriesInfo;

use crate::args::data::InfoArgs;
use crate::output::{Render, opt_time};

#[derive(Serialize)]
pub(crate) struct StoreReport {
    pub(crate) files: Vec<SeriesInfo>,
    /// Files that could not be read, each with its error (the others are still reported).
    pub(crate) errors: Vec<FileError>,
    /// Temporary files of writers that died; the next write to their series removes them.
    pub(crate) stale_temps: Vec<PathBuf>,
    #[serde(skip)]
    pub(crate) dir: PathBuf,
}

/// `vane data info` of the parquet store or, with `--database-url`, of the PostgreSQL store.
#[derive(Serialize)]
#[serde(untagged)]
pub(crate) enum Info {
    Parquet(StoreReport),
    Postgres(PgInfo),
}

/// The series of the PostgreSQL store.
#[derive(Serialize)]
pub(crate) struct PgInfo {
    server: String,
    database: String,
    series: Vec<PgSeriesInfo>,
}

pub(crate) fn run(a: InfoArgs) -> Result<Info> {
    if let Some(url) = &a.pg.database_url {
        let store = crate::commands::db::open(Some(url))?;
        let series = store.series_info()?;
        return Ok(Info::Postgres(PgInfo {
            server: store.server().to_string(),
            database: store.database().to_string(),
            series,
        }));
    }
    let store = ParquetStore::new(&a.data.data_dir);
    let r = store_report(&store)?;
    Ok(Info::Parquet(StoreReport {
        files: r.files,
        errors: r.errors,
        stale_temps: r.stale_temps,
        dir: a.data.data_dir,
    }))
}

impl Render for Info {
    fn human(&self) -> String {
        match self {
            Info::Parquet(r) => r.human(),
            Info::Postgres(r) => r.human(),
        }
    }
    fn failure(&self) -> Option<String> {
        match self {
            Info::Parquet(r) => r.failure(),
            Info::Postgres(_) => None,
        }
    }
    fn compact(&self) -> bool {
        true
    }
}

impl PgInfo {
    fn human(&self) -> String {
        if self.series.is_empty() {
            return format!("no candles in raw_market_data of {} at {}", self.database, self.server);
        }
        let mut s = format!(
            "{:<14} {:<12} {:>4} {:>8}  {:<20}  {:<20}  {:>5} {:>8}\n",
            "exchange", "symbol", "int", "rows", "first open (UTC)", "last open (UTC)", "gaps", "missing"
        );
        for f in &self.series {
            let missing: i64 = f.gaps.iter().map(|g| g.missing_bars).sum();
            let _ = writeln!(
                s,
                "{:<14} {:<12} {:>4} {:>8}  {:<20}  {:<20}  {:>5} {:>8}",
                f.exchange,
                f.symbol,
                f.interval,
                f.rows,
                opt_time(f.first_open_time_ms),
                opt_time(f.last_open_time_ms),
                f.gaps.len(),
                missing
            );
            for g in f.gaps.iter().take(5) {
                let _ =
                    writeln!(s, "    gap after {}: {} missing bar(s)", Timestamp(g.after_open_time_ms), g.missing_bars);
            }
            if f.gaps.len() > 5 {
                let _ = writeln!(s, "    ... {} more gap(s)", f.gaps.len() - 5);
            }
        }
        s
    }
}

/// The store table of `data info` and `demo`.
pub(crate) fn table(dir: &Path, files: &[SeriesInfo]) -> String {
    if files.is_empty() {
        if !dir.exists() {
            // A typo in --data-dir, or nothing imported yet: say which.
            return format!(
                "no store at {}: the folder does not exist (the parquet store is --data-dir, default `data`; `vane import` or `vane download` creates it)",
                dir.display()
            );
        }
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
        let mut s = if self.files.is_empty() && !self.errors.is_empty() {
            String::new()
        } else {
            table(&self.dir, &self.files)
        };
        let unverified: Vec<String> =
            self.files.iter().filter(|f| !f.checksummed).map(|f| format!("{} {}", f.symbol, f.interval)).collect();
        if !unverified.is_empty() {
            let _ = writeln!(
                s,
                "\nnote: written before checksums, read unverified (the next download or import adds them): {}",
                unverified.join(", ")
            );
        }
        for e in &self.errors {
            // Most store errors already start with the file's path; print it once.
            let path = e.path.display().to_string();
            if e.error.starts_with(&path) {
                let _ = writeln!(s, "\nunreadable: {}", e.error);
            } else {
                let _ = writeln!(s, "\nunreadable: {path}: {}", e.error);
            }
        }
        if !self.stale_temps.is_empty() {
            let _ = writeln!(
                s,
                "\nstale temporary files of interrupted writes (removed by the next write to their series):"
            );
            for p in &self.stale_temps {
                let size = std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
                let _ = writeln!(s, "    {} ({size} bytes)", p.display());
            }
        }
        s
    }
    fn failure(&self) -> Option<String> {
        (!self.errors.is_empty()).then(|| {
            format!(
                "{} of {} file(s) in {} could not be read",
                self.errors.len(),
                self.errors.len() + self.files.len(),
                self.dir.display()
            )
        })
    }
    fn compact(&self) -> bool {
        true
    }
}
