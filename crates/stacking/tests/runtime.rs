//! Seed 000's runtime: the policy part (hysteresis, cooldown, k-of-n consensus) on scripted
//! probability streams with hand-derived decisions, the settings from the environment, and the
//! streaming runtime (`StackRuntime::on_bar` over sparse 1 s bars) equal to the batch backtest
//! path (`StackRuntime::replay`) on a small trained stack, with thresholds reloaded mid-stream.

use std::collections::BTreeMap;
use std::path::Path;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use vane_artifact::Versioned;
use vane_core::{BarColumns, Bars, Interval, Signal, Timestamp};
use vane_market_data::grid::GridBars;
use vane_models::DeviceKind;
use vane_stacking::config::{NetConfig, StackConfig};
use vane_stacking::runtime::{Decision, DecisionEngine, RuntimeSettings, StackRuntime};
use vane_stacking::stack::{LevelProbs, Meta, STACK_FORMAT_VERSION, StackCalibration, Thresholds};
use vane_stacking::{TrainOptions, train_stacks};

use Signal::{Buy, Hold, Sell};

fn lp(t: i64, p: f64) -> LevelProbs {
    LevelProbs { open_time: t, l1: BTreeMap::new(), l2: 0.5, l3_raw: p, l3: p, vote: Hold }
}

fn sec(s: i64) -> Timestamp {
    Timestamp(1_700_000_000_000 + s * 1000)
}

fn thr(long: f64, short: f64) -> Thresholds {
    Thresholds { long, short }
}

fn settings(hysteresis: f64, cooldown_sec: f64, k: Option<usize>) -> RuntimeSettings {
    RuntimeSettings { hysteresis, cooldown_sec, consensus_k: k, ..RuntimeSettings::default() }
}

