//! Seed 000's stack on a small synthetic 1 s grid: out-of-fold discipline, input assembly,
//! save/load round trip (streaming window == batch), and the shuffled-label null.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use vane_core::{BarColumns, Bars, Interval};
use vane_market_data::grid::GridBars;
use vane_models::DeviceKind;
use vane_stacking::config::{NetConfig, StackConfig};
use vane_stacking::stack::{Columns, base_columns, gather, history_of, l1_column, window_ends};
use vane_stacking::train::{Layout, LevelSpec, RowLabel, run_level};
use vane_stacking::{Stack, TrainOptions, train_stacks};

/// A 1 s grid with a weak momentum so there is something to learn; every 7th bar filled.
fn grid(n: usize, seed: u64) -> GridBars {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut c = BarColumns::with_extras(Default::default(), n);
    let mut px = 2000.0f64;
    let mut drift = 0.0f64;
    let mut filled = Vec::with_capacity(n);
    for i in 0..n {
        let f = i % 7 == 3 && i > 0;
        let prev = px;
        if !f {
            drift = 0.9 * drift + rng.random_range(-1.0..1.0) * 2e-4;
            px *= 1.0 + drift + rng.random_range(-1.0..1.0) * 3e-4;
        }
        c.open_time.push(1_700_000_000_000 + i as i64 * 1000);
        c.open.push(prev);
        c.high.push(prev.max(px) * if f { 1.0 } else { 1.0001 });
        c.low.push(prev.min(px) * if f { 1.0 } else { 0.9999 });
        c.close.push(px);
        c.volume.push(if f { 0.0 } else { rng.random_range(0.1..3.0) });
        filled.push(f);
    }
    GridBars { bars: Bars::from_columns(c).unwrap(), filled, interval: Interval::S1 }
}

fn tiny() -> StackConfig {
    let net = |epochs| NetConfig {
        hidden_low: 8,
        hidden_high: 8,
        high_period: 5,
        epochs,
        batch: 128,
        lr: 3e-3,
        ..NetConfig::default()
    };
    let mut c = StackConfig::seed000();
    c.tags = vec!["1s".into(), "10s".into()];
    c.data.stride = 3;
    c.l1.horizons = vec![1, 5, 10];
    c.l1.seq_lens = vec![10, 10, 12];
    c.l1.oof_splits = 2;
    c.l1.net = net(1);
    c.l1.meta_head = true;
    c.l1.meta_seq_len = 8;
    c.l1.meta_epochs = 1;
    c.l1.meta_high_period = 4;
    c.l2.l1_seq_len = 8;
    c.l2.l2_seq_len = 8;
    c.l2.net = net(1);
    c.l3.l1_seq_len = 8;
    c.l3.l3_seq_len = 8;
    c.l3.net = net(1);
    c.validate().unwrap();
    c
}

/// burn's random generator is process-wide and training seeds it: tests that train take turns,
/// so that each run is the same whatever else runs beside it.
static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn lock() -> std::sync::MutexGuard<'static, ()> {
    LOCK.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[test]
