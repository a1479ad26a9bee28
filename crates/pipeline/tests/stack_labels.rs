//! Seed 000's training labels (issue 15 item 2): dead-zone and triple-barrier targets equal what
//! `vane label` computes on the same bars, horizons count seconds on the 1-second grid, dead-zone
//! samples carry their weight into the training targets, and a binary model trains end to end on
//! the real sparse 1 s fixture.

use std::path::Path;

use vane_core::{Bar, Bars, Interval, Signal, Symbol, Timestamp};
use vane_labeling::barrier::{Touch, TripleBarrier, Vertical};
use vane_labeling::deadzone::DeadZone;
use vane_market_data::{ParquetStore, regularise};
use vane_models::train::Quiet;
use vane_models::{ModelKind, ModelSpec};
use vane_pipeline::sequence::{
    LabelKind, SequenceData, SequenceJob, label_targets, prepare, read_bars, train_sequence,
};

fn fixture_1s() -> Bars {
    let path = vane_testkit::fixtures_dir().join("coinbase/BTCUSD_1s.csv");
    vane_market_data::read_csv(&path, Some(Interval::S1)).unwrap()
}

fn grid() -> Bars {
    regularise(&fixture_1s(), Interval::S1).unwrap().bars
}

fn data_1s() -> SequenceData {
    SequenceData {
        symbols: vec![Symbol::new("BTCUSD").unwrap()],
        interval: Interval::S1,
        seq_len: 30,
        horizon: 10,
        ..SequenceData::default()
    }
}

#[test]
fn triple_barrier_training_labels_equal_vane_labels() {
    let bars = grid();
    for (touch, vertical, sigma_window, k_up, k_dn) in
        [(Touch::Close, Vertical::Zero, 120, 1.2, 1.2), (Touch::HighLow, Vertical::Sign, 90, 1.0, 1.5)]
    {
        let d = SequenceData {
            label: LabelKind::TripleBarrier,
            sigma_window,
            up_k_sigma: k_up,
            dn_k_sigma: k_dn,
            barrier_touch: touch,
            barrier_vertical: vertical,
            ..data_1s()
        };
        let ours = label_targets(&bars, &d).unwrap();
        // What `vane label --kind triple-barrier` runs (bins/vane/src/commands/label.rs).
        let tb = TripleBarrier { touch, vertical, ..TripleBarrier::new(10, sigma_window, k_up, k_dn).unwrap() };
        let cli = tb.label(&bars).unwrap();
        assert_eq!(ours.len(), cli.len());
        let mut counts = [0usize; 3];
        for (t, (o, c)) in ours.iter().zip(&cli.values).enumerate() {
            match (o, c) {
                (None, None) => {}
                (Some(o), Some(c)) => {
                    let want = match c.label {
                        1 => Signal::Buy,
                        -1 => Signal::Sell,
                        _ => Signal::Hold,
                    };
                    assert_eq!(o.class, want.class_index(), "row {t}");
                    assert_eq!(o.value, c.ret as f32, "row {t}");
                    assert_eq!(o.end, c.touch_index, "row {t}");
                    assert_eq!(o.weight, 1.0);
                    counts[o.class] += 1;
                }
                _ => panic!("row {t}: training label {o:?}, vane label {c:?}"),
            }
        }
        assert!(counts.iter().all(|&n| n > 0), "{touch:?}/{vertical:?}: every class occurs: {counts:?}");
    }
}