fn tags(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

/// One tag, long 0.60 / short 0.40, hysteresis 0.01, cooldown 10 s. By hand: entering BUY needs
/// p > 0.61, staying BUY p > 0.59; entering SELL p < 0.39, staying SELL p < 0.41; no change of
/// decision within 10 s of the last change.
#[test]
fn hysteresis_and_cooldown_on_a_scripted_stream() {
    let mut e = DecisionEngine::new(&settings(0.01, 10.0, None), &tags(&["10s"]), &[thr(0.60, 0.40)]).unwrap();
    // (second, P(up), raw vote without hysteresis, expected decision)
    let script = [
        (0, 0.605, Buy, Hold),   // above long but not long + h: stays HOLD
        (1, 0.615, Buy, Buy),    // enters BUY (change at 1 s)
        (2, 0.595, Hold, Buy),   // below long, above long − h: keeps BUY
        (3, 0.585, Hold, Buy),   // would leave, but 3 − 1 < 10 s: cooldown keeps BUY
        (10, 0.585, Hold, Buy),  // 10 − 1 = 9 s < 10: still cooling
        (11, 0.585, Hold, Hold), // 11 − 1 = 10 s: leaves (change at 11 s)
        (12, 0.30, Sell, Hold),  // SELL wanted, 1 s after the last change: HOLD
        (21, 0.395, Sell, Hold), // cooled down, but entering SELL needs p < 0.39
        (22, 0.38, Sell, Sell),  // enters SELL (change at 22 s)
        (33, 0.405, Hold, Sell), // above short, below short + h: keeps SELL
        (34, 0.415, Hold, Hold), // leaves SELL (cooled: 34 − 22 ≥ 10)
        (35, 0.70, Buy, Hold),   // BUY wanted 1 s later: cooling
    ];
    for (s, p, vote, want) in script {
        let probs = lp(sec(s).0, p);
        let d = e.step(sec(s), false, &[Some(&probs)]).unwrap();
        let td = &d.tags["10s"];
        assert_eq!(td.vote, Some(vote), "vote at {s} s (p = {p})");
        assert_eq!(td.decision, want, "decision at {s} s (p = {p})");
        assert_eq!(d.decision, want, "1-of-1 consensus is the tag's decision at {s} s");
        assert_eq!(td.l3, Some(p));
    }
    // A warm-up bar (no probabilities) leaves the decision as it is.
    let d = e.step(sec(40), true, &[None]).unwrap();
    assert_eq!((d.tags["10s"].decision, d.tags["10s"].vote, d.filled), (Hold, None, true));
}

/// Three tags 2-of-3 (seed 000's `1s,10s,15s`) without hysteresis or cooldown, so each tag's
/// decision is its vote: the consensus by hand.
#[test]
fn two_of_three_consensus_on_a_scripted_stream() {
    let names = tags(&["10s", "1s", "15s"]);
    let mut e = DecisionEngine::new(&settings(0.0, 0.0, None), &names, &[thr(0.6, 0.4); 3]).unwrap();
    assert_eq!((e.consensus().k, e.consensus().n), (2, 3));
    let (b, s, h) = (0.7, 0.3, 0.5);
    // (P(up) of 10s, 1s, 15s; expected consensus)
    let script = [
        ([b, b, h], Buy),
        ([b, s, h], Hold),
        ([s, s, b], Sell),
        ([b, h, h], Hold),
        ([s, b, s], Sell),
        ([b, b, b], Buy),
        ([h, h, h], Hold),
    ];
    for (i, (ps, want)) in script.into_iter().enumerate() {
        let probs: Vec<LevelProbs> = ps.iter().map(|&p| lp(sec(i as i64).0, p)).collect();
        let refs: Vec<Option<&LevelProbs>> = probs.iter().map(Some).collect();
        let d = e.step(sec(i as i64), false, &refs).unwrap();
        assert_eq!(d.decision, want, "row {i}: {ps:?}");
    }
    // A tag still warming up keeps HOLD and so votes HOLD.
    let mut e = DecisionEngine::new(&settings(0.0, 0.0, None), &names, &[thr(0.6, 0.4); 3]).unwrap();
    let p = lp(0, b);
    assert_eq!(e.step(sec(0), false, &[Some(&p), None, None]).unwrap().decision, Hold);
    assert_eq!(e.step(sec(1), false, &[Some(&p), Some(&p), None]).unwrap().decision, Buy);
    // Wrong arity is an error, not a panic.
    assert!(e.step(sec(2), false, &[Some(&p)]).is_err());
}

/// All three mechanisms at once with seed 000's settings (h = 0.01, 10 s, 2 of 3).
#[test]
fn seed000_settings_combined() {
    let names = tags(&["10s", "1s", "15s"]);
    let s = RuntimeSettings { tags: names.clone(), ..RuntimeSettings::seed000() };
    assert_eq!((s.hysteresis, s.cooldown_sec), (0.01, 10.0));
    let mut e = DecisionEngine::new(&s, &names, &[thr(0.6, 0.4); 3]).unwrap();
    // (second, P(up) per tag, expected per-tag decisions, expected consensus)
    let script = [
        // 10s enters BUY (> 0.61), 1s only reaches 0.605 (needs 0.61): 1 of 3 → HOLD.
        (0, [0.62, 0.605, 0.5], [Buy, Hold, Hold], Hold),
        // 1s enters BUY at 1 s: 2 of 3 → BUY.
        (1, [0.62, 0.62, 0.5], [Buy, Buy, Hold], Buy),
        // Both drop to 0.595 (inside the band): both keep BUY.
        (2, [0.595, 0.595, 0.5], [Buy, Buy, Hold], Buy),
        // 10s falls to SELL territory at 5 s but cools until 10 s; 1s keeps BUY at 0.592.
        (5, [0.2, 0.592, 0.5], [Buy, Buy, Hold], Buy),
        // 10 s: 10s (changed at 0) may change → SELL; 1s (changed at 1) cools → BUY: 1 BUY, 1 SELL.
        (10, [0.2, 0.2, 0.5], [Sell, Buy, Hold], Hold),
        // 11 s: 1s may change → SELL; 2 of 3 SELL.
        (11, [0.2, 0.2, 0.5], [Sell, Sell, Hold], Sell),
    ];
    for (t, ps, want_tags, want) in script {
        let probs: Vec<LevelProbs> = ps.iter().map(|&p| lp(sec(t).0, p)).collect();
        let refs: Vec<Option<&LevelProbs>> = probs.iter().map(Some).collect();
        let d = e.step(sec(t), false, &refs).unwrap();
        let got: Vec<Signal> = names.iter().map(|n| d.tags[n].decision).collect();
        assert_eq!(got, want_tags, "tags at {t} s");
        assert_eq!(d.decision, want, "consensus at {t} s");
    }
}

/// New thresholds while running keep the policy's state (current decision, last change).
#[test]
fn set_thresholds_keeps_state() {
    let mut e = DecisionEngine::new(&settings(0.0, 10.0, None), &tags(&["10s"]), &[thr(0.6, 0.4)]).unwrap();
    let p = lp(0, 0.65);
    assert_eq!(e.step(sec(0), false, &[Some(&p)]).unwrap().decision, Buy);
    e.set_thresholds(0, thr(0.7, 0.3)).unwrap();
    // 0.65 is below the new long: HOLD wanted, but the change at 0 s is still cooling.
    assert_eq!(e.step(sec(5), false, &[Some(&p)]).unwrap().decision, Buy);
    assert_eq!(e.step(sec(10), false, &[Some(&p)]).unwrap().decision, Hold);
    assert!(e.set_thresholds(0, thr(0.3, 0.7)).is_err(), "short > long is refused");
    assert_eq!(e.thresholds()[0], thr(0.7, 0.3), "a refused pair changes nothing");
}

#[test]
fn settings_from_the_environment() {
    let env = |pairs: &'static [(&'static str, &'static str)]| {
        move |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
    };
    let d = RuntimeSettings::from_lookup(env(&[])).unwrap();
    assert_eq!((d.tags.clone(), d.hysteresis, d.cooldown_sec), (vec!["10s".to_string()], 0.01, 10.0));
    let s = RuntimeSettings::from_lookup(env(&[
        ("MODEL_TAG", "10s"),
        ("CONSENSUS_TAGS", "1s, 10s,15s"),
        ("HYSTERESIS", "0.02"),
        ("COOLDOWN_SEC", "5"),
    ]))
    .unwrap();
    assert_eq!(s.tags, ["10s", "1s", "15s"]);
    assert_eq!((s.hysteresis, s.cooldown_sec), (0.02, 5.0));
    let c = s.consensus(3).unwrap();
    assert_eq!((c.k, c.n), (2, 3));
    assert_eq!(RuntimeSettings::seed000().tags, ["10s", "1s", "15s"]);
    let e = RuntimeSettings::from_lookup(env(&[("HYSTERESIS", "lots")])).unwrap_err().to_string();
    assert!(e.contains("HYSTERESIS") && e.contains("lots"), "{e}");
    let e = RuntimeSettings::from_lookup(env(&[("COOLDOWN_SEC", "-1")])).unwrap_err().to_string();
    assert!(e.contains("COOLDOWN_SEC"), "{e}");
}

