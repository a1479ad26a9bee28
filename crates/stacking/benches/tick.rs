//! Full-stack tick of seed 000's runtime: one new 1 s bar through 7 L1 HRMs (64/64/10, windows
//! 30 … 300 s, with their meta heads), the L2 meta-gate (64/64/10, 60 steps), the L3 supervisor
//! (96/96/12, 60 steps) and the policy, warm, with exact finite windows — p50/p99 per tick, and
//! the parts: `Stack::predict_last` alone, the feature columns alone, the policy step alone.
//!
//! The stack is trained for the bench in release mode with seed 000's sizes and **one** epoch
//! per level on a SYNTHETIC 1 s random walk with gaps (latency does not depend on the weights),
//! so the setup takes a minute or two. Nothing is asserted (the house rule: no timed tests).
//!
//! One core: `RAYON_NUM_THREADS=1 taskset -c 0 cargo bench -p vane-stacking --bench tick`
//! (build first with `cargo bench -p vane-stacking --bench tick --no-run`).
//!
//! `VANE_TICK_STACK=<dir>` trains into `<dir>` once and reuses that stack on later runs (so two
//! builds compare on the same weights, and a profiler skips the training); `VANE_TICK_ONLY=1`
//! times the full tick alone; `VANE_TICK_N` sets the timed ticks (300). The warm-up and the
//! bars after a gap go through `on_bar_all`, the timed ticks through `on_bar`. Instruction
//! profile (docs/benchmarks.md, "Seed 000's runtime tick"):
//! `VANE_TICK_STACK=/tmp/s VANE_TICK_ONLY=1 VANE_TICK_N=10 valgrind --tool=callgrind
//! target/release/deps/tick-<hash>`, then `callgrind_annotate --inclusive=yes`. Before the
//! plain-f32 HRM forward (`vane_models::hrm::HrmInfer`), ~85 % of the tick's instructions were
//! the fused HRM forward run on batch one (gemm calls, per-step tensors, `expf`); with it, `perf`
//! puts the matrix–vector products at ~64 %, the GRU gates at ~27 % and the runtime at ~1 %.

use std::hint::black_box;
use std::time::Instant;

use vane_core::{BarColumns, Bars, Interval, Timestamp};
use vane_market_data::grid::GridBars;
use vane_models::DeviceKind;
use vane_stacking::config::StackConfig;
use vane_stacking::runtime::{DecisionEngine, RuntimeSettings, StackRuntime};
use vane_stacking::stack::base_columns;
use vane_stacking::{TrainOptions, train_stacks};

fn grid(n: usize) -> GridBars {
    let mut state = 0x9E3779B97F4A7C15u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut c = BarColumns::with_extras(Default::default(), n);
    let mut px = 2000.0f64;
    let mut filled = Vec::with_capacity(n);
    for i in 0..n {
        let f = i > 0 && next() < 0.3;
        let prev = px;
        if !f {
            px *= 1.0 + (next() - 0.5) * 6e-4;
        }
        c.open_time.push(1_700_000_000_000 + i as i64 * 1000);
        c.open.push(prev);
        c.high.push(if f { prev } else { prev.max(px) * 1.0001 });
        c.low.push(if f { prev } else { prev.min(px) * 0.9999 });
        c.close.push(px);
        c.volume.push(if f { 0.0 } else { 0.1 + next() * 3.0 });
        filled.push(f);
    }
    GridBars { bars: Bars::from_columns(c).expect("valid bars"), filled, interval: Interval::S1 }
}

