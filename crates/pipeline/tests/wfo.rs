//! `vane wfo`'s library: window arithmetic in days, the purge gap, the selection seeing only
//! in-window data, NaN/tie rules, grids, the CSV float round trip, `window_metrics` equal to a
//! recomputation from `oos_returns.csv`, and the burn-model path (one tiny run).

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use vane_core::{Interval, Signal, Symbol};
use vane_costs::CostModel;
use vane_pipeline::PipelineError;
use vane_pipeline::wfo::{
    Candidate, DAY_MS, DayWindow, Grid, METRIC_NAMES, OptimizeMetric, Series, Trading, WfoConfig, WfoModel, WindowRows,
    candidates_for, csv_float, plan_day_windows, run_wfo, select,
};

const H1: i64 = 3_600_000;

#[test]
fn windows_tile_the_period_and_test_follows_train() {
    // 100 days of 1h bars.
    let first = 1_700_000_000_000 - 1_700_000_000_000 % DAY_MS;
    let last = first + 100 * DAY_MS - H1;
    let ws = plan_day_windows(first, last, 30, 7, Interval::H1).unwrap();
    // (100 − 30)/7 = 10 full test windows, no remainder.
    assert_eq!(ws.len(), 10);
    for (i, w) in ws.iter().enumerate() {
        assert_eq!(w.window, i);
        assert_eq!(w.train_end_ms - w.train_start_ms, 30 * DAY_MS, "train window {i}");
        assert_eq!(w.test_start_ms, w.train_end_ms, "test right after train {i}");
        assert!(w.test_end_ms > w.test_start_ms);
        assert_eq!(w.train_start_ms, first + i as i64 * 7 * DAY_MS, "advances by the test size");
        if i > 0 {
            assert_eq!(w.test_start_ms, ws[i - 1].test_end_ms, "test windows tile without gap or overlap");
        }
    }
    assert_eq!(ws[0].test_start_ms, first + 30 * DAY_MS);
    assert_eq!(ws.last().unwrap().test_end_ms, last + H1, "the last test window ends at the data end");

    // 33.5 days left after the first train window → 4 full windows + a 5.5-day one (kept, ≥ 1 day).
    let last = first + (30 * 24 + 33 * 24 + 12) * H1 - H1;
    let ws = plan_day_windows(first, last, 30, 7, Interval::H1).unwrap();
    assert_eq!(ws.len(), 5);
    assert_eq!(ws[4].test_end_ms - ws[4].test_start_ms, 5 * DAY_MS + 12 * H1);
    // 28.5 days → 4 full windows, the 12-hour remainder is dropped.
    let last = first + (30 * 24 + 28 * 24 + 12) * H1 - H1;
    let ws = plan_day_windows(first, last, 30, 7, Interval::H1).unwrap();
    assert_eq!(ws.len(), 4);
    assert!(ws.iter().all(|w| w.test_end_ms - w.test_start_ms == 7 * DAY_MS));
}

#[test]
fn window_errors_name_the_flag_and_the_stored_days() {
    let first = 0;
    let e = plan_day_windows(first, 100 * DAY_MS, 10, 7, Interval::H1).unwrap_err();
    assert!(matches!(e, PipelineError::Config(_)));
    let m = e.to_string();
    assert!(m.contains("--window-size 10") && m.contains("--test-size 7"), "{m}");
    let e = plan_day_windows(first, 20 * DAY_MS - H1, 30, 7, Interval::H1).unwrap_err();
    let m = e.to_string();
    assert!(m.contains("20.0 days") && m.contains("--window-size"), "{m}");
    assert!(
        plan_day_windows(first, 100 * DAY_MS, 30, 0, Interval::H1).unwrap_err().to_string().contains("--test-size")
    );
}