fn round_trip_and_streaming_window_equal_batch() {
    let _g = lock();
    let g = grid(2400, 1);
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("stacks");
    let device = DeviceKind::Cpu.device().unwrap();
    let mut cfg = tiny();
    cfg.data.save_features = true;
    let report = train_stacks(
        &g,
        &cfg,
        &TrainOptions { symbol: "SYNUSDT".into(), permute_labels: false },
        &root,
        &device,
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(report.tags.len(), 2);
    assert!(dir.path().join("features/SYNUSDT_1s_stack.parquet").exists(), "--save-features");
    for tag in ["1s", "10s"] {
        for f in
            ["meta.json", "supervisor.json", "metrics.json", "supervisor_L3.calib.json", "l2/model.bpk", "l3/net.json"]
        {
            assert!(root.join(tag).join(f).exists(), "{tag}/{f}");
        }
        let m: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(root.join(tag).join("metrics.json")).unwrap()).unwrap();
        for level in ["l1", "l2", "l3"] {
            assert!(m[level]["log_loss"].as_f64().unwrap().is_finite(), "{tag} {level}");
            assert!(m[level]["base_rate_log_loss"].as_f64().unwrap().is_finite(), "{tag} {level}");
        }
    }
    assert!(root.join("_l1/5s/model.bpk").exists() && root.join("_l1/5s/meta/net.json").exists());
    let names: Vec<String> =
        std::fs::read_dir(&root).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    let mut names = names;
    names.sort();
    assert_eq!(names, ["10s", "1s", "_l1"]);

    let stack = Stack::load(&root, "10s", &device).unwrap();
    let again = Stack::load(&root, "10s", &device).unwrap();
    let batch = stack.predict_series(&g.bars, &g.filled).unwrap();
    assert_eq!(batch, again.predict_series(&g.bars, &g.filled).unwrap(), "load twice → identical probabilities");
    let h = stack.history();
    assert_eq!(batch.iter().position(Option::is_some), Some(h - 1), "first predictable bar = history − 1");
    for end in [h, h + 1, 1500, g.bars.len()] {
        let last = stack.predict_last(&g.bars.slice(0..end), &g.filled[..end]).unwrap();
        // The window holds exactly `history` bars: more before it must not matter.
        let short = stack.predict_last(&g.bars.slice(end - h..end), &g.filled[end - h..end]).unwrap();
        let b = batch[end - 1].clone().unwrap();
        assert_eq!(last, short, "bar {end}");
        // Bit-equal to the batch path (every row is computed from the same window by the same code).
        assert_eq!(last, b, "bar {end}: streaming window vs batch");
    }
    assert!(stack.predict_last(&g.bars.slice(0..h - 1), &g.filled[..h - 1]).is_err());
}

#[test]
fn input_assembly_is_aligned_and_causal() {
    let g = grid(600, 2);
    let cols = base_columns(&g.bars, &g.filled, Some(90));
    let n = g.bars.len();
    // gather: row-major, column order as asked, NaN during warm-up.
    let names = vec!["ret_1".to_string(), "filled".to_string()];
    let m = gather(&cols, &names, n).unwrap();
    assert_eq!(m.len(), n * 2);
    assert!(m[59 * 2].is_nan() && m[60 * 2].is_finite());
    for t in 60..n {
        assert_eq!(m[t * 2], cols["ret_1"][t]);
        assert_eq!(m[t * 2 + 1], if g.filled[t] { 1.0 } else { 0.0 });
    }
    assert!(gather(&cols, &[l1_column(5)], n).is_err(), "a missing level is an error");
    // Features of row t depend on bars ≤ t only: recomputing on a prefix gives the same rows.
    let pre = base_columns(&g.bars.slice(0..400), &g.filled[..400], Some(90));
    for (name, c) in &pre {
        for t in 0..400 {
            assert!(c[t].to_bits() == cols[name][t].to_bits(), "{name} row {t}");
        }
    }
    // window_ends: windows of 5 finite rows.
    let ends = window_ends(&m, 2, 5, 0);
    assert_eq!(ends.first(), Some(&64));
    assert_eq!(history_of(&[(10, None)], 8, true, 8, Some(90)), 90 + 8);
}

