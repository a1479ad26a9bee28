//! Store and CSV throughput on SYNTHETIC data (a seeded random walk of 15m bars — load testing
//! only, not market data): parquet write and read of 5M bars, full-range and 1-day range reads,
//! the footer-only `last_open_time`, CSV import of 1M bars.
//!
//! `cargo bench -p vane-market-data --bench store`

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use vane_core::{Bar, Bars, Interval, Symbol, Timestamp};
use vane_market_data::{ParquetStore, read_csv, write_csv};

/// A seeded random walk of `n` 15m bars with Binance's extra columns. Synthetic.
fn synthetic_15m(n: usize) -> Bars {
    let mut rng = StdRng::seed_from_u64(7);
    let mut price = 30_000.0f64;
    let t0 = Timestamp::from_ymd(2015, 1, 1).unwrap().0;
    let mut rows = Vec::with_capacity(n);
    for i in 0..n {
        let open = price;
        price *= 1.0 + rng.random_range(-0.004..0.004);
        let close = price;
        let high = open.max(close) * (1.0 + rng.random_range(0.0..0.002));
        let low = open.min(close) * (1.0 - rng.random_range(0.0..0.002));
        let volume: f64 = rng.random_range(10.0..1000.0);
        rows.push(Bar {
            quote_volume: Some(volume * close),
            trades: Some(rng.random_range(100..10_000)),
            taker_buy_base: Some(volume * 0.5),
            taker_buy_quote: Some(volume * 0.5 * close),
            ..Bar::ohlcv(Timestamp(t0 + i as i64 * 900_000), open, high, low, close, volume)
        });
    }
    Bars::from_bars(&rows).unwrap()
}

fn store_benches(c: &mut Criterion) {
    const N: usize = 5_000_000;
    let bars = synthetic_15m(N);
    let dir = tempfile::tempdir().unwrap();
    let store = ParquetStore::new(dir.path());
    let sym = Symbol::new("SYNTHUSDT").unwrap();

    let mut g = c.benchmark_group("parquet_5M_15m");
    g.sample_size(10).measurement_time(Duration::from_secs(20)).warm_up_time(Duration::from_secs(1));
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("write", |b| b.iter(|| store.write(&sym, Interval::M15, black_box(&bars)).unwrap()));
    g.bench_function("read_full", |b| b.iter(|| black_box(store.read(&sym, Interval::M15).unwrap())));
    g.finish();

    let mut g = c.benchmark_group("parquet_5M_15m_small");
    g.sample_size(30);
    let day = Timestamp(bars.open_time()[N / 2]);
    g.throughput(Throughput::Elements(96));
    g.bench_function("read_1day", |b| {
        b.iter(|| {
            let r = store.read_range(&sym, Interval::M15, day, day.add_millis(86_400_000)).unwrap();
            assert_eq!(r.len(), 96);
            black_box(r)
        })
    });
    g.bench_function("last_open_time", |b| b.iter(|| black_box(store.last_open_time(&sym, Interval::M15).unwrap())));
    g.finish();
    println!(
        "parquet file size for {N} bars: {} bytes",
        std::fs::metadata(store.path(&sym, Interval::M15)).unwrap().len()
    );

    const M: usize = 1_000_000;
    let csv = dir.path().join("synthetic.csv");
    write_csv(&csv, &bars.slice(0..M), Some(Interval::M15)).unwrap();
    let mut g = c.benchmark_group("csv_1M_15m");
    g.sample_size(10).measurement_time(Duration::from_secs(15));
    g.throughput(Throughput::Elements(M as u64));
    g.bench_function("import", |b| b.iter(|| black_box(read_csv(&csv, Some(Interval::M15)).unwrap())));
    g.finish();
}

criterion_group!(benches, store_benches);
criterion_main!(benches);