/// 1h bars with labels spanning `h` bars and closes from `close`.
fn series(close: Vec<f64>, h: usize) -> Series {
    let n = close.len();
    Series {
        open_time: (0..n as i64).map(|i| i * H1).collect(),
        label: (0..n)
            .map(|t| (t + h < n).then(|| if close[t + h] > close[t] { Signal::Buy } else { Signal::Sell }))
            .collect(),
        label_end: (0..n).map(|t| (t + h < n).then_some(t + h)).collect(),
        close,
    }
}

#[test]
fn the_purge_gap_is_the_label_horizon() {
    let h = 5;
    let s = series((0..24 * 20).map(|i| 100.0 + i as f64).collect(), h);
    let w = DayWindow {
        window: 0,
        train_start_ms: 0,
        train_end_ms: 10 * DAY_MS,
        test_start_ms: 10 * DAY_MS,
        test_end_ms: 13 * DAY_MS,
    };
    let rows = WindowRows::of(&s, &w, 0.2);
    assert_eq!(rows.valid_start_ms, 8 * DAY_MS);
    assert_eq!(rows.valid, 8 * 24..10 * 24);
    assert_eq!(rows.test, 10 * 24..13 * 24);
    // Fitted rows: from the window's start, every label ending before the validation slice.
    assert_eq!(rows.fit.first(), Some(&0));
    let last = *rows.fit.last().unwrap();
    assert_eq!(rows.valid.start - last, h + 1, "the gap before the slice is the horizon");
    assert!(rows.fit.iter().all(|&t| s.label_end[t].unwrap() < rows.valid.start));
    assert_eq!(rows.fit.len(), 8 * 24 - h);
}

/// A fake learner: always one decision; records the rows it was fitted on and the labels it read.
struct Fixed {
    signal: Signal,
    seen: std::cell::RefCell<Vec<usize>>,
}

impl Fixed {
    fn new(signal: Signal) -> Self {
        Self { signal, seen: Default::default() }
    }
}

impl Candidate for Fixed {
    type Fitted = ();
    fn params(&self) -> Vec<(String, f64)> {
        vec![("side".into(), self.signal.class_index() as f64)]
    }
    fn fit(&self, series: &Series, rows: &[usize]) -> vane_pipeline::Result<()> {
        for &t in rows {
            let _ = series.label[t];
            self.seen.borrow_mut().push(t);
        }
        Ok(())
    }
    fn decide(&self, _: &(), _: &Series, bars: Range<usize>) -> vane_pipeline::Result<Vec<Signal>> {
        Ok(vec![self.signal; bars.len()])
    }
    fn save(&self, _: &(), stem: &Path) -> vane_pipeline::Result<PathBuf> {
        Ok(stem.to_path_buf())
    }
}

fn trading() -> Trading {
    Trading {
        costs: CostModel::new(10.0, 2.0).unwrap(),
        long_only: false,
        periods_per_year: Interval::H1.periods_per_year(),
    }
}

#[test]
fn the_selection_uses_only_the_window_and_peeking_would_change_it() {
    // Noisy rise for 10 days (train and validation), noisy fall for 3 (test).
    let mut c = vec![100.0];
    for i in 1..24 * 13 {
        let drift = if i < 24 * 10 { 0.002 } else { -0.004 };
        let noise = if i % 2 == 0 { 0.003 } else { -0.002 };
        c.push(c[i - 1] * (1.0 + drift + noise));
    }
    let s = series(c, 4);
    let w = DayWindow {
        window: 0,
        train_start_ms: 0,
        train_end_ms: 10 * DAY_MS,
        test_start_ms: 10 * DAY_MS,
        test_end_ms: 13 * DAY_MS,
    };
    let rows = WindowRows::of(&s, &w, 0.2);
    let t = trading();
    let cands = [Fixed::new(Signal::Buy), Fixed::new(Signal::Sell)];
    let sel = select(&cands, &s, &rows, OptimizeMetric::SharpeRatio, &t, &mut |_| {}).unwrap();
    assert_eq!(sel.winner, 0, "long wins on the validation slice: {:?}", sel.scores);
    // On the test window the other candidate would have won: peeking would flip the choice.
    let test_score = |c: &Fixed| {
        let d = c.decide(&(), &s, rows.test.start - 1..rows.test.end).unwrap();
        OptimizeMetric::SharpeRatio
            .of(&t.backtest(&s.close, rows.test.clone(), &d).unwrap().metrics(t.periods_per_year))
    };
    assert!(test_score(&cands[1]) > test_score(&cands[0]));
    // Nothing at or after the validation slice was fitted on, and no fitted label reaches it.
    for c in &cands {
        let seen = c.seen.borrow();
        assert!(!seen.is_empty());
        assert!(seen.iter().all(|&r| r < rows.valid.start && s.label_end[r].unwrap() < rows.valid.start));
    }
}