fn pct(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

fn report(name: &str, mut ms: Vec<f64>) {
    ms.sort_by(f64::total_cmp);
    println!(
        "{name:<34} n={:<4} p50 {:>8.3} ms  p99 {:>8.3} ms  max {:>8.3} ms",
        ms.len(),
        pct(&ms, 0.5),
        pct(&ms, 0.99),
        ms[ms.len() - 1]
    );
}

fn main() {
    let threads = std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| "unset".into());
    println!("full-stack tick, seed 000 sizes (RAYON_NUM_THREADS={threads})");
    let g = grid(8_000);
    let mut cfg = StackConfig::seed000();
    cfg.tags = vec!["10s".into()];
    cfg.data.stride = 40;
    cfg.l1.oof_splits = 2;
    cfg.l1.net.epochs = 1;
    cfg.l1.meta_epochs = 1;
    cfg.l2.net.epochs = 1;
    cfg.l3.net.epochs = 1;
    cfg.validate().expect("bench config");
    // VANE_TICK_STACK=<dir>: train into <dir> once and reuse it on later runs (so a profiler,
    // e.g. callgrind, can skip the training); unset: a temporary directory.
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir_buf = std::env::var_os("VANE_TICK_STACK").map(std::path::PathBuf::from);
    let dir = dir_buf.as_deref().unwrap_or(tmp.path());
    let device = DeviceKind::Cpu.device().expect("cpu");
    if dir.join("stacks/10s/supervisor.json").exists() {
        println!("setup: reusing the stack in {}", dir.display());
    } else {
        let t0 = Instant::now();
        let opts = TrainOptions { symbol: "SYNUSDT".into(), permute_labels: false };
        train_stacks(&g, &cfg, &opts, &dir.join("stacks"), &device, &mut |_| {}).expect("train");
        println!("setup: stack trained (1 epoch per level) in {:.1} s", t0.elapsed().as_secs_f64());
    }
    // VANE_TICK_ONLY=1: the full tick alone (no parts); VANE_TICK_N: timed ticks (300).
    let only_tick = std::env::var("VANE_TICK_ONLY").is_ok_and(|v| v == "1");
    let n_ticks: usize = std::env::var("VANE_TICK_N").ok().and_then(|v| v.parse().ok()).unwrap_or(300);

    let settings = RuntimeSettings { tags: vec!["10s".into()], ..RuntimeSettings::default() };
    let mut rt = StackRuntime::load_on(dir, &["10s"], &settings, &device).expect("load");
    let stack = &rt.stacks()[0];
    let sup = &stack.supervisor;
    let h = rt.history();
    println!(
        "stack: {} L1 (seq {:?}, meta heads {:?}), L2 heads {:?}, history {h} grid bars",
        sup.l1.len(),
        sup.l1.iter().map(|u| u.seq_len).collect::<Vec<_>>(),
        sup.l1.iter().map(|u| u.meta_seq_len).collect::<Vec<_>>(),
        sup.l2_heads
    );

    if !only_tick {
        parts(&g, &rt, dir, &settings, &device);
    }
    full_tick(&g, &mut rt, n_ticks);
}