#[test]
fn dead_zone_training_labels_equal_vane_labels_with_weight_0_2_inside() {
    let bars = grid();
    let d = SequenceData { label: LabelKind::DeadZone, deadzone_eps: 0.0005, deadzone_weight: 0.2, ..data_1s() };
    assert_eq!(d.label.n_classes(), 2);
    assert_eq!(d.label.class_names(), vec!["down", "up"]);
    let ours = label_targets(&bars, &d).unwrap();
    // What `vane label --kind deadzone --deadzone-eps 0.0005 --deadzone-weight 0.2` runs.
    let cli = DeadZone::new(10, 0.0005, 0.2).unwrap().label(bars.close());
    let (mut inside, mut outside) = (0, 0);
    for (t, (o, c)) in ours.iter().zip(&cli.values).enumerate() {
        match (o, c) {
            (None, None) => {}
            (Some(o), Some(c)) => {
                assert_eq!(o.class, usize::from(c.up), "row {t}: class 1 is up");
                assert_eq!(o.value, c.ret as f32);
                assert_eq!(o.weight, c.weight as f32);
                assert_eq!(o.end, t + 10);
                if c.ret.abs() < 0.0005 {
                    assert_eq!(o.weight, 0.2, "row {t}: inside the dead zone");
                    inside += 1;
                } else {
                    assert_eq!(o.weight, 1.0, "row {t}: outside the dead zone");
                    outside += 1;
                }
            }
            _ => panic!("row {t}: training label {o:?}, vane label {c:?}"),
        }
    }
    assert!(inside > 0 && outside > 0, "{inside} inside, {outside} outside");
    assert_eq!(ours.iter().flatten().count(), bars.len() - 10);
}

#[test]
fn horizons_count_seconds_on_a_gappy_series() {
    // Trades only at 0, 1, 2, 5, 13 and 20 s; closes 100, 101, 102, 105, 113, 120.
    let sparse = Bars::from_bars(
        &[0i64, 1, 2, 5, 13, 20]
            .iter()
            .map(|&s| {
                let c = 100.0 + s as f64;
                Bar::ohlcv(Timestamp(s * 1000), c, c, c, c, 1.0)
            })
            .collect::<Vec<_>>(),
    )
    .unwrap();
    let g = regularise(&sparse, Interval::S1).unwrap();
    assert_eq!(g.len(), 21);
    let d = SequenceData { label: LabelKind::DeadZone, deadzone_eps: 0.0, ..data_1s() };
    let on_grid = label_targets(&g.bars, &d).unwrap();
    let times = g.bars.open_time();
    // Every label spans exactly 10 grid seconds, trades or not; the last 10 seconds have none.
    for (t, l) in on_grid.iter().enumerate() {
        match l {
            Some(l) => assert_eq!(times[l.end] - times[t], 10_000, "second {t}"),
            None => assert!(t >= 11),
        }
    }
    // By hand: at 0 s the price 10 s later is the last trade at or before 10 s (105, at 5 s);
    // at 3 s (no trade: carries 102) it is 113 (13 s); at 10 s (carries 105) it is 120 (20 s).
    let r = |t: usize| on_grid[t].unwrap().value;
    assert_eq!(r(0), (105.0f64 / 100.0 - 1.0) as f32);
    assert_eq!(r(3), (113.0f64 / 102.0 - 1.0) as f32);
    assert_eq!(r(10), (120.0f64 / 105.0 - 1.0) as f32);
    // On the raw sparse bars the same "10 bars" would not fit at all (6 bars): what the grid fixes.
    assert!(label_targets(&sparse, &d).unwrap().iter().all(Option::is_none));

    // Triple barrier: the vertical barrier and the σ window count grid seconds too.
    let tb = SequenceData { label: LabelKind::TripleBarrier, sigma_window: 3, horizon: 4, ..data_1s() };
    for (t, l) in label_targets(&g.bars, &tb).unwrap().iter().enumerate() {
        if let Some(l) = l {
            assert!(times[l.end] - times[t] <= 4_000 && l.end > t, "second {t}");
            assert!(t >= 3, "σ needs 3 returns: second {t}");
        }
    }
}

fn store_1s(dir: &Path) -> ParquetStore {
    let store = ParquetStore::new(dir.join("data"));
    store.append(&Symbol::new("BTCUSD").unwrap(), Interval::S1, &fixture_1s()).unwrap();
    store
}