#[test]
fn nan_scores_never_win_and_ties_go_to_the_first() {
    let c: Vec<f64> = (0..24 * 13).map(|i| 100.0 * (1.0 + 0.001 * ((i % 7) as f64 - 2.0))).collect();
    let s = series(c, 4);
    let w = DayWindow {
        window: 0,
        train_start_ms: 0,
        train_end_ms: 10 * DAY_MS,
        test_start_ms: 10 * DAY_MS,
        test_end_ms: 13 * DAY_MS,
    };
    let rows = WindowRows::of(&s, &w, 0.2);
    let t = trading();
    // HOLD throughout: constant zero returns, no Sharpe (NaN).
    let cands = [Fixed::new(Signal::Hold), Fixed::new(Signal::Sell), Fixed::new(Signal::Sell)];
    let sel = select(&cands, &s, &rows, OptimizeMetric::SharpeRatio, &t, &mut |_| {}).unwrap();
    assert!(sel.scores[0].is_nan());
    assert_eq!(sel.scores[1], sel.scores[2]);
    assert_eq!(sel.winner, 1, "NaN loses, the tie goes to the first of the two: {:?}", sel.scores);
    let only = [Fixed::new(Signal::Hold)];
    assert_eq!(select(&only, &s, &rows, OptimizeMetric::SharpeRatio, &t, &mut |_| {}).unwrap().winner, 0);
}

#[test]
fn grids_default_to_at_most_eight_and_errors_name_the_token() {
    for m in ["lorentzian-knn", "gbdt", "hrm", "cnn-lstm", "tft", "lorentzian"] {
        let model: WfoModel = m.parse().unwrap();
        let c = candidates_for(model, None).unwrap();
        assert!(!c.is_empty() && c.len() <= 8, "{m}: {}", c.len());
    }
    let g = Grid::parse("lr=0.01,0.001 batch=32").unwrap();
    let c = candidates_for(WfoModel::Sequence(vane_models::ModelKind::Hrm), Some(&g)).unwrap();
    assert_eq!(c.len(), 2);
    assert_eq!(c[0].iter().find(|p| p.0 == "hidden").unwrap().1, 64.0, "keys left out take their base value");
    let e = Grid::parse("lr=0.01 batch=3x").unwrap_err().to_string();
    assert!(e.contains("batch=3x"), "{e}");
    let e = Grid::parse("lr").unwrap_err().to_string();
    assert!(e.contains("\"lr\""), "{e}");
    let e = candidates_for(WfoModel::Gbdt, Some(&Grid::parse("neighbors=4").unwrap())).unwrap_err().to_string();
    assert!(e.contains("neighbors") && e.contains("gbdt"), "{e}");
    assert!("svm".parse::<WfoModel>().unwrap_err().to_string().contains("--model svm"));
}

#[test]
fn csv_floats_read_back_exactly() {
    for x in [0.1 + 0.2, 1.0 / 3.0, -2.5e-17, 1e300, f64::MIN_POSITIVE, 123_456_789.123_456_79, -0.0, 5e-324] {
        let s = csv_float(x);
        assert_eq!(s.parse::<f64>().unwrap().to_bits(), x.to_bits(), "{x} → {s}");
    }
    assert_eq!(csv_float(f64::NAN), "");
}

fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let head: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
    (head, lines.map(|l| l.split(',').map(String::from).collect()).collect())
}

fn knn_config() -> WfoConfig {
    WfoConfig {
        model: WfoModel::LorentzianKnn,
        symbol: Symbol::new("BTCUSDT").unwrap(),
        interval: Interval::H4,
        data_days: Some(60),
        window_days: 14,
        test_days: 7,
        grid: Some(Grid::parse("neighbors=4,8 features=3,5").unwrap()),
        ..WfoConfig::default()
    }
}

#[test]
fn window_metrics_equal_a_recomputation_from_oos_returns() {
    let dir = tempfile::tempdir().unwrap();
    let store = vane_testkit::fixture_store_4h(dir.path());
    let out = dir.path().join("out");
    let cfg = knn_config();
    let mut ticks = 0;
    let report = run_wfo(&store, &cfg, &out, &mut |_| ticks += 1).unwrap();
    assert_eq!(ticks, 4 * report.windows.len() + 1, "one tick per fit and one for the final model");
    assert_eq!(report.trials, 4 * report.windows.len());
    let (head, rows) = read_csv(&report.files["window_metrics"]);
    assert_eq!(rows.len(), report.windows.len());
    let (rhead, rets) = read_csv(&out.join("oos_returns.csv"));
    assert_eq!(rhead, ["open_time_ms", "window", "return"]);
    let mut by_window: BTreeMap<usize, Vec<f64>> = BTreeMap::new();
    for r in &rets {
        by_window.entry(r[1].parse().unwrap()).or_default().push(r[2].parse().unwrap());
    }
    let col = |name: &str| head.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name}"));
    // Metrics of the returns alone (the trade ones need the trade log).
    let from_returns = [
        "total_return",
        "profitable_periods",
        "max_drawdown",
        "sharpe_ratio",
        "sortino_ratio",
        "calmar_ratio",
        "profit_factor",
        "recovery_factor",
        "max_consecutive_losses",
    ];
    let ppy = Interval::H4.periods_per_year();
    for row in &rows {
        let w: usize = row[col("window")].parse().unwrap();
        let r = &by_window[&w];
        let m = vane_backtest::metrics::compute(r, ppy, None, &[]);
        for name in from_returns {
            let want = vane_pipeline::wfo::metric_value(&m, name).unwrap();
            let got = &row[col(&format!("oos_{name}"))];
            if want.is_nan() {
                assert_eq!(got, "", "window {w} {name}");
            } else {
                assert_eq!(got.parse::<f64>().unwrap().to_bits(), want.to_bits(), "window {w} {name}: {got} vs {want}");
            }
        }
    }
    // Columns: the list.
    for (i, c) in ["window", "train_start_ms", "train_end_ms", "test_start_ms", "test_end_ms", "neighbors", "features"]
        .iter()
        .enumerate()
    {
        assert_eq!(&head[i], c);
    }
    for side in ["is", "oos"] {
        for m in METRIC_NAMES {
            col(&format!("{side}_{m}"));
        }
    }
    col("oos_accuracy");
    col("oos_macro_f1");
    // The stitched curve is every window's returns in order.
    let all: Vec<f64> = by_window.values().flatten().copied().collect();
    assert_eq!(all.len(), report.stitched.periods);
    let m = vane_backtest::metrics::compute(&all, ppy, None, &[]);
    assert_eq!(m.total_return.to_bits(), report.stitched.total_return.to_bits());
    // Time order and the windows' bounds.
    let times: Vec<i64> = rets.iter().map(|r| r[0].parse().unwrap()).collect();
    assert!(times.windows(2).all(|p| p[0] < p[1]));
    for w in &report.windows {
        let n = rets.iter().filter(|r| r[1] == w.span.window.to_string()).count();
        assert_eq!(n, w.test_bars);
    }
    assert!(report.deflated_sharpe.is_some_and(|d| (0.0..=1.0).contains(&d.dsr)));
    assert!(out.join("wfo_report.json").exists());
    assert!(out.join("best_model_window_0.json").exists());
    assert!(report.files["final_model"].exists());
    for f in ["window_sharpe_ratio.png", "window_sharpe_ratio.svg", "oos_equity.png", "oos_underwater.svg"] {
        assert!(out.join("visualizations").join(f).exists(), "{f}");
    }
}