fn parts(
    g: &GridBars,
    rt: &StackRuntime,
    dir: &std::path::Path,
    settings: &RuntimeSettings,
    device: &burn::tensor::Device,
) {
    let stack = &rt.stacks()[0];
    let sup = &stack.supervisor;
    let h = rt.history();
    // Parts on fixed windows of the grid.
    let ends: Vec<usize> = (h + 10..g.len()).step_by(((g.len() - h - 10) / 10).max(1)).take(10).collect();
    let mut cols_ms = Vec::new();
    let mut last_ms = Vec::new();
    for &end in &ends {
        let bars = g.bars.slice(end - h..end);
        let filled = &g.filled[end - h..end];
        let t = Instant::now();
        black_box(base_columns(&bars, filled, Some(sup.sigma_window)));
        cols_ms.push(t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        black_box(stack.predict_last(&bars, filled).expect("predict_last"));
        last_ms.push(t.elapsed().as_secs_f64() * 1e3);
    }
    report("raw + regime features (history rows)", cols_ms);
    report("Stack::predict_last (recomputes)", last_ms);

    // Each network alone on one window (what one tick costs per network).
    let root = dir.join("stacks");
    let mut nets: Vec<(String, vane_stacking::net::Net)> = Vec::new();
    for u in &sup.l1 {
        nets.push((
            format!("L1 {}s", u.horizon),
            vane_stacking::net::Net::load(&root.join(&u.dir), device).expect("net"),
        ));
        if let Some(d) = &u.meta_dir {
            nets.push((
                format!("L1 {}s meta", u.horizon),
                vane_stacking::net::Net::load(&root.join(d), device).expect("net"),
            ));
        }
    }
    nets.push(("L2".into(), vane_stacking::net::Net::load(&root.join("10s/l2"), device).expect("net")));
    nets.push(("L3".into(), vane_stacking::net::Net::load(&root.join(&sup.l3_dir), device).expect("net")));
    let mut total_p50 = 0.0;
    for (name, net) in &nets {
        let (seq, w) = (net.file.seq_len, net.file.columns.len());
        let values: Vec<f32> = (0..seq * w).map(|i| ((i * 7919) % 101) as f32 / 101.0).collect();
        let mut ms = Vec::new();
        for _ in 0..30 {
            let t = Instant::now();
            black_box(net.predict(&values, &[seq - 1], device).expect("predict"));
            ms.push(t.elapsed().as_secs_f64() * 1e3);
        }
        ms.sort_by(f64::total_cmp);
        total_p50 += pct(&ms, 0.5);
        report(&format!("{name} (seq {seq}, {w} inputs), one window"), ms);
    }
    println!("sum of the networks' p50: {total_p50:.3} ms");

    // The policy alone.
    let p = stack.predict_last(&g.bars.slice(g.len() - h..g.len()), &g.filled[g.len() - h..]).expect("probs");
    let mut e = DecisionEngine::new(settings, &settings.tags, &[stack.meta.thresholds]).expect("engine");
    let mut step_ms = Vec::new();
    for i in 0..10_000i64 {
        let t = Instant::now();
        black_box(e.step(Timestamp(1_700_000_000_000 + i * 1000), false, &[Some(&p)]).expect("step"));
        step_ms.push(t.elapsed().as_secs_f64() * 1e3);
    }
    report("policy step (DecisionEngine)", step_ms);
}

/// Warms the runtime with `history` grid bars through `on_bar_all`, then times `on_bar` on the
/// next bars that follow their predecessor without a gap (one grid bar, one evaluation each), so
/// a profiler's inclusive count of `StackRuntime::on_bar` divided by its calls is the cost of
/// one warm tick.
fn full_tick(g: &GridBars, rt: &mut StackRuntime, n_ticks: usize) {
    let h = rt.history();

    // The full tick: warm the runtime with `history` grid bars, then time each new bar.
    let source: Vec<_> = (0..g.len()).filter(|&i| !g.filled[i]).map(|i| g.bars.get(i).expect("bar")).collect();
    let mut tick_ms = Vec::new();
    let mut inserted = 0usize;
    for b in &source {
        let before = rt.seen();
        if before < h + 1 || rt.last_open_time().is_some_and(|t| b.open_time.0 - t.0 != 1000) {
            let n = rt.on_bar_all(b).expect("on_bar_all").len();
            if before >= h {
                inserted += n;
            }
            continue;
        }
        let t = Instant::now();
        let d = rt.on_bar(b).expect("on_bar");
        let el = t.elapsed().as_secs_f64() * 1e3;
        // Only ticks with no gap before them: one grid bar, one evaluation.
        if rt.seen() - before == 1 && before >= h {
            tick_ms.push(el);
        } else if before >= h {
            inserted += 1;
        }
        black_box(d);
        if tick_ms.len() >= n_ticks {
            break;
        }
    }
    report("StackRuntime::on_bar (full tick)", tick_ms);
    println!(
        "({inserted} grid bars after gaps fed through on_bar_all, not timed: a gap of g seconds means g + 1 evaluations)"
    );
}
