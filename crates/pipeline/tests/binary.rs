//! Binary heads end to end: a binary HRM on a planted synthetic signal (dead-zone `down`/`up`
//! labels) trained → saved → loaded by `AnyPredictor` → a forecast with `p_up` and the decision
//! rule's signal; the binary walk-forward report (log-loss vs the training base rate, ECE before
//! and after calibration, a binary `calibration.json` applied by the predictor); shuffled labels
//! at chance; seed 004's `ladder_profit` labels against a hand computation and the ladder engine.

use std::path::Path;

use vane_core::{Bar, Bars, Interval, Signal, Symbol, Timestamp};
use vane_labeling::ladder::{LadderConfig, expected_returns};
use vane_market_data::ParquetStore;
use vane_models::train::Quiet;
use vane_models::{ModelSpec, Task};
use vane_pipeline::sequence::{LabelKind, SequenceData, SequenceJob, SequenceReport, label_targets, train_sequence};
use vane_pipeline::sequence_predictor::Decision;
use vane_pipeline::{AnyPredictor, Predict, SequencePredictor};

fn sym() -> Symbol {
    Symbol::new("BTCUSDT").unwrap()
}

/// SYNTHETIC 4h bars whose next return keeps the sign of the last one with probability 0.85
/// (a planted, learnable P(up) signal), magnitudes 0.3–0.9 %.
fn planted_bars(n: usize) -> Bars {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let (mut close, mut up) = (100.0f64, true);
    let mut bars = Vec::with_capacity(n);
    for i in 0..n {
        if next() > 0.85 {
            up = !up;
        }
        let r = (0.003 + 0.006 * next()) * if up { 1.0 } else { -1.0 };
        let open = close;
        close = open * (1.0 + r);
        let (hi, lo) = (open.max(close) * 1.001, open.min(close) * 0.999);
        bars.push(Bar::ohlcv(Timestamp(i as i64 * 14_400_000), open, hi, lo, close, 10.0 + 5.0 * next()));
    }
    Bars::from_bars(&bars).unwrap()
}

fn store(dir: &Path) -> ParquetStore {
    let st = ParquetStore::new(dir.join("data"));
    st.append(&sym(), Interval::H4, &planted_bars(2000)).unwrap();
    st
}

fn data() -> SequenceData {
    SequenceData {
        symbols: vec![sym()],
        interval: Interval::H4,
        seq_len: 8,
        label: LabelKind::DeadZone,
        horizon: 1,
        deadzone_eps: 0.0,
        walk_forward: 3,
        ..SequenceData::default()
    }
}

fn job(d: SequenceData, epochs: u32) -> SequenceJob {
    let train: serde_json::Map<String, serde_json::Value> = serde_json::from_value(serde_json::json!({
        "epochs": epochs, "batch_size": 32, "learning_rate": 3e-3, "focal_gamma": 0.0
    }))
    .unwrap();
    SequenceJob {
        task: Task::Classification,
        data: d,
        model: ModelSpec {
            hidden_low: Some(8),
            hidden_high: Some(8),
            high_period: Some(4),
            ..ModelSpec::of(vane_models::ModelKind::Hrm)
        },
        train,
        ..SequenceJob::default()
    }
}

fn run(dir: &Path, st: &ParquetStore, job: &SequenceJob) -> SequenceReport {
    train_sequence(st, &dir.join("artifacts"), job, &[], false, &mut Quiet).unwrap()
}

