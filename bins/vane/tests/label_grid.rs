//! `vane label --grid 1s` on the real sparse 1-second fixture: the grid's row count and filled
//! flags, and triple-barrier / dead-zone labels equal to the training labels the pipeline builds
//! on the same grid (`vane_pipeline::sequence::label_targets`), row by row.

mod common;

use common::{fixture, ok, vane};
use vane_core::Interval;
use vane_pipeline::sequence::{LabelKind, SequenceData, label_targets};

fn cells(text: &str) -> Vec<Vec<String>> {
    text.lines().skip(1).map(|l| l.split(',').map(str::to_string).collect()).collect()
}

#[test]
fn labels_on_the_grid_equal_the_training_labels() {
    let dir = tempfile::tempdir().unwrap();
    let csv = fixture("coinbase/BTCUSD_1s.csv");
    let raw = vane_market_data::read_bars_file(&csv, None).unwrap();
    let grid = vane_market_data::regularise(&raw, Interval::S1).unwrap();
    let n = grid.bars.len();
    assert_eq!(n, 86_395, "first to last second of the day");

    // Triple barrier: 10 s horizon, σ over 120 s, 1.2σ up and down (seed 000's 10s row).
    let out = dir.path().join("tb.csv");
    let input = csv.to_str().unwrap();
    let args = [
        "label",
        "--input",
        input,
        "--grid",
        "1s",
        "--kind",
        "triple-barrier",
        "--horizon",
        "10",
        "--sigma-window",
        "120",
        "--up-k-sigma",
        "1.2",
        "--dn-k-sigma",
        "1.2",
        "--output",
    ];
    let mut a = args.to_vec();
    a.push(out.to_str().unwrap());
    ok(&vane(&a, dir.path()));
    let text = std::fs::read_to_string(&out).unwrap();
    assert_eq!(text.lines().next().unwrap(), "open_time_ms,label,touch_index,ret,filled");
    let rows = cells(&text);
    assert_eq!(rows.len(), n);
    assert_eq!(rows.iter().filter(|r| r[4] == "0").count(), raw.len(), "one unfilled row per real bar");
    let d = SequenceData {
        interval: Interval::S1,
        label: LabelKind::TripleBarrier,
        horizon: 10,
        sigma_window: 120,
        up_k_sigma: 1.2,
        dn_k_sigma: 1.2,
        ..SequenceData::default()
    };
    let targets = label_targets(&grid.bars, &d).unwrap();
    let mut labelled = 0;
    for (i, (row, t)) in rows.iter().zip(&targets).enumerate() {
        assert_eq!(row[0], grid.bars.open_time()[i].to_string());
        match t {
            None => assert!(row[1].is_empty(), "row {i}: CLI label {:?} but no training label", row[1]),
            Some(t) => {
                labelled += 1;
                let class = match row[1].as_str() {
                    "1" => 0,
                    "-1" => 1,
                    "0" => 2,
                    other => panic!("row {i}: label {other:?}"),
                };
                assert_eq!(t.class, class, "row {i}");
                assert_eq!(t.value, row[3].parse::<f64>().unwrap() as f32, "row {i}");
            }
        }
    }
    assert!(labelled > n / 2, "{labelled} of {n} labelled");

    // Dead zone: binary, weight 0.2 inside |r| < 0.0005 over 60 s.
    let out = dir.path().join("dz.csv");
    let mut a = vec![
        "label",
        "--input",
        input,
        "--grid",
        "1s",
        "--kind",
        "deadzone",
        "--horizon",
        "60",
        "--deadzone-eps",
        "0.0005",
        "--deadzone-weight",
        "0.2",
        "--output",
    ];
    a.push(out.to_str().unwrap());
    ok(&vane(&a, dir.path()));
    let rows = cells(&std::fs::read_to_string(&out).unwrap());
    let d = SequenceData {
        interval: Interval::S1,
        label: LabelKind::DeadZone,
        horizon: 60,
        deadzone_eps: 0.0005,
        deadzone_weight: 0.2,
        ..SequenceData::default()
    };
    let targets = label_targets(&grid.bars, &d).unwrap();
    let mut inside = 0;
    for (i, (row, t)) in rows.iter().zip(&targets).enumerate() {
        match t {
            None => assert!(row[1].is_empty(), "row {i}"),
            Some(t) => {
                assert_eq!(t.class.to_string(), row[1], "row {i}");
                assert_eq!(t.weight, row[3].parse::<f64>().unwrap() as f32, "row {i}");
                inside += usize::from(t.weight < 1.0);
            }
        }
    }
    assert!(inside > 0, "some seconds fall in the dead zone");
}