#[test]
fn oof_outputs_never_come_from_a_model_that_saw_the_row() {
    let _g = lock();
    let g = grid(2400, 3);
    let n = g.bars.len();
    let device = DeviceKind::Cpu.device().unwrap();
    let mut cols: Columns = base_columns(&g.bars, &g.filled, None);
    let close = g.bars.close();
    let h = 5;
    let labels_all: Vec<Option<RowLabel>> = (0..n)
        .map(|t| (t + h < n).then(|| RowLabel { up: close[t + h] > close[t], weight: 1.0, end: t + h }))
        .collect();
    let layout = Layout::new(n, 0.2, 120, 10, 100, 3, 3).unwrap();
    let labels: Vec<Option<RowLabel>> = layout.d.iter().map(|&t| labels_all[t]).collect();
    let net =
        NetConfig { hidden_low: 4, hidden_high: 4, high_period: 4, epochs: 1, batch: 128, ..NetConfig::default() };
    let raw: Vec<String> = vane_stacking::features::RAW_NAMES.iter().map(|s| s.to_string()).collect();
    let l1 = run_level(
        &cols,
        &LevelSpec {
            name: "l1".into(),
            inputs: raw,
            seq_len: 10,
            depth: 1,
            labels: &labels,
            horizon: h,
            net: &net,
            seed: 1,
            every_bar: true,
        },
        &layout,
        &device,
    )
    .unwrap();
    // Every per-bar output of the training part: its producer never trained on a row whose label
    // window overlaps the bar's own label window [s, s + h].
    let overlaps = |a: usize, b: usize| a.max(b) <= a.min(b) + h;
    for s in 0..layout.n_train {
        let f = l1.producer[s];
        if f == usize::MAX {
            continue;
        }
        assert!(f < layout.k, "bar {s} of the training part predicted by the final model");
        assert!(
            l1.trained_on[f].iter().all(|&t| !overlaps(t, s)),
            "bar {s}: fold {f} trained on a row whose label overlaps it"
        );
    }
    // The final model trained only on training-part rows whose labels end before the tail.
    assert!(l1.trained_on[layout.k].iter().all(|&t| t + h < layout.n_train));
    cols.insert(l1_column(h), l1.column.clone());
    // L2: its training rows' whole windows of L1 outputs come from one fold model that never saw
    // the row's label window.
    let seq2 = 8;
    let l2 = run_level(
        &cols,
        &LevelSpec {
            name: "l2".into(),
            inputs: vec![l1_column(h)],
            seq_len: seq2,
            depth: seq2,
            labels: &labels,
            horizon: h,
            net: &net,
            seed: 2,
            every_bar: true,
        },
        &layout,
        &device,
    )
    .unwrap();
    let mut checked = 0;
    for (j, &t) in layout.d.iter().enumerate() {
        if !l2.usable[j] {
            continue;
        }
        let f = l1.producer[t];
        for s in t + 1 - seq2..=t {
            assert_eq!(l1.producer[s], f, "row {t}: its L2 window mixes L1 fold models");
        }
        assert!(l1.trained_on[f].iter().all(|&u| !overlaps(u, t)), "row {t}: L1 fold {f} saw its label");
        checked += 1;
    }
    assert!(checked > 100, "{checked} L2 training rows checked");
    // Rows whose windows straddle a block boundary are not training rows.
    let straddling = layout.d.iter().enumerate().filter(|&(_, &t)| !layout.clean(t, seq2)).count();
    assert!(straddling > 0);
    assert!(layout.d.iter().enumerate().all(|(j, &t)| layout.clean(t, seq2) || !l2.usable[j]));
}