#[test]
fn binary_hrm_planted_signal_serves_p_up_and_ships_a_binary_calibrator() {
    let dir = tempfile::tempdir().unwrap();
    let st = store(dir.path());
    let r = run(dir.path(), &st, &job(data(), 6));
    let wf = r.walk_forward.as_ref().expect("binary labels have a walk-forward report");
    let b = wf.binary.as_ref().expect("the binary section");
    eprintln!("{}", serde_json::to_string_pretty(b).unwrap());
    eprintln!("{}; {}", wf.verdict.text, r.calibration_note);
    assert_eq!(b.classes, ["down", "up"]);
    assert!(wf.calibration.is_none(), "no multiclass chooser for binary labels");
    let tested: usize = wf.windows.iter().map(|w| w.test_rows).sum();
    assert_eq!((b.n, wf.calibration_rows), (tested, tested));
    // The base rate is the training parts' share of `up` (about one half here).
    assert!((0.4..0.6).contains(&b.base_rate), "base rate {}", b.base_rate);
    assert!((b.base_rate_log_loss - 0.693).abs() < 0.03, "{}", b.base_rate_log_loss);
    // The planted persistence (0.85) is learnt: the model beats the base rate clearly.
    assert!(b.log_loss < b.base_rate_log_loss - 0.1, "log-loss {} vs base {}", b.log_loss, b.base_rate_log_loss);
    assert!(b.roc_auc.unwrap() > 0.75, "AUC {:?}", b.roc_auc);
    assert!((b.log_loss_vs_base_rate - (b.log_loss - b.base_rate_log_loss)).abs() < 1e-12);
    // Calibrated on earlier windows only: the later windows' P(up) is calibrated (small ECE).
    assert!(b.calibrated_rows > 0 && b.calibrated_rows < tested);
    let ece = b.calibrated_ece.unwrap();
    assert!(ece < 0.1, "calibrated ECE {ece}");
    assert!(
        ece < b.calibrated_rows_raw_ece.unwrap() + 0.02,
        "calibration does not hurt: {ece} vs raw {:?}",
        b.calibrated_rows_raw_ece
    );
    assert!(["platt", "isotonic"].contains(&b.calibration.chosen.as_str()), "{:?}", b.calibration);
    assert!(r.calibration_note.contains("binary"), "{}", r.calibration_note);
    let c = wf.classification.as_ref().unwrap();
    assert_eq!(c.k, 2);
    // Reliability of P(up), drawn.
    assert_eq!(wf.reliability.len(), 10);
    assert!(r.dir.join("reliability.png").is_file());
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(r.dir.join("metrics.json")).unwrap()).unwrap();
    assert!(metrics["walk_forward"]["binary"]["base_rate_log_loss"].is_number());

    // calibration.json: one binary calibrator, applied by the predictor to P(up).
    let file = vane_calibration::CalibrationFile::load(&r.dir.join("calibration.json")).unwrap();
    assert!(file.multiclass.is_none());
    assert_eq!(file.calibrators.len(), 1);
    let cal = file.calibrators[0].clone();
    let shipped = SequencePredictor::load(&r.dir).unwrap();
    assert!(shipped.is_binary() && shipped.calibrator().is_none());
    assert_eq!(shipped.binary_calibrator(), Some(&cal));
    // The same folder without calibration.json gives the raw softmax's P(up).
    let raw_dir = dir.path().join("raw").join(r.dir.file_name().unwrap());
    std::fs::create_dir_all(&raw_dir).unwrap();
    for e in std::fs::read_dir(&r.dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_file() && p.file_name().unwrap() != "calibration.json" {
            std::fs::copy(&p, raw_dir.join(p.file_name().unwrap())).unwrap();
        }
    }
    let raw = SequencePredictor::load(&raw_dir).unwrap();
    assert!(raw.binary_calibrator().is_none());

    // AnyPredictor: load → forecast with p_up, no invented HOLD probability.
    let any = AnyPredictor::load(&r.dir).unwrap();
    let bars = st.read(&sym(), Interval::H4).unwrap();
    let rule = Decision::default();
    let mut ups = Vec::new();
    for n in [bars.len() - 30, bars.len() - 7, bars.len()] {
        let bb = bars.slice(0..n);
        let f = any.predict(&sym(), &bb).unwrap();
        let g = raw.predict(&sym(), &bb).unwrap();
        assert!(f.probs.is_none() && f.expected_return.is_none());
        let p = f.p_up.expect("p_up");
        assert!((p - cal.apply(g.p_up.unwrap())).abs() < 1e-9, "calibrated P(up) {p}");
        assert_eq!(f.signal, Some(rule.decide_binary(p)));
        let conf = f.confidence.unwrap();
        match f.signal.unwrap() {
            Signal::Buy => assert!((conf - p).abs() < 1e-12),
            Signal::Sell => assert!((conf - (1.0 - p)).abs() < 1e-12),
            Signal::Hold => assert!((conf - p.max(1.0 - p)).abs() < 1e-12),
        }
        // The planted signal: P(up) follows the sign of the last return.
        let last_up = bb.close()[n - 1] > bb.close()[n - 2];
        ups.push((last_up, p));
        let json = serde_json::to_value(&f).unwrap();
        assert!(json.get("probs").is_none() && json["p_up"].is_number(), "{json}");
        // The stream gives the same forecast at the same bar.
        let mut s = shipped.stream(&sym()).unwrap();
        let mut last = None;
        for bar in bb.iter() {
            last = s.on_bar(&bar).unwrap().or(last);
        }
        assert!((last.unwrap().p_up.unwrap() - p).abs() < 1e-6);
    }
    // Printed, not asserted: three forecasts of one trained model are too few to test the planted
    // signal on (one came out on the wrong side in a CI run, where parallel tests make burn's
    // training nondeterministic); the walk-forward's AUC > 0.75 and log-loss above test it.
    eprintln!("last-return sign vs P(up): {ups:?}");
}

