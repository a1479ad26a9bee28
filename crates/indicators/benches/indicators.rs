//! Every indicator and every feature set over 1,000,000 SYNTHETIC bars (a seeded random walk of
//! 1m candles — load testing only), plus the per-bar cost of streaming the `full` set.
//!
//! The series is also written to `target/bench-data/synthetic_1m.csv` so that
//! `benches/talib_timing.py` times TA-Lib on exactly the same data; `benches/compare_talib.py`
//! then prints the ratios.
//!
//! `cargo bench -p vane-indicators --bench indicators`

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use vane_core::{Bar, Bars};
use vane_indicators::average::*;
use vane_indicators::momentum::*;
use vane_indicators::trend::*;
use vane_indicators::volatility::*;
use vane_indicators::volume::*;
use vane_indicators::{FeatureSet, Indicator, run_columns};

mod common;

const N: usize = 1_000_000;

fn write_csv(bars: &Bars) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-data");
    std::fs::create_dir_all(&dir).unwrap();
    let mut out = String::with_capacity(N * 80);
    out.push_str("open,high,low,close,volume\n");
    for b in bars.iter() {
        out.push_str(&format!("{},{},{},{},{}\n", b.open, b.high, b.low, b.close, b.volume));
    }
    std::fs::write(dir.join("synthetic_1m.csv"), out).unwrap();
}

fn bench_one<I: Indicator + Clone>(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    ind: I,
    bars: &Bars,
) {
    g.bench_function(BenchmarkId::from_parameter(name), |b| b.iter(|| black_box(run_columns(&mut ind.clone(), bars))));
}

fn benches(c: &mut Criterion) {
    let bars = common::synthetic(N, 1_600_000_000_000);
    write_csv(&bars);

    let mut g = c.benchmark_group("indicator_1M");
    g.sample_size(10).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
    g.throughput(Throughput::Elements(N as u64));
    bench_one(&mut g, "SMA", SimpleMovingAverage::new(30).unwrap(), &bars);
    bench_one(&mut g, "EMA", ExponentialMovingAverage::new(50).unwrap(), &bars);
    bench_one(&mut g, "KAMA", KaufmanAdaptiveMovingAverage::new(30).unwrap(), &bars);
    bench_one(&mut g, "T3", TillsonT3::new(5, 0.7).unwrap(), &bars);
    bench_one(&mut g, "RSI", RelativeStrengthIndex::new(14).unwrap(), &bars);
    bench_one(&mut g, "MACD", MovingAverageConvergenceDivergence::new(12, 26, 9).unwrap(), &bars);
    bench_one(&mut g, "STOCH", Stochastic::new(14, 3, 3).unwrap(), &bars);
    bench_one(&mut g, "CCI", CommodityChannelIndex::new(20).unwrap(), &bars);
    bench_one(&mut g, "WILLR", WilliamsR::new(14).unwrap(), &bars);
    bench_one(&mut g, "ROC", RateOfChange::new(10).unwrap(), &bars);
    bench_one(&mut g, "MOM", Momentum::new(10).unwrap(), &bars);
    bench_one(&mut g, "ULTOSC", UltimateOscillator::new(7, 14, 28).unwrap(), &bars);
    bench_one(&mut g, "MFI", MoneyFlowIndex::new(14).unwrap(), &bars);
    bench_one(&mut g, "TRIX", Trix::new(30).unwrap(), &bars);
    bench_one(&mut g, "PPO", PercentagePriceOscillator::new(12, 26).unwrap(), &bars);
    bench_one(&mut g, "AROON", Aroon::new(14).unwrap(), &bars);
    bench_one(&mut g, "DPO", DetrendedPriceOscillator::new(20).unwrap(), &bars);
    bench_one(&mut g, "WaveTrend", WaveTrend::new(10, 21).unwrap(), &bars);
    bench_one(&mut g, "DX", DirectionalMovement::new(14).unwrap(), &bars);
    bench_one(&mut g, "ADX", AverageDirectionalIndex::new(14).unwrap(), &bars);
    bench_one(&mut g, "SAR", ParabolicSar::new(0.02, 0.2).unwrap(), &bars);
    bench_one(&mut g, "Ichimoku", Ichimoku::new(9, 26, 52, 26).unwrap(), &bars);
    bench_one(&mut g, "Vortex", Vortex::new(14).unwrap(), &bars);
    bench_one(&mut g, "TRANGE", TrueRange::new(), &bars);
    bench_one(&mut g, "ATR", AverageTrueRange::new(14).unwrap(), &bars);
    bench_one(&mut g, "NATR", NormalizedAverageTrueRange::new(14).unwrap(), &bars);
    bench_one(&mut g, "BBANDS", BollingerBands::new(20, 2.0, 2.0).unwrap(), &bars);
    bench_one(&mut g, "Donchian", DonchianChannel::new(20).unwrap(), &bars);
    bench_one(&mut g, "LogReturn", LogReturn::new(1).unwrap(), &bars);
    bench_one(&mut g, "RealizedVol", RealizedVolatility::new(20).unwrap(), &bars);
    bench_one(&mut g, "OBV", OnBalanceVolume::new(), &bars);
    bench_one(&mut g, "AD", AccumulationDistribution::new(), &bars);
    bench_one(&mut g, "ADOSC", ChaikinOscillator::new(3, 10).unwrap(), &bars);
    bench_one(&mut g, "CMF", ChaikinMoneyFlow::new(20).unwrap(), &bars);
    bench_one(&mut g, "VolumeSma", VolumeSma::new(30).unwrap(), &bars);
    g.finish();

    let mut g = c.benchmark_group("set_1M");
    g.sample_size(10).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(5));
    g.throughput(Throughput::Elements(N as u64));
    for set in FeatureSet::ALL {
        g.bench_function(BenchmarkId::from_parameter(set.name()), |b| b.iter(|| black_box(set.compute(&bars))));
    }
    g.finish();

    // The same into a reused frame: no fresh pages to fault in (as TA-Lib's Python wrapper
    // reuses warm heap memory between calls).
    let mut g = c.benchmark_group("set_1M_reused");
    g.sample_size(10).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(5));
    g.throughput(Throughput::Elements(N as u64));
    for set in FeatureSet::ALL {
        let mut frame = set.compute(&bars);
        g.bench_function(BenchmarkId::from_parameter(set.name()), |b| {
            b.iter(|| set.compute_into(&bars, black_box(&mut frame)))
        });
    }
    g.finish();

    // One streaming update of the full set, as a live bot does per closed bar.
    let mut g = c.benchmark_group("stream_per_bar");
    g.throughput(Throughput::Elements(1));
    let rows: Vec<Bar> = bars.slice(0..100_000).iter().collect();
    for set in [FeatureSet::Full, FeatureSet::Talib, FeatureSet::V1] {
        g.bench_function(BenchmarkId::from_parameter(set.name()), |b| {
            let mut s = set.stream();
            let mut out = vec![0.0; s.names().len()];
            let mut i = 0usize;
            b.iter(|| {
                s.update(&rows[i % rows.len()], &mut out);
                i += 1;
                if i.is_multiple_of(rows.len()) {
                    s.reset();
                }
                black_box(&out);
            })
        });
    }
    g.finish();
}

criterion_group!(group, benches);
criterion_main!(group);