/// A 1 s grid with weak momentum; every 7th bar filled (carried close, zero volume, exactly as
/// `regularise` fills), so the sparse source is the grid without its filled bars.
fn grid(n: usize, seed: u64) -> GridBars {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut c = BarColumns::with_extras(Default::default(), n);
    let mut px = 2000.0f64;
    let mut drift = 0.0f64;
    let mut filled = Vec::with_capacity(n);
    for i in 0..n {
        // Gaps of 1 and of 3 seconds.
        let f = i > 0 && (i % 7 == 3 || (i % 50 >= 20 && i % 50 < 23));
        let prev = px;
        if !f {
            drift = 0.9 * drift + rng.random_range(-1.0..1.0) * 2e-4;
            px *= 1.0 + drift + rng.random_range(-1.0..1.0) * 3e-4;
        }
        c.open_time.push(sec(i as i64).0);
        c.open.push(prev);
        c.high.push(if f { prev } else { prev.max(px) * 1.0001 });
        c.low.push(if f { prev } else { prev.min(px) * 0.9999 });
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

fn quantile(v: &[f64], q: f64) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    s[((s.len() - 1) as f64 * q).round() as usize]
}

fn write_thresholds(stacks: &Path, tag: &str, t: Thresholds) {
    let p = stacks.join(tag).join("meta.json");
    let mut m: Meta = vane_artifact::read_versioned(&p, STACK_FORMAT_VERSION).unwrap();
    m.thresholds = t;
    vane_artifact::write_json(&p, &Versioned::new(STACK_FORMAT_VERSION, &m)).unwrap();
}

/// Largest |streaming − batch| over every probability of two decision lists; panics on any
/// difference in decisions, votes, times or flags.
fn compare(stream: &[Decision], batch: &[Decision]) -> f64 {
    assert_eq!(stream.len(), batch.len());
    let mut worst = 0.0f64;
    for (i, (a, b)) in stream.iter().zip(batch).enumerate() {
        assert_eq!((a.as_of, a.filled, a.decision), (b.as_of, b.filled, b.decision), "bar {i}");
        for (tag, x) in &a.tags {
            let y = &b.tags[tag];
            assert_eq!((x.decision, x.vote), (y.decision, y.vote), "bar {i} tag {tag}");
            let pairs = [(x.l2, y.l2), (x.l3, y.l3)];
            for (p, q) in pairs {
                assert_eq!(p.is_some(), q.is_some(), "bar {i} tag {tag}: warm-up differs");
                if let (Some(p), Some(q)) = (p, q) {
                    worst = worst.max((p - q).abs());
                }
            }
            assert_eq!(x.l1.keys().collect::<Vec<_>>(), y.l1.keys().collect::<Vec<_>>());
            for (k, p) in &x.l1 {
                worst = worst.max((p - y.l1[k]).abs());
            }
        }
    }
    worst
}

fn changes(d: &[Decision]) -> usize {
    d.windows(2).filter(|w| w[0].decision != w[1].decision).count()
}

#[test]
fn streaming_equals_batch_and_reload_changes_decisions() {
    let g = grid(1200, 7);
    let dir = tempfile::tempdir().unwrap();
    let stacks = dir.path().join("stacks");
    let device = DeviceKind::Cpu.device().unwrap();
    let opts = TrainOptions { symbol: "SYNUSDT".into(), permute_labels: false };
    train_stacks(&g, &tiny(), &opts, &stacks, &device, &mut |_| {}).unwrap();

    // The trained L3 calibrators are isotonic steps (a few dozen distinct values); identity
    // makes every decision depend on the network's continuous output, the stricter comparison.
    for tag in ["1s", "10s"] {
        let p = stacks.join(tag).join("supervisor_L3.calib.json");
        let mut c: StackCalibration = vane_artifact::read_versioned(&p, STACK_FORMAT_VERSION).unwrap();
        c.l3 = vane_calibration::Calibrator::Identity;
        vane_artifact::write_json(&p, &Versioned::new(STACK_FORMAT_VERSION, &c)).unwrap();
    }
    // Thresholds at the 35th/65th percentiles of each tag's L3 so that decisions move; a
    // hysteresis of a tenth of that band and a 3 s cooldown.
    let base = settings(0.0, 3.0, Some(1));
    let probe = StackRuntime::load_on(dir.path(), &["10s", "1s"], &base, &device).unwrap();
    let series = probe.batch_probabilities(&g).unwrap();
    let mut band = f64::INFINITY;
    let mut wide = Vec::new();
    for (tag, s) in probe.tags().iter().zip(&series) {
        let l3: Vec<f64> = s.iter().flatten().map(|p| p.l3).collect();
        assert!(l3.len() > 800, "{tag}: {} predicted bars", l3.len());
        let (lo, hi) = (quantile(&l3, 0.35), quantile(&l3, 0.65));
        band = band.min(hi - lo);
        write_thresholds(&stacks, tag, thr(hi, lo));
        wide.push((tag.clone(), thr(quantile(&l3, 0.9), quantile(&l3, 0.1))));
    }
    assert!(band > 0.0, "untrained-looking L3: no spread");
    let s = RuntimeSettings { hysteresis: band / 10.0, ..base };

    // Batch: the backtest path.
    let mut rt = StackRuntime::load_on(dir.path(), &["10s", "1s"], &s, &device).unwrap();
    let batch = rt.replay(&g).unwrap();
    assert!(changes(&batch) >= 4, "decisions should move: {} changes", changes(&batch));
    assert!(batch.iter().any(|d| d.decision == Buy) && batch.iter().any(|d| d.decision == Sell));

    // Streaming: the sparse source (the grid without its filled bars), one bar at a time.
    let source: Vec<_> = (0..g.len()).filter(|&i| !g.filled[i]).map(|i| g.bars.get(i).unwrap()).collect();
    let mut live = StackRuntime::load_on(dir.path(), &["10s", "1s"], &s, &device).unwrap();
    let mut stream = Vec::new();
    let mut checked = 0;
    for (i, b) in source.iter().enumerate() {
        let d = live.on_bar_all(b).unwrap();
        assert_eq!(d.last().unwrap().as_of, b.open_time);
        stream.extend(d);
        // The rolling per-level outputs against Stack::predict_last on the window.
        if i % 97 == 0 {
            let (a, w) = (live.probabilities().unwrap(), live.probabilities_from_window().unwrap());
            for (x, y) in a.iter().zip(&w) {
                assert_eq!(x.is_some(), y.is_some(), "bar {i}");
                if let (Some(x), Some(y)) = (x, y) {
                    assert!((x.l3_raw - y.l3_raw).abs() <= 1e-6 && (x.l2 - y.l2).abs() <= 1e-6, "bar {i}");
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 10);
    assert_eq!(live.seen(), g.len());
    let worst = compare(&stream, &batch);
    eprintln!("streaming vs batch: largest probability difference {worst:e} over {} bars", g.len());
    assert!(worst <= 1e-6, "streaming vs batch differ by {worst}");

    // on_bar: the bar's own decision; errors for a bar out of order.
    let mut one = StackRuntime::load_on(dir.path(), &["10s", "1s"], &s, &device).unwrap();
    let d = one.on_bar(&source[0]).unwrap();
    assert_eq!(d.as_of, source[0].open_time);
    let e = one.on_bar(&source[0]).unwrap_err().to_string();
    assert!(e.contains("not after the last grid bar"), "{e}");

    // Reload mid-stream: first half under the quantile thresholds, then the 10/90 % ones.
    let mut live = StackRuntime::load_on(dir.path(), &["10s", "1s"], &s, &device).unwrap();
    let half = source.len() / 2;
    let mut stream = Vec::new();
    for b in &source[..half] {
        stream.extend(live.on_bar_all(b).unwrap());
    }
    assert!(live.reload_thresholds().unwrap().is_empty(), "nothing changed on disk yet");
    for (tag, t) in &wide {
        write_thresholds(&stacks, tag, *t);
    }
    let changed = live.reload_thresholds().unwrap();
    assert_eq!(changed.len(), 2);
    for b in &source[half..] {
        stream.extend(live.on_bar_all(b).unwrap());
    }
    // Expected: the batch probabilities through one engine whose thresholds change at the same bar.
    let mut e = DecisionEngine::new(&s, probe.tags(), rt.engine().thresholds()).unwrap();
    // Grid rows fed before the reload.
    let t_half = source[half - 1].open_time.0;
    let cut = g.bars.open_time().iter().position(|&t| t == t_half).unwrap() + 1;
    let mut expected = Vec::new();
    for t in 0..g.len() {
        if t == cut {
            for (i, (_, w)) in wide.iter().enumerate() {
                e.set_thresholds(i, *w).unwrap();
            }
        }
        let refs: Vec<Option<&LevelProbs>> = series.iter().map(|s| s[t].as_ref()).collect();
        expected.push(e.step(Timestamp(g.bars.open_time()[t]), g.filled[t], &refs).unwrap());
    }
    assert!(compare(&stream, &expected) <= 1e-6);
    let differs = stream.iter().zip(&batch).filter(|(a, b)| a.decision != b.decision).count();
    assert!(differs > 0, "the reloaded thresholds changed no decision");
    assert!(stream[..cut].iter().zip(&batch[..cut]).all(|(a, b)| a.decision == b.decision));
}

/// The runtime's per-bar network call (`Net::predict_window`: normalise the window, the HRM's
/// batch-of-one `HrmInfer`, softmax) gives bit for bit what `Net::predict` gives for the window
/// ending at the same row (the batch path's call, which runs the same `HrmInfer` per window), for
/// both cells, and agrees with burn's batched forward of the model within 1e-5; a window of the
/// wrong size is an error, and so is a batch end without a full window.
#[test]
fn predict_window_equals_predict_bit_for_bit() {
    use vane_stacking::net::{Net, Row};
    let device = DeviceKind::Cpu.device().unwrap();
    let mut rng = StdRng::seed_from_u64(11);
    let (n, f, seq) = (300usize, 5usize, 12usize);
    let columns: Vec<String> = (0..f).map(|j| format!("c{j}")).collect();
    let values: Vec<f32> = (0..n * f).map(|i| rng.random_range(-2.0..2.0) + (i % f) as f32 * 3.0).collect();
    let rows: Vec<Row> =
        (seq - 1..n).step_by(3).map(|end| Row { end, up: rng.random_bool(0.5), weight: 1.0 }).collect();
    for cell in ["gru", "lstm"] {
        let cfg = NetConfig {
            hidden_low: 8,
            hidden_high: 8,
            high_period: 5,
            epochs: 1,
            batch: 64,
            cell: cell.into(),
            ..NetConfig::default()
        };
        let (net, _) = Net::train(&values, &columns, seq, &rows, &cfg, 3, &device).unwrap();
        let ends: Vec<usize> = (seq - 1..n).step_by(17).collect();
        let batch = net.predict(&values, &ends, &device).unwrap();
        // burn's batched forward on the same normalised windows.
        let norm = &net.file.normaliser;
        let mut x = Vec::new();
        for &end in &ends {
            for row in values[(end + 1 - seq) * f..(end + 1) * f].chunks_exact(f) {
                x.extend(row.iter().zip(&norm.center).zip(&norm.scale).map(|((v, c), s)| (v - c) / s));
            }
        }
        let xt = burn::tensor::Tensor::<3>::from_data(burn::tensor::TensorData::new(x, [ends.len(), seq, f]), &device);
        let sym = burn::tensor::Tensor::<1, burn::tensor::Int>::zeros([ends.len()], &device);
        let probs = burn::tensor::activation::softmax(net.model.forward(xt, sym).logits, 1);
        let probs = probs.into_data().try_to_vec::<f32>().unwrap();
        let mut worst = 0.0f64;
        for (i, (&end, want)) in ends.iter().zip(&batch).enumerate() {
            let one = net.predict(&values, &[end], &device).unwrap()[0];
            let got = net.predict_window(&values[(end + 1 - seq) * f..(end + 1) * f], &device).unwrap();
            assert_eq!(got.to_bits(), one.to_bits(), "{cell}: window ending at {end}");
            assert_eq!(got.to_bits(), want.to_bits(), "{cell}: window ending at {end} (batched predict)");
            worst = worst.max((got - f64::from(probs[i * 2 + 1])).abs());
        }
        eprintln!("{cell}: HrmInfer vs burn's forward: largest P(up) difference {worst:e}");
        assert!(worst <= 1e-5, "{cell}: HrmInfer differs from burn's forward by {worst}");
        assert!(net.predict_window(&values[..(seq - 1) * f], &device).is_err());
        assert!(net.predict(&values, &[seq - 2], &device).is_err());
        assert!(net.predict(&values, &[n], &device).is_err());
    }
}