#[test]
fn binary_decision_rule_and_its_validation() {
    let d = Decision { p_up_long: Some(0.6), p_up_short: Some(0.3), ..Decision::default() };
    d.validate().unwrap();
    assert_eq!(d.decide_binary(0.61), Signal::Buy);
    assert_eq!(d.decide_binary(0.6), Signal::Hold);
    assert_eq!(d.decide_binary(0.45), Signal::Hold);
    assert_eq!(d.decide_binary(0.29), Signal::Sell);
    let def = Decision::default();
    assert_eq!(
        (def.decide_binary(0.51), def.decide_binary(0.49), def.decide_binary(0.5)),
        (Signal::Buy, Signal::Sell, Signal::Hold)
    );
    let long_only = Decision { p_up_short: Some(0.0), ..Decision::default() };
    assert_eq!(long_only.decide_binary(0.01), Signal::Hold);
    let bad = Decision { p_up_long: Some(0.4), p_up_short: Some(0.6), ..Decision::default() };
    assert!(bad.validate().unwrap_err().to_string().contains("p_up_short"));
    let bad = Decision { p_up_long: Some(1.5), ..Decision::default() };
    assert!(bad.validate().unwrap_err().to_string().contains("p_up_long"));
    // Unset thresholds are not serialised (existing configs keep their artifact names).
    assert_eq!(
        serde_json::to_value(Decision::default()).unwrap(),
        serde_json::json!({"min_conf": 0.0, "return_threshold": null})
    );
    let t = SequenceJob::from_toml(
        "[data]\nlabel = \"ladder_profit\"\n[decision]\np_up_long = 0.55\np_up_short = 0.0\n[model]\nkind = \"hrm\"",
    )
    .unwrap();
    t.validate().unwrap();
    assert_eq!(
        (t.data.label, t.decision.p_up_long, t.decision.p_up_short),
        (LabelKind::LadderProfit, Some(0.55), Some(0.0))
    );
    assert!(LabelKind::LadderProfit.is_binary());
    assert_eq!(LabelKind::LadderProfit.class_names(), ["loss", "profit"]);
}

#[test]
fn shuffled_binary_labels_score_at_chance() {
    let dir = tempfile::tempdir().unwrap();
    let st = store(dir.path());
    let r = run(dir.path(), &st, &job(SequenceData { permute_labels: true, ..data() }, 3));
    let wf = r.walk_forward.unwrap();
    assert!(wf.permuted_labels);
    let b = wf.binary.unwrap();
    eprintln!("shuffled: {}", serde_json::to_string(&b).unwrap());
    assert!(
        b.log_loss > b.base_rate_log_loss - 0.02,
        "shuffled: log-loss {} vs base {}",
        b.log_loss,
        b.base_rate_log_loss
    );
    let auc = b.roc_auc.unwrap();
    assert!((0.42..0.58).contains(&auc), "shuffled AUC {auc}");
    if let Some(c) = b.calibrated_log_loss {
        assert!(c > b.base_rate_log_loss - 0.02, "shuffled calibrated log-loss {c}");
    }
}

/// One 1-minute bar per `(high, low, close)` (open = the previous close).
fn path(rows: &[(f64, f64, f64)]) -> Bars {
    let mut prev = 100.0;
    let bars: Vec<Bar> = rows
        .iter()
        .enumerate()
        .map(|(i, &(h, l, c))| {
            let b = Bar::ohlcv(Timestamp(i as i64 * 60_000), prev, h, l, c, 1.0);
            prev = c;
            b
        })
        .collect();
    Bars::from_bars(&bars).unwrap()
}

