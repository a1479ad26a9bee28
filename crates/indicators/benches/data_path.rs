//! The data path of `vane features --set talib`, timed piece by piece on 1,000,000 SYNTHETIC 1m
//! bars (a seeded random walk — load testing only): CSV parsing, the `talib` set (fresh and
//! reused frame), parquet writing, the whole job end to end, and one streaming update per bar.
//! Prints JSON (median milliseconds) for `benches/data_path.sh`, which runs the pandas + TA-Lib
//! reference (`benches/features_reference.py`) on the same CSV and prints the ratios.
//!
//! ```text
//! cargo bench -p vane-indicators --bench data_path --offline             # JSON on stdout
//! target/release/deps/data_path-* [IN.csv]                               # the same on a given CSV
//! target/release/deps/data_path-* job IN.csv OUT.parquet                 # the job once (for /usr/bin/time -v)
//! ```
//!
//! The job is the same three library calls as `bins/vane/src/commands/features.rs`:
//! `read_bars_file_with_interval`, `FeatureSet::compute`, `write_table_parquet_owned`. (An older
//! build of this file, for the "before" figures, calls `write_table_parquet` in `job`.)

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Instant;

use vane_core::{Bar, Bars};
use vane_indicators::{FeatureFrame, FeatureSet};
use vane_market_data::{read_bars_file_with_interval, write_table_parquet, write_table_parquet_owned};

mod common;

const N: usize = 1_000_000;
const REPEAT: usize = 5;

fn write_csv(bars: &Bars, path: &Path) {
    let mut out = String::with_capacity(bars.len() * 100);
    out.push_str("open_time_ms,open,high,low,close,volume\n");
    for b in bars.iter() {
        out.push_str(&format!("{},{},{},{},{},{}\n", b.open_time.0, b.open, b.high, b.low, b.close, b.volume));
    }
    std::fs::write(path, out).expect("write the synthetic CSV");
}

/// `vane features --input csv --set talib --output parquet`, as the CLI runs it.
fn job(csv: &Path, out: &Path) {
    let (bars, _interval) = read_bars_file_with_interval(csv, None).expect("read");
    let (open_time, names, columns) = FeatureSet::Talib.compute(&bars).into_parts();
    write_table_parquet_owned(out, "open_time_ms", open_time, &names, columns).expect("write");
}

fn median_ms(mut f: impl FnMut()) -> f64 {
    f();
    let mut t: Vec<f64> = (0..REPEAT)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[REPEAT / 2]
}

/// Nanoseconds per streaming `update` of `set`, over 200,000 bars.
fn per_bar_ns(set: FeatureSet, rows: &[Bar]) -> f64 {
    let mut best = f64::INFINITY;
    for _ in 0..3 {
        let mut s = set.stream();
        let mut out = vec![0.0; s.names().len()];
        let start = Instant::now();
        for r in rows {
            s.update(r, &mut out);
            black_box(&out);
        }
        best = best.min(start.elapsed().as_secs_f64() * 1e9 / rows.len() as f64);
    }
    best
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    if args.first().map(String::as_str) == Some("job") {
        let [_, csv, out] = args.as_slice() else {
            eprintln!("usage: data_path job IN.csv OUT.parquet");
            std::process::exit(2);
        };
        job(Path::new(csv), Path::new(out));
        return;
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-data");
    std::fs::create_dir_all(&dir).expect("bench-data dir");
    // An older build of this bench (the "before" figures) is pointed at the same CSV.
    let csv: PathBuf = args.first().map_or_else(|| dir.join("data_path_1m.csv"), PathBuf::from);
    let bars = common::synthetic(N, 1_599_999_960_000);
    if !csv.exists() {
        write_csv(&bars, &csv);
    }
    let out = dir.join("data_path_vane.parquet");

    let read = median_ms(|| {
        black_box(read_bars_file_with_interval(&csv, None).expect("read"));
    });
    let fresh = median_ms(|| {
        black_box(FeatureSet::Talib.compute(&bars));
    });
    let mut frame = FeatureFrame::default();
    let reused = median_ms(|| FeatureSet::Talib.compute_into(&bars, black_box(&mut frame)));
    let write = median_ms(|| {
        write_table_parquet(&out, "open_time_ms", frame.open_time(), frame.names(), frame.columns()).expect("write")
    });
    let end_to_end = median_ms(|| job(&csv, &out));
    let rows: Vec<Bar> = bars.slice(0..200_000).iter().collect();
    let talib_bar = per_bar_ns(FeatureSet::Talib, &rows);
    let full_bar = per_bar_ns(FeatureSet::Full, &rows);
    println!(
        "{{\"bars\": {N}, \"csv\": {:?}, \"read_csv_ms\": {read:.1}, \"compute_fresh_ms\": {fresh:.1}, \
         \"compute_reused_ms\": {reused:.1}, \"write_parquet_ms\": {write:.1}, \"end_to_end_ms\": {end_to_end:.1}, \
         \"stream_talib_ns_per_bar\": {talib_bar:.0}, \"stream_full_ns_per_bar\": {full_bar:.0}, \
         \"parquet_bytes\": {}}}",
        csv.display().to_string(),
        std::fs::metadata(&out).map_or(0, |m| m.len()),
    );
}
