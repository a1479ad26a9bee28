//! `--resume` for L1, per horizon: a kept horizon is not retrained and gives L2/L3 the same
//! inputs bit for bit; a missing or half-written horizon is retrained; a state trained under
//! another config or other data is not reused.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::SystemTime;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use vane_core::{BarColumns, Bars, Interval};
use vane_market_data::grid::GridBars;
use vane_models::DeviceKind;
use vane_stacking::config::{NetConfig, StackConfig};
use vane_stacking::{L1Resume, TrainOptions, TrainReport, train_stacks_with};

fn grid(n: usize, seed: u64) -> GridBars {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut c = BarColumns::with_extras(Default::default(), n);
    let mut px = 2000.0f64;
    let mut filled = Vec::with_capacity(n);
    for i in 0..n {
        let f = i % 5 == 2;
        let prev = px;
        if !f {
            px *= 1.0 + rng.random_range(-1.0..1.0) * 4e-4;
        }
        c.open_time.push(1_700_000_000_000 + i as i64 * 1000);
        c.open.push(prev);
        c.high.push(prev.max(px));
        c.low.push(prev.min(px));
        c.close.push(px);
        c.volume.push(if f { 0.0 } else { rng.random_range(0.1..3.0) });
        filled.push(f);
    }
    GridBars { bars: Bars::from_columns(c).unwrap(), filled, interval: Interval::S1 }
}

fn tiny() -> StackConfig {
    let net =
        NetConfig { hidden_low: 4, hidden_high: 4, high_period: 4, epochs: 1, batch: 256, ..NetConfig::default() };
    let mut c = StackConfig::seed000();
    c.tags = vec!["10s".into()];
    c.data.stride = 4;
    c.l1.horizons = vec![5, 10];
    c.l1.seq_lens = vec![8, 10];
    c.l1.oof_splits = 2;
    c.l1.net = net.clone();
    c.l1.meta_head = true;
    c.l1.meta_seq_len = 6;
    c.l1.meta_epochs = 1;
    c.l1.meta_high_period = 3;
    c.l2.l1_seq_len = 6;
    c.l2.l2_seq_len = 6;
    c.l2.net = net.clone();
    c.l3.l1_seq_len = 6;
    c.l3.l3_seq_len = 6;
    c.l3.net = net;
    c.validate().unwrap();
    c
}

/// Every file of a folder: bytes and modification time.
fn snapshot(dir: &Path) -> BTreeMap<String, (Vec<u8>, SystemTime)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let md = std::fs::metadata(&p).unwrap();
                out.insert(
                    p.strip_prefix(dir).unwrap().display().to_string(),
                    (std::fs::read(&p).unwrap(), md.modified().unwrap()),
                );
            }
        }
    }
    out
}

fn train(g: &GridBars, cfg: &StackConfig, root: &Path, resume: bool) -> TrainReport {
    let device = DeviceKind::Cpu.device().unwrap();
    train_stacks_with(
        g,
        cfg,
        &TrainOptions { symbol: "SYNUSDT".into(), permute_labels: false },
        &L1Resume::at(root.join("stack_resume/SYNUSDT/l1"), resume),
        &root.join("stacks"),
        &device,
        &mut |m| eprintln!("{m}"),
    )
    .unwrap()
}