#[test]
fn ladder_profit_labels_equal_a_hand_computation_and_the_ladder_engine() {
    // Bar 0 closes at 100. Bar 1 reaches +6 % (every partial and the final target fill at their
    // levels); then a fall of 2 % (the long's stop at −1.1 %); then flat.
    let bars = path(&[
        (100.0, 100.0, 100.0),
        (106.0, 100.0, 105.0),
        (105.0, 102.0, 103.0),
        (103.0, 100.5, 101.0),
        (101.0, 101.0, 101.0),
        (101.0, 101.0, 101.0),
        (101.0, 101.0, 101.0),
    ]);
    let d = SequenceData { label: LabelKind::LadderProfit, horizon: 3, fee_bps: 10.0, ..SequenceData::default() };
    let t = label_targets(&bars, &d).unwrap();
    // t = 0: the long fills 20 % @ +1.2 %, 30 % @ +2.4 %, 30 % @ +3.5 %, 20 % @ +5.8 % on bar 1;
    // fees 10 bps on the entry and on every exit fill (1 + 1 notional).
    let gross = 0.2 * 0.012 + 0.3 * 0.024 + 0.3 * 0.035 + 0.2 * 0.058;
    let net = gross - 0.001 * 2.0;
    let l0 = t[0].expect("labelled");
    assert_eq!(l0.class, 1, "profit");
    assert!((f64::from(l0.value) - net).abs() < 1e-6, "{} vs {net}", l0.value);
    assert_eq!(l0.end, 1, "the long exits on bar 1");
    // t = 1 (entry 105): bar 3's low 100.5 is below the stop 105 × 0.989 = 103.845: −1.1 % − fees.
    let l1 = t[1].expect("labelled");
    assert_eq!(l1.class, 0, "loss");
    assert!((f64::from(l1.value) - (-0.011 - 0.002)).abs() < 1e-6, "{}", l1.value);
    // The last `horizon` bars have no label.
    assert!(t[bars.len() - 3..].iter().all(Option::is_none));
    // Every label is the sign of the ladder engine's er_long (what `vane label --kind
    // expected-return` prints), with the same parameters.
    let er = expected_returns(&bars, &LadderConfig { horizon: 3, fee_bps: 10.0, ..LadderConfig::default() }).unwrap();
    for (i, tg) in t.iter().enumerate() {
        match (tg, er.values[i]) {
            (Some(tg), Some(e)) => {
                assert_eq!(tg.class, usize::from(e.er_long > 0.0), "bar {i}");
                assert_eq!(tg.value, e.er_long as f32);
                assert_eq!(tg.end, e.exit_long);
            }
            (None, None) => {}
            (a, b) => panic!("bar {i}: {a:?} vs {b:?}"),
        }
    }
}

#[test]
fn tiny_tft_ladder_profit_reports_binary_classification_and_seed004() {
    let dir = tempfile::tempdir().unwrap();
    let st = vane_testkit::fixture_store_4h(dir.path());
    let train: serde_json::Map<String, serde_json::Value> = serde_json::from_value(serde_json::json!({
        "epochs": 1, "batch_size": 64, "learning_rate": 1e-3, "use_augmentation": false
    }))
    .unwrap();
    let job = SequenceJob {
        task: Task::Classification,
        data: SequenceData {
            symbols: vec![Symbol::new("BTCUSDT").unwrap(), Symbol::new("ETHUSDT").unwrap()],
            seq_len: 8,
            max_bars: 260,
            label: LabelKind::LadderProfit,
            horizon: 6,
            fee_bps: 5.5,
            walk_forward: 2,
            ..SequenceData::default()
        },
        decision: Decision { p_up_short: Some(0.0), ..Decision::default() },
        model: ModelSpec {
            d_model: Some(8),
            n_heads: Some(2),
            dropout: Some(0.0),
            ..ModelSpec::of(vane_models::ModelKind::Tft)
        },
        train,
        ..SequenceJob::default()
    };
    let r = train_sequence(&st, &dir.path().join("artifacts"), &job, &[], false, &mut Quiet).unwrap();
    // Validation and walk-forward: binary precision / recall / F1 / ROC-AUC of `profit`.
    assert_eq!(r.validation_classification.as_ref().unwrap().k, 2);
    let w = r.walk_forward.as_ref().unwrap();
    let c = w.classification.as_ref().unwrap();
    assert_eq!(c.k, 2);
    assert!(c.accuracy.is_finite() && c.support.iter().sum::<usize>() == c.n);
    let b = w.binary.as_ref().unwrap();
    assert_eq!(b.classes, ["loss", "profit"]);
    assert!(b.rule.contains("P(up) < 0"), "{}", b.rule);
    // Seed 004's expectations: the long-only rule opens the ladder trades (never a short).
    let e = r.seed004.as_ref().expect("seed 004 expectations for a TFT");
    assert!(e.rows[2].source.contains("P(up) > 0.5"), "{:?}", e.rows[2]);
    let f = AnyPredictor::load(&r.dir)
        .unwrap()
        .predict(&Symbol::new("ETHUSDT").unwrap(), &st.read(&Symbol::new("ETHUSDT").unwrap(), Interval::H4).unwrap())
        .unwrap();
    assert!(f.p_up.is_some() && f.probs.is_none());
    assert_ne!(f.signal, Some(Signal::Sell), "p_up_short = 0 never sells");
    let inference: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(r.dir.join("inference.json")).unwrap()).unwrap();
    assert_eq!(inference["classes"], serde_json::json!(["loss", "profit"]));
    assert_eq!(inference["decision"]["p_up_short"], 0.0);
}