#[test]
fn a_memorising_level_is_perfect_in_fold_and_at_chance_out_of_fold_and_the_next_level_reads_the_oof() {
    let _g = lock();
    // Coin-flip labels: nothing to learn, everything to memorise.
    let g = grid(1600, 5);
    let n = g.bars.len();
    let device = DeviceKind::Cpu.device().unwrap();
    let cols: Columns = base_columns(&g.bars, &g.filled, None);
    let mut rng = StdRng::seed_from_u64(9);
    let labels_all: Vec<Option<RowLabel>> =
        (0..n).map(|t| Some(RowLabel { up: rng.random_bool(0.5), weight: 1.0, end: (t + 1).min(n - 1) })).collect();
    let layout = Layout::new(n, 0.2, 80, 1, 20, 2, 2).unwrap();
    let labels: Vec<Option<RowLabel>> = layout.d.iter().map(|&t| labels_all[t]).collect();
    let net = NetConfig {
        hidden_low: 48,
        hidden_high: 48,
        high_period: 4,
        epochs: 40,
        batch: 64,
        lr: 1e-2,
        dropout: 0.0,
        ..NetConfig::default()
    };
    let raw: Vec<String> = vane_stacking::features::RAW_NAMES.iter().map(|s| s.to_string()).collect();
    let run = run_level(
        &cols,
        &LevelSpec {
            name: "memo".into(),
            inputs: raw.clone(),
            seq_len: 8,
            depth: 1,
            labels: &labels,
            horizon: 1,
            net: &net,
            seed: 3,
            every_bar: true,
        },
        &layout,
        &device,
    )
    .unwrap();
    let acc =
        |p: &[f64], y: &[bool]| p.iter().zip(y).filter(|(p, y)| (**p > 0.5) == **y).count() as f64 / y.len() as f64;
    let (mut ends, mut y, mut oof) = (Vec::new(), Vec::new(), Vec::new());
    for (j, &t) in layout.d.iter().enumerate() {
        if let Some(p) = run.oof[j] {
            ends.push(t);
            y.push(labels[j].unwrap().up);
            oof.push(p);
            // What the next level reads at a training bar is the out-of-fold output.
            assert_eq!(f64::from(run.column[t]), p, "bar {t}");
        }
    }
    // In fold: the final model's last epoch on its own training rows.
    let (_, last) = run.last.clone().unwrap();
    let memo = vane_stacking::net::Net::new(last, run.net.file.clone()).unwrap();
    let values = gather(&cols, &raw, n).unwrap();
    let in_fold = memo.predict(&values, &ends, &device).unwrap();
    let (a_in, a_oof) = (acc(&in_fold, &y), acc(&oof, &y));
    eprintln!("in-fold accuracy {a_in}, out-of-fold {a_oof} over {} rows", y.len());
    assert!(a_in > 0.75, "in-fold accuracy {a_in}: the model did not memorise (leakage would not be visible)");
    assert!((a_oof - 0.5).abs() < 0.08, "out-of-fold accuracy {a_oof} on coin flips");
}

/// The shuffled-label null over several seeds (seed 000's default, 3 and 11): with 3 and 11 the supervisor's (L3)
/// chooser picked isotonic calibration by a hair, whose 0/1 plateaus then cost 3.3 and 3.8 nats a
/// row on the validation tail against the base rate's 0.69. With Platt kept unless isotonic wins
/// by two standard errors (and isotonic floored), every level stays at chance.
#[test]
fn shuffled_labels_stay_at_chance_whatever_the_seed() {
    let g = grid(2400, 4);
    let device = DeviceKind::Cpu.device().unwrap();
    let _g = lock();
    for seed in [StackConfig::seed000().data.seed, 3, 11] {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = tiny();
        cfg.tags = vec!["10s".into()];
        cfg.data.seed = seed;
        let options = TrainOptions { symbol: "SYNUSDT".into(), permute_labels: true };
        let r = train_stacks(&g, &cfg, &options, &dir.path().join("stacks"), &device, &mut |_| {}).unwrap();
        let m = &r.tags["10s"];
        assert_eq!(m["permute_labels"], true);
        for level in ["l1", "l2", "l3"] {
            let ll = m[level]["log_loss"].as_f64().unwrap();
            let base = m[level]["base_rate_log_loss"].as_f64().unwrap();
            assert!((ll - base).abs() < 0.05, "seed {seed} {level}: log-loss {ll} vs base rate {base}: {}", m[level]);
            assert!(
                ll > base - 0.02,
                "seed {seed} {level}: log-loss {ll} beats the base rate {base} on shuffled labels"
            );
        }
    }
}