#[test]
fn a_burn_model_runs_one_epoch_on_tiny_windows() {
    let dir = tempfile::tempdir().unwrap();
    let store = vane_testkit::fixture_store_4h(dir.path());
    let out = dir.path().join("out");
    let cfg = WfoConfig {
        model: "hrm".parse().unwrap(),
        symbol: Symbol::new("BTCUSDT").unwrap(),
        interval: Interval::H4,
        data_days: Some(24),
        window_days: 8,
        test_days: 4,
        epochs: 1,
        seq_len: 4,
        horizon: Some(2),
        grid: Some(Grid::parse("lr=0.01 batch=32 hidden=8 dropout=0.1").unwrap()),
        ..WfoConfig::default()
    };
    let report = run_wfo(&store, &cfg, &out, &mut |_| {}).unwrap();
    assert_eq!(report.candidates, 1);
    assert!(report.windows.len() >= 3);
    assert!(out.join("best_model_window_0").join("model.bpk").exists());
    assert!(report.files["final_model"].join("config.json").exists());
    assert!(report.windows.iter().all(|w| w.params.iter().any(|p| p.0 == "hidden" && p.1 == 8.0)));
}

#[test]
fn decisions_map_to_positions_and_long_only_never_shorts() {
    let mut t = trading();
    assert_eq!([Signal::Buy, Signal::Sell, Signal::Hold].map(|s| t.position(s)), [1.0, -1.0, 0.0]);
    t.long_only = true;
    assert_eq!([Signal::Buy, Signal::Sell, Signal::Hold].map(|s| t.position(s)), [1.0, 0.0, 0.0]);
    // The decision at bar t−1 is held over bar t: one return per scored bar, the entry paid.
    let close = [100.0, 110.0, 99.0];
    let bt = trading().backtest(&close, 1..3, &[Signal::Buy, Signal::Sell]).unwrap();
    assert_eq!(bt.returns.len(), 3);
    let cost = 12.0 / 10_000.0;
    assert!((bt.returns[1] - (0.1 - cost)).abs() < 1e-12);
    assert!((bt.returns[2] - (-(99.0 / 110.0 - 1.0) - 2.0 * cost)).abs() < 1e-12);
}

#[test]
fn gbdt_windows_write_json_models_and_a_final_one() {
    let dir = tempfile::tempdir().unwrap();
    let store = vane_testkit::fixture_store_4h(dir.path());
    let out = dir.path().join("out");
    let cfg = WfoConfig {
        model: WfoModel::Gbdt,
        grid: Some(Grid::parse("lr=0.1 depth=2,3").unwrap()),
        optimize: OptimizeMetric::TotalReturn,
        long_only: true,
        ..knn_config()
    };
    let report = run_wfo(&store, &cfg, &out, &mut |_| {}).unwrap();
    assert_eq!((report.horizon, report.theta), (6, 0.005), "the 4h defaults");
    for w in &report.windows {
        assert!(w.model_path.extension().is_some_and(|e| e == "json"));
        let text = std::fs::read_to_string(&w.model_path).unwrap();
        vane_tabular::Gbdt::from_json(&text).unwrap();
        // The chosen candidate is one of the two.
        assert!(w.chosen < 2);
        assert!(w.out_of_sample.exposure.is_nan() || (0.0..=1.0).contains(&w.out_of_sample.exposure));
    }
    assert!(report.files["final_model"].to_string_lossy().contains("best_model_final_"));
}
