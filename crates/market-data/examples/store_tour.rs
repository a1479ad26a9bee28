//! A tour of vane-market-data as a library, on the bundled real candles:
//! CSV import into a parquet store, an incremental append, a range read, resampling and a gap
//! report.
//!
//! `cargo run -p vane-market-data --example store_tour`

use std::path::PathBuf;

use vane_core::{Interval, Symbol, Timestamp};
use vane_market_data::{ParquetStore, gap_report, read_csv, resample};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
    let dir = std::env::temp_dir().join(format!("vane-store-tour-{}", std::process::id()));
    let store = ParquetStore::new(&dir);
    let sol = Symbol::new("SOLUSDT")?;

    // 1. Import the first week of SOLUSDT 15m, then append the whole file: the overlap is
    //    merged by open time, nothing is duplicated.
    let bars = read_csv(&fixtures.join("SOLUSDT_15m.csv"), Some(Interval::M15))?;
    let first_week = bars.slice(0..672);
    let a = store.append(&sol, Interval::M15, &first_week)?;
    let b = store.append(&sol, Interval::M15, &bars)?;
    println!("append 1: +{} bars; append 2: +{} new, {} replaced, {} stored", a.added, b.added, b.replaced, b.total);

    // 2. Read one day back (only the overlapping row groups are decoded).
    let day = "2025-01-10".parse::<Timestamp>()?;
    let one_day = store.read_range(&sol, Interval::M15, day, day.add_millis(86_400_000))?;
    println!("{}: {} bars, high {:.2}", day, one_day.len(), one_day.high().iter().copied().fold(f64::MIN, f64::max));

    // 3. Resample to 4h and check the result has no gaps.
    let h4 = resample(&store.read(&sol, Interval::M15)?, Interval::M15, Interval::H4, false)?;
    let report = gap_report(h4.open_time(), Interval::H4);
    println!(
        "4h bars: {} from {} to {}; clean: {}",
        h4.len(),
        h4.first_open_time().unwrap(),
        h4.last_open_time().unwrap(),
        report.is_clean()
    );

    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
