//! A 1,000,000-bar close-to-close backtest with costs, and its metrics, on SYNTHETIC prices and
//! positions (a seeded random walk; load testing only).
//!
//! `cargo bench -p vane-backtest --bench backtest`

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use vane_backtest::{run_positions, run_positions_into};
use vane_costs::CostModel;

fn bench(c: &mut Criterion) {
    let n = 1_000_000;
    let mut state = 0x9E3779B97F4A7C15u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut price = 100.0;
    let close: Vec<f64> = (0..n)
        .map(|_| {
            price *= 1.0 + (next() - 0.5) * 0.01;
            price
        })
        .collect();
    let positions: Vec<f64> = (0..n).map(|i| [1.0, 0.0, -1.0, 0.5][(i / 37) % 4]).collect();
    let costs = CostModel::new(4.0, 1.0).unwrap();
    let mut g = c.benchmark_group("backtest_1M");
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function("run_positions", |b| b.iter(|| black_box(run_positions(&close, &positions, &costs).unwrap())));
    let mut reused = run_positions(&close, &positions, &costs).unwrap();
    g.bench_function("run_positions_reused", |b| {
        b.iter(|| run_positions_into(&close, &positions, &costs, black_box(&mut reused)).unwrap())
    });
    let bt = run_positions(&close, &positions, &costs).unwrap();
    g.bench_function("metrics", |b| b.iter(|| black_box(bt.metrics(525_600.0))));
    g.finish();

    // One streaming policy decision (thresholds, hysteresis and cooldown), as live trading does.
    use vane_policy::{Input, Policy, PolicyConfig, Rule};
    let cfg =
        PolicyConfig { rule: Rule::Thresholds { long: 0.55, short: 0.45 }, hysteresis: 0.01, cooldown_ms: 10_000 };
    let probs: Vec<f64> = (0..4096).map(|_| next()).collect();
    let mut g = c.benchmark_group("policy");
    g.throughput(Throughput::Elements(1));
    g.bench_function("decide", |b| {
        let mut p = Policy::new(cfg).unwrap();
        let mut i = 0usize;
        b.iter(|| {
            i += 1;
            black_box(p.decide(vane_core::Timestamp(i as i64 * 1000), &Input::Up(probs[i % probs.len()])).unwrap())
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
