//! Triple-barrier labelling throughput (events/s; seed 000's target ≥ 10⁷ events per minute,
//! 166,667 per second) on a SYNTHETIC 1 s random walk (200,000 bars), with seed 000's 10 s row
//! (σ window 120 s, k 1.2, vertical barrier 10 s) and 180 s row (360 s, 1.7, 180 s):
//! `TripleBarrier::label` against a straightforward per-event loop written the way the
//! reference design labels (per event: collect the window's log returns, mean, standard
//! deviation, then walk the closes to the first touch). Both give the same labels (checked
//! before timing). Nothing timed is asserted.
//!
//! `cargo bench -p vane-labeling --bench barrier` (figures in docs/benchmarks.md: σ is O(1) per bar
//! since `rolling_sigmas`, so the library runs ~10× (10 s row) and ~28× (180 s row) the loop's rate
//! in the same run).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use vane_core::{BarColumns, Bars};
use vane_labeling::barrier::TripleBarrier;

fn bars(n: usize) -> Bars {
    let mut state = 0x9E3779B97F4A7C15u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut c = BarColumns::with_extras(Default::default(), n);
    let mut px = 2000.0f64;
    for i in 0..n {
        let prev = px;
        // 30 % of seconds without a trade (a flat grid bar), as on sparse 1 s data.
        if next() >= 0.3 {
            px *= 1.0 + (next() - 0.5) * 6e-4;
        }
        c.open_time.push(1_700_000_000_000 + i as i64 * 1000);
        c.open.push(prev);
        c.high.push(prev.max(px));
        c.low.push(prev.min(px));
        c.close.push(px);
        c.volume.push(1.0);
    }
    Bars::from_columns(c).expect("valid bars")
}

/// The per-event loop: +1 / −1 / 0 and the touch index per labelled bar.
fn per_event(close: &[f64], h: usize, w: usize, k_up: f64, k_dn: f64) -> Vec<Option<(i8, usize)>> {
    let n = close.len();
    let mut out = Vec::with_capacity(n);
    for t in 0..n {
        if t < w || t + h >= n {
            out.push(None);
            continue;
        }
        let rets: Vec<f64> = (t + 1 - w..=t).map(|i| (close[i] / close[i - 1]).ln()).collect();
        let mean = rets.iter().sum::<f64>() / w as f64;
        let sigma = (rets.iter().map(|r| (r - mean) * (r - mean)).sum::<f64>() / (w - 1) as f64).sqrt();
        let up = close[t] * (k_up * sigma).exp();
        let dn = close[t] * (-k_dn * sigma).exp();
        let mut label = (0i8, t + h);
        if sigma > 0.0 {
            for (j, &p) in close.iter().enumerate().take(t + h + 1).skip(t + 1) {
                if p <= dn {
                    label = (-1, j);
                    break;
                }
                if p >= up {
                    label = (1, j);
                    break;
                }
            }
        }
        out.push(Some(label));
    }
    out
}

fn bench(c: &mut Criterion) {
    let n = 200_000;
    let b = bars(n);
    for (name, h, w, k) in [("10s", 10usize, 120usize, 1.2), ("180s", 180, 360, 1.7)] {
        let tb = TripleBarrier::new(h, w, k, k).expect("labeller");
        let lib = tb.label(&b).expect("labels");
        let naive = per_event(b.close(), h, w, k, k);
        let events = naive.iter().flatten().count();
        for (t, v) in naive.iter().enumerate() {
            let l = lib.values[t].map(|l| (l.label, l.touch_index));
            assert_eq!(l, *v, "{name}: bar {t}");
        }
        let mut g = c.benchmark_group(format!("triple_barrier_{name}"));
        g.sample_size(10);
        g.throughput(Throughput::Elements(events as u64));
        g.bench_function("TripleBarrier::label", |bch| bch.iter(|| black_box(tb.label(&b).expect("labels"))));
        g.bench_function("per_event_loop", |bch| bch.iter(|| black_box(per_event(b.close(), h, w, k, k))));
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
