//! Per-level training time of seed 000's stack on a SYNTHETIC 14-day 1 s series (1,209,600 grid
//! seconds): a seeded random walk with gaps (about 30 % of the seconds without a trade, as sparse
//! 1 s data), put on the grid by `vane_market_data::regularise`, then `train_stacks` under
//! `--fast-sanity` (tags 1s/10s/15s, L1 1/5/10/15 s, windows ≤ 60, 2 folds, 1–2 epochs, 16/16,
//! decision points strided to ≤ 20k rows per level). Prints the seconds of every phase: grid,
//! features, labels, each L1 horizon (with its meta head), L2, L3, save. Nothing is asserted.
//!
//! `cargo bench -p vane-stacking --bench train_levels` (release). `VANE_BENCH_BARS=N` for
//! another length (e.g. 172800 = two days); `VANE_BENCH_FULL=1` for seed 000's full sizes
//! instead of `--fast-sanity` (hours).

use std::time::Instant;

use vane_core::{BarColumns, Bars, Interval};
use vane_models::DeviceKind;
use vane_stacking::config::StackConfig;
use vane_stacking::{TrainOptions, train_stacks};

/// Sparse 1 s bars of a seeded random walk: a second has a trade with probability 0.7 (xorshift,
/// the generator of `benches/tick.rs`), so the grid has gaps of every length.
fn sparse(n: usize) -> Bars {
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
        if i > 0 && i + 1 < n && next() < 0.3 {
            continue;
        }
        let open = px;
        px *= 1.0 + (next() - 0.5) * 6e-4;
        c.open_time.push(1_700_000_000_000 + i as i64 * 1000);
        c.open.push(open);
        c.high.push(open.max(px) * 1.0001);
        c.low.push(open.min(px) * 0.9999);
        c.close.push(px);
        c.volume.push(0.1 + next() * 3.0);
    }
    Bars::from_columns(c).expect("valid bars")
}

fn main() {
    let n: usize = std::env::var("VANE_BENCH_BARS").ok().and_then(|s| s.parse().ok()).unwrap_or(14 * 86_400);
    let full = std::env::var("VANE_BENCH_FULL").is_ok_and(|v| v == "1");
    let threads = std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| "unset".into());
    println!(
        "SYNTHETIC 1 s random walk with gaps, {n} grid seconds ({:.1} days), {} (RAYON_NUM_THREADS={threads})",
        n as f64 / 86_400.0,
        if full { "seed 000 full sizes" } else { "--fast-sanity" }
    );
    let t = Instant::now();
    let bars = sparse(n);
    let gen_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let g = vane_market_data::regularise(&bars, Interval::S1).expect("grid");
    let grid_s = t.elapsed().as_secs_f64();
    println!(
        "generate {:>8.2} s  ({} trade bars)\ngrid     {:>8.2} s  ({} grid bars, {:.1} % filled)",
        gen_s,
        bars.len(),
        grid_s,
        g.len(),
        g.filled_share() * 100.0
    );
    let cfg = if full { StackConfig::seed000() } else { StackConfig::seed000().fast_sanity(g.len()) };
    cfg.validate().expect("config");
    let dir = tempfile::tempdir().expect("temp dir");
    let device = DeviceKind::Cpu.device().expect("cpu");
    let opts = TrainOptions { symbol: "SYNTHETIC".into(), permute_labels: false };
    let mut last = Instant::now();
    let start = Instant::now();
    let r = train_stacks(&g, &cfg, &opts, &dir.path().join("stacks"), &device, &mut |m| {
        println!("  [{:>7.1} s, +{:>6.1} s] {m}", start.elapsed().as_secs_f64(), last.elapsed().as_secs_f64());
        last = Instant::now();
    })
    .expect("train");
    println!(
        "stride {}, {} out-of-fold rows, {} held-out rows, history {}",
        r.stride, r.train_rows, r.valid_rows, r.history
    );
    let order = |k: &str| match k {
        "features" => 0,
        "labels" => 1,
        k if k.starts_with("l1_") => 2,
        "l1" => 3,
        "l2" => 4,
        "labels_l3" => 5,
        "l3" => 6,
        "save" => 7,
        _ => 8,
    };
    let mut phases: Vec<(&String, &f64)> = r.seconds.iter().collect();
    phases.sort_by_key(|(k, _)| {
        (order(k), k.trim_start_matches("l1_").trim_end_matches('s').parse::<usize>().unwrap_or(0))
    });
    println!("phase          seconds");
    println!("{:<14} {:>8.2}", "grid", grid_s);
    for (k, v) in phases {
        println!("{k:<14} {v:>8.2}");
    }
}
