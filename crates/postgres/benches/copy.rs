//! Bulk-load bench of the PostgreSQL store on SYNTHETIC candles: 51 symbols × 3 years of 15m
//! bars (5,361,120 rows) written from one connection by `PgStore::upsert_bars_many` (one
//! transaction: binary COPY into the staging table, then `INSERT … ON CONFLICT`), timed
//! separately; the same load again (every row a duplicate); then a streaming read of one
//! symbol's 3 years. Runs in a throwaway database created from `DATABASE_URL` and dropped.
//!
//!     eval "$(bash .ci/pg.sh)"
//!     cargo bench -p vane-postgres --bench copy
//!
//! `VANE_BENCH_SYMBOLS` / `VANE_BENCH_DAYS` shrink it (defaults 51 and 1095).

use std::time::Instant;

use vane_core::{Bar, Bars, Interval, Symbol, Timestamp};
use vane_postgres::{PgStore, SeriesRef};

fn synthetic(start: i64, n: usize, seed: u64) -> Bars {
    // A deterministic random walk (xorshift), labelled SYNTHETIC: not market data.
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut price = 100.0 + seed as f64;
    let mut rows = Vec::with_capacity(n);
    for i in 0..n {
        let open = price;
        price *= 1.0 + (next() - 0.5) * 0.004;
        let close = price;
        let high = open.max(close) * (1.0 + next() * 0.001);
        let low = open.min(close) * (1.0 - next() * 0.001);
        let volume = 10.0 + next() * 100.0;
        rows.push(Bar {
            quote_volume: Some(volume * close),
            trades: Some((next() * 1000.0) as u64),
            taker_buy_base: Some(volume * 0.5),
            taker_buy_quote: Some(volume * 0.5 * close),
            ..Bar::ohlcv(Timestamp(start + i as i64 * 900_000), open, high, low, close, volume)
        });
    }
    Bars::from_bars(&rows).expect("valid synthetic bars")
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() {
    let Ok(admin_url) = std::env::var("DATABASE_URL") else {
        eprintln!("DATABASE_URL is not set (eval \"$(bash .ci/pg.sh)\"); nothing measured");
        return;
    };
    let symbols = env_usize("VANE_BENCH_SYMBOLS", 51);
    let days = env_usize("VANE_BENCH_DAYS", 1095);
    let n = days * 96;
    let admin = PgStore::connect(&admin_url).expect("connect");
    let name = format!("vane_bench_{}", std::process::id());
    admin.block_on(admin.client().batch_execute(&format!("CREATE DATABASE {name}"))).expect("create database");
    let (head, _) = admin_url.split_once('?').unwrap_or((&admin_url, ""));
    let url = format!("{}/{name}", head.rsplit_once('/').map_or(head, |(b, _)| b));

    let run = || {
        let mut store = PgStore::connect(&url).expect("connect");
        store.migrate().expect("migrate");
        let start = 1_600_000_000_000 - 1_600_000_000_000 % 900_000; // 15m-aligned
        let t = Instant::now();
        let names: Vec<Symbol> = (0..symbols).map(|i| Symbol::new(&format!("SYN{i:03}USDT")).unwrap()).collect();
        let series: Vec<Bars> = (0..symbols).map(|i| synthetic(start, n, i as u64 + 1)).collect();
        eprintln!("generated {} SYNTHETIC bars in {:.1} s", symbols * n, t.elapsed().as_secs_f64());
        let refs: Vec<SeriesRef<'_>> = names
            .iter()
            .zip(&series)
            .map(|(s, b)| SeriesRef { exchange: "synthetic", symbol: s, interval: Interval::M15, bars: b })
            .collect();
        let rows = (symbols * n) as f64;
        for pass in ["first load (all new)", "second load (all duplicates)"] {
            let t = Instant::now();
            let r = store.upsert_bars_many(&refs).expect("upsert");
            let total = t.elapsed().as_secs_f64();
            println!(
                "{pass}: {} rows ({} inserted, {} updated, {} unchanged) — COPY into staging {:.2} s = {:.0} rows/s; upsert {:.2} s = {:.0} rows/s; whole transaction {:.2} s = {:.0} rows/s",
                r.rows,
                r.inserted,
                r.updated,
                r.unchanged,
                r.copy_seconds,
                rows / r.copy_seconds,
                r.upsert_seconds,
                rows / r.upsert_seconds,
                total,
                rows / total
            );
        }
        let (from, to) = (Timestamp(i64::MIN), Timestamp(i64::MAX));
        for _ in 0..2 {
            let t = Instant::now();
            let bars = store.read_bars(Some("synthetic"), &names[0], Interval::M15, from, to).expect("read");
            let s = t.elapsed().as_secs_f64();
            assert_eq!(bars, series[0]);
            println!(
                "read one symbol's {days} days: {} bars in {:.3} s = {:.0} rows/s",
                bars.len(),
                s,
                bars.len() as f64 / s
            );
        }
        let t = Instant::now();
        let mut got = 0;
        store
            .stream_bars(Some("synthetic"), &names[0], Interval::M15, from, to, 10_000, &mut |c| {
                got += c.len();
                Ok(())
            })
            .expect("stream");
        let s = t.elapsed().as_secs_f64();
        println!("stream one symbol in chunks of 10000: {got} bars in {:.3} s = {:.0} rows/s", s, got as f64 / s);
        // `vane prepare` over every series: the full set + seed 004's targets into
        // processed_market_data, then again with nothing new (the 100 pending rows per series).
        if std::env::var("VANE_BENCH_PREPARE").as_deref() != Ok("0") {
            let opts = vane_postgres::PrepareOptions::default();
            for pass in ["prepare, every series from empty", "prepare again, nothing new"] {
                let t = Instant::now();
                let mut written = 0;
                for s in &names {
                    written += store.prepare(Some("synthetic"), s, Interval::M15, &opts).expect("prepare").rows_written;
                }
                let secs = t.elapsed().as_secs_f64();
                println!("{pass}: {written} rows written in {secs:.1} s = {:.0} bars/s", rows / secs);
            }
        }
    };
    let result = std::panic::catch_unwind(run);
    let _ = admin.block_on(admin.client().batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")));
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}