#[test]
fn resume_skips_complete_horizons_retrains_missing_ones_and_gives_the_same_l1_inputs() {
    let g = grid(1500, 11);
    let cfg = tiny();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("stack_resume/SYNUSDT/l1");
    let first = train(&g, &cfg, dir.path(), false);
    assert_eq!(first.l1_trained, ["5s", "10s"]);
    assert!(first.l1_resumed.is_empty());
    assert!(state.join("10s/complete.json").is_file() && state.join("5s/l1.run").is_file());
    let kept = snapshot(&state.join("10s"));

    // A killed run: 5s's folder gone, a half-written 5s.partial left behind.
    std::fs::remove_dir_all(state.join("5s")).unwrap();
    std::fs::create_dir_all(state.join("5s.partial/l1")).unwrap();
    std::fs::write(state.join("5s.partial/l1.run"), b"half").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let second = train(&g, &cfg, dir.path(), true);
    assert_eq!(second.l1_resumed, ["10s"], "the complete horizon is reused");
    assert_eq!(second.l1_trained, ["5s"], "the missing horizon is retrained");
    assert!(!state.join("5s.partial").exists() && state.join("5s/complete.json").is_file());
    assert_eq!(snapshot(&state.join("10s")), kept, "the kept horizon's files (bytes and mtime) are untouched");
    // The L1 columns L2/L3 read: the kept horizon's, bit for bit.
    for c in ["l1_10", "l1meta_10"] {
        assert_eq!(first.l1_inputs[c], second.l1_inputs[c], "{c}");
    }
    // The stack's L1 folder holds the kept horizon's model files as trained.
    let a = std::fs::read(dir.path().join("stacks/_l1/10s/model.bpk")).unwrap();
    assert_eq!(a, kept["l1/model.bpk"].0);
    assert!(dir.path().join("stacks/_l1/10s/meta/net.json").is_file());

    // A state whose complete.json lists other sizes (a file cut short) is retrained.
    let run = state.join("10s/l1.run");
    let bytes = std::fs::read(&run).unwrap();
    std::fs::write(&run, &bytes[..bytes.len() - 4]).unwrap();
    let third = train(&g, &cfg, dir.path(), true);
    assert_eq!(third.l1_resumed, ["5s"]);
    assert_eq!(third.l1_trained, ["10s"]);
    assert_eq!(third.l1_inputs["l1_5"], second.l1_inputs["l1_5"]);
}

#[test]
fn resume_does_not_reuse_a_horizon_trained_under_another_config_or_other_data() {
    let g = grid(1500, 12);
    let cfg = tiny();
    let dir = tempfile::tempdir().unwrap();
    let first = train(&g, &cfg, dir.path(), false);
    assert_eq!(first.l1_trained, ["5s", "10s"]);

    // Another window for 5s: 5s retrains, 10s is reused.
    let mut c2 = cfg.clone();
    c2.l1.seq_lens = vec![6, 10];
    let r = train(&g, &c2, dir.path(), true);
    assert_eq!((r.l1_resumed.as_slice(), r.l1_trained.as_slice()), (&["10s".to_string()][..], &["5s".to_string()][..]));
    let fp: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("stack_resume/SYNUSDT/l1/5s/fingerprint.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(fp["payload"]["seq_len"].as_u64().or(fp["seq_len"].as_u64()), Some(6), "{fp}");

    // Other labels (dead zone): both retrain.
    let mut c3 = c2.clone();
    c3.l1.deadzone_eps = 0.001;
    let r = train(&g, &c3, dir.path(), true);
    assert!(r.l1_resumed.is_empty() && r.l1_trained.len() == 2, "{:?}", r.l1_resumed);

    // Other data (a shorter range of the same series, one volume changed): both retrain.
    let g2 = grid(1400, 12);
    let r = train(&g2, &c3, dir.path(), true);
    assert!(r.l1_resumed.is_empty(), "other data range: {:?}", r.l1_resumed);
    let mut g3 = grid(1400, 12);
    let mut cols = g3.bars.columns().clone();
    cols.volume[700] += 1.0;
    g3.bars = Bars::from_columns(cols).unwrap();
    let r = train(&g3, &c3, dir.path(), true);
    assert!(r.l1_resumed.is_empty(), "one volume changed: {:?}", r.l1_resumed);

    // Same everything: both reused.
    let r = train(&g3, &c3, dir.path(), true);
    assert_eq!(r.l1_resumed, ["5s", "10s"]);
    // Without --resume every horizon trains.
    let r = train(&g3, &c3, dir.path(), false);
    assert!(r.l1_resumed.is_empty());
}