#[test]
fn one_second_jobs_read_the_grid_and_carry_weights() {
    let dir = tempfile::tempdir().unwrap();
    let st = store_1s(dir.path());
    // 14 days asked, one stored: the whole regularised day.
    let all = read_bars(&st, &SequenceData { days: Some(14), ..data_1s() }).unwrap();
    assert_eq!(all[0].len(), 86_395);
    // max_bars counts grid seconds.
    // 2016's BTC rarely moves 5 bps in 10 s (133 of 86,385 labels leave the 0.0005 dead zone): a
    // narrower zone here so both weights occur in 4000 seconds.
    let d = SequenceData { label: LabelKind::DeadZone, deadzone_eps: 0.0001, max_bars: 4000, ..data_1s() };
    let last = read_bars(&st, &d).unwrap();
    assert_eq!(last[0].len(), 4000);
    let p = prepare(&st, &d).unwrap();
    let weights: Vec<f32> = p.train.iter().chain(&p.valid).map(|s| s.target.weight).collect();
    assert!(weights.contains(&0.2) && weights.contains(&1.0), "dead-zone weights reach the targets");
    assert!(p.train.iter().chain(&p.valid).all(|s| s.target.class < 2));
    assert_eq!(p.data.label_counts.len(), 2);
}

#[test]
fn a_binary_hrm_trains_on_the_one_second_grid() {
    let dir = tempfile::tempdir().unwrap();
    let st = store_1s(dir.path());
    let arts = dir.path().join("artifacts");
    let train: serde_json::Map<String, serde_json::Value> = serde_json::from_value(serde_json::json!({
        "preset": "quick_experiment", "epochs": 1, "batch_size": 128
    }))
    .unwrap();
    let job = SequenceJob {
        data: SequenceData { label: LabelKind::DeadZone, max_bars: 3000, ..data_1s() },
        model: ModelSpec {
            hidden_low: Some(8),
            hidden_high: Some(8),
            high_period: Some(10),
            ..ModelSpec::of(ModelKind::Hrm)
        },
        train,
        ..SequenceJob::default()
    };
    let r = train_sequence(&st, &arts, &job, &[], false, &mut Quiet).unwrap();
    assert!(r.metrics.val_loss.is_finite());
    assert_eq!(r.metrics.class_weights.len(), 2);
    assert_eq!(r.validation_classification.as_ref().unwrap().k, 2);
    // Binary labels run the walk-forward with two classes and a binary calibrator on P(up).
    assert!(r.walk_forward.as_ref().is_some_and(|w| w.binary.is_some()), "binary walk-forward report");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(r.dir.join("feature_schema.json")).unwrap()).unwrap();
    assert_eq!(schema["classes"], serde_json::json!(["down", "up"]), "{schema}");
    // The TOML spelling of the label and its parameters.
    let t = SequenceJob::from_toml(
        "[data]\nlabel = \"dead_zone\"\ndeadzone_eps = 0.001\ndeadzone_weight = 0.5\n[model]\nkind = \"hrm\"",
    )
    .unwrap();
    assert_eq!((t.data.label, t.data.deadzone_eps, t.data.deadzone_weight), (LabelKind::DeadZone, 0.001, 0.5));
    t.validate().unwrap();
    let bad = SequenceJob::from_toml("[data]\nlabel = \"deadzone\"\ndeadzone_weight = 1.5\n[model]\nkind = \"hrm\"");
    assert!(bad.unwrap().validate().unwrap_err().to_string().contains("weight"));
    let tb = SequenceJob::from_toml(
        "[data]\nlabel = \"triple_barrier\"\nsigma_window = 1\nup_k_sigma = 1.5\n[model]\nkind = \"hrm\"",
    )
    .unwrap();
    assert!(tb.validate().unwrap_err().to_string().contains("sigma_window"));
}
