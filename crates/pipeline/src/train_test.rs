//! `vane train-test`: seed 003's basic workflow — one chronological train/test split of the last
//! `--data-days` days, one model with the given hyperparameters, its test-split classification and
//! trading metrics (with costs), the model file and the loss curve.
//!
//! The split, in bars of the selected days:
//!
//! ```text
//! |<------------------ train (1 − test_size) ------------------>|<---- test (test_size) ---->|
//! |<------ fit ------>| purge |<---- validation (valid_frac) --->|
//! ```
//!
//! - **test**: the last `test_size` share of the bars. Its labels are read only to score it.
//! - **fit**: labelled bars before the validation slice whose label span ends before it (purged).
//! - **validation**: the last `valid_frac` (0.2) of the train part, labelled bars whose label
//!   ends before the test split; the burn models' early stopping and loss curve and the GBDT's
//!   early stopping use it. The kNN scan has no training loss (no curve is drawn; said in the
//!   report).
//!
//! The models, features, labels and trading rule are `vane wfo`'s ([`crate::wfo`]): the same
//! candidates, one of them, fitted once.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Serialize;
use vane_backtest::Metrics;
use vane_core::{Signal, Timestamp};

use crate::error::{PipelineError, Result};
use crate::wfo::{
    Candidate, Grid, LossHistory, Series, Trading, Visit, WfoConfig, WfoModel, candidates_for, file_stamp, load_bars,
    with_candidates,
};

/// `vane train-test`'s settings: the model, data and trading settings of [`WfoConfig`] (its
/// window fields unused) plus the split and the hyperparameters.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TrainTestConfig {
    /// Model, symbol, interval, `data_days`, epochs, costs, labels, `seq_len`, seed.
    pub base: WfoConfig,
    /// Share of the bars (the most recent) in the test split, in (0, 1).
    pub test_size: f64,
    /// Hyperparameters by name (`lr`, `batch`, `hidden`, `dropout`; `neighbors`, `features`;
    /// `lr`, `depth`); keys left out take the model's base value.
    pub params: BTreeMap<String, f64>,
}

/// What `vane train-test` wrote and measured.
#[derive(Clone, Debug, Serialize)]
pub struct TrainTestReport {
    /// Model kind.
    pub model: String,
    /// Symbol.
    pub symbol: String,
    /// Interval.
    pub interval: String,
    /// The hyperparameters used (every key of the model's grid).
    pub params: Vec<(String, f64)>,
    /// Label horizon (bars) and θ.
    pub horizon: usize,
    /// See `horizon`.
    pub theta: f64,
    /// Days of bars used.
    pub days_used: f64,
    /// Open times: first bar, first validation bar, first test bar, last bar.
    pub first_ms: i64,
    /// See `first_ms`.
    pub valid_start_ms: i64,
    /// See `first_ms`.
    pub test_start_ms: i64,
    /// See `first_ms`.
    pub last_ms: i64,
    /// Rows fitted on, validation rows, test bars.
    pub fit_rows: usize,
    /// See `fit_rows`.
    pub valid_rows: usize,
    /// See `fit_rows`.
    pub test_bars: usize,
    /// Classification metrics of the decisions on the test split's labelled bars.
    pub classification: Classification,
    /// Trading metrics of the test split (decision at a bar's close held over the next bar,
    /// costs paid on every position change), periods only from the test split.
    pub trading: Metrics,
    /// Buy-and-hold over the same periods (no costs), for scale.
    pub buy_and_hold: Metrics,
    /// Fee and slippage per side, bps.
    pub fee_bps: f64,
    /// See `fee_bps`.
    pub slip_bps: f64,
    /// Training curve (empty for the kNN scan).
    pub history: LossHistory,
    /// Files written.
    pub files: BTreeMap<String, PathBuf>,
    /// Test-split returns: `(open_time_ms, return)`.
    #[serde(skip)]
    pub returns: Vec<(i64, f64)>,
    /// Remarks (no loss curve, few test bars, …).
    pub notes: Vec<String>,
}

/// Classification scores of the test split.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Classification {
    /// Labelled test bars scored.
    pub n: usize,
    /// Accuracy.
    pub accuracy: f64,
    /// Macro-F1 (scikit-learn's default label set).
    pub macro_f1: f64,
    /// Per class in `Signal::ALL` order (BUY, SELL, HOLD): precision, recall, F1, support.
    pub precision: Vec<f64>,
    /// See `precision`.
    pub recall: Vec<f64>,
    /// See `precision`.
    pub f1: Vec<f64>,
    /// See `precision`.
    pub support: Vec<usize>,
    /// Confusion matrix, rows true class, columns decision.
    pub confusion: Vec<Vec<usize>>,
    /// Class names of the rows and columns.
    pub classes: Vec<String>,
}

/// The bars of the split: fit rows, validation rows and the test range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Split {
    /// Labelled bars fitted on (label ends before the validation slice).
    pub fit: Vec<usize>,
    /// Labelled validation bars (label ends before the test split).
    pub valid: Vec<usize>,
    /// First validation bar.
    pub valid_start: usize,
    /// Test bars.
    pub test: Range<usize>,
}

/// Splits `series` (bars `0..n`) into fit / validation / test (see the module docs). Errors when
/// a part is empty.
pub fn split(series: &Series, test_size: f64, valid_frac: f64) -> Result<Split> {
    if !(test_size > 0.0 && test_size < 1.0) {
        return Err(PipelineError::Config(format!("--test-size {test_size}: must be a fraction in (0, 1), e.g. 0.2")));
    }
    let n = series.open_time.len();
    let test_start = n - ((n as f64) * test_size).round() as usize;
    let valid_start = test_start - ((test_start as f64) * valid_frac).round() as usize;
    let labelled_before =
        |i: usize, end: usize| series.label[i].is_some() && series.label_end[i].is_some_and(|e| e < end);
    let fit: Vec<usize> = (0..valid_start).filter(|&i| labelled_before(i, valid_start)).collect();
    let valid: Vec<usize> = (valid_start..test_start).filter(|&i| labelled_before(i, test_start)).collect();
    if test_start >= n || test_start < 2 || fit.is_empty() {
        return Err(PipelineError::Data(format!(
            "{n} bars give {} labelled rows to fit on and {} test bars: raise --data-days or change --test-size",
            fit.len(),
            n - test_start.min(n)
        )));
    }
    Ok(Split { fit, valid, valid_start, test: test_start..n })
}

fn classification(series: &Series, test: Range<usize>, decisions: &[Signal]) -> Result<Classification> {
    let (mut y, mut p) = (Vec::new(), Vec::new());
    for (t, d) in test.zip(decisions) {
        if let Some(l) = series.label[t] {
            y.push(l.class_index());
            p.push(d.class_index());
        }
    }
    let classes = Signal::NAMES.iter().map(|s| s.to_string()).collect();
    if y.is_empty() {
        return Ok(Classification { accuracy: f64::NAN, macro_f1: f64::NAN, classes, ..Classification::default() });
    }
    let k = Signal::ALL.len();
    let r = vane_validation::metrics::class_report(&y, &p, k)
        .map_err(|e| PipelineError::Data(format!("test-split scores: {e}")))?;
    let accuracy = vane_validation::metrics::accuracy(&y, &p).unwrap_or(f64::NAN);
    Ok(Classification {
        n: y.len(),
        accuracy,
        macro_f1: r.macro_f1,
        precision: r.precision,
        recall: r.recall,
        f1: r.f1,
        support: r.support,
        confusion: r.confusion,
        classes,
    })
}

struct Run<'a> {
    cfg: &'a TrainTestConfig,
    trading: Trading,
    out_dir: &'a Path,
    stamp: String,
    progress: &'a mut dyn FnMut(&str),
}

/// What the visit returns to [`run_train_test`].
struct Fitted {
    params: Vec<(String, f64)>,
    split: Split,
    classification: Classification,
    trading: Metrics,
    buy_and_hold: Metrics,
    returns: Vec<(i64, f64)>,
    history: LossHistory,
    model_path: PathBuf,
    first_ms: i64,
    last_ms: i64,
    valid_start_ms: i64,
    test_start_ms: i64,
}

impl Visit for Run<'_> {
    type Out = Fitted;
    fn visit<C: Candidate>(self, candidates: &[C], series: &Series) -> Result<Fitted> {
        let c = &candidates[0];
        let split = split(series, self.cfg.test_size, self.cfg.base.valid_frac)?;
        (self.progress)(&format!(
            "fitting {} on {} rows ({} validation rows), testing on {} bars",
            self.cfg.base.model,
            split.fit.len(),
            split.valid.len(),
            split.test.len()
        ));
        let fitted = c.fit_valid(series, &split.fit, &split.valid)?;
        let test = split.test.clone();
        let decisions = c.decide(&fitted, series, test.start - 1..test.end)?;
        let bt = self.trading.backtest(&series.close, test.clone(), &decisions)?;
        let trading = bt.metrics(self.trading.periods_per_year);
        let hold = vec![Signal::Buy; decisions.len()];
        let zero = vane_costs::CostModel::new(0.0, 0.0).map_err(|e| PipelineError::Config(e.to_string()))?;
        let free = Trading { costs: zero, ..self.trading };
        let buy_and_hold = free.backtest(&series.close, test.clone(), &hold)?.metrics(self.trading.periods_per_year);
        let returns = test.clone().zip(&bt.returns[1..]).map(|(t, &r)| (series.open_time[t], r)).collect();
        let classification = classification(series, test.clone(), &decisions[1..])?;
        let stem = self.out_dir.join(format!(
            "{}_classifier_{}",
            self.cfg.base.model.to_string().replace('-', "_"),
            self.stamp
        ));
        let model_path = c.save(&fitted, &stem)?;
        let history = c.history(&fitted);
        let ot = &series.open_time;
        Ok(Fitted {
            params: c.params(),
            classification,
            trading,
            buy_and_hold,
            returns,
            history,
            model_path,
            first_ms: ot[0],
            last_ms: ot[ot.len() - 1],
            valid_start_ms: ot[split.valid_start],
            test_start_ms: ot[test.start],
            split,
        })
    }
}

/// Runs `vane train-test` on the store and writes under `out_dir`:
/// `<model>_classifier_<YYYYMMDD_HHMMSS>.*` (a folder for burn models, JSON otherwise),
/// `metrics_<stamp>.json` and, when the model has a training curve, `loss_curve_<stamp>.png`
/// (+ `.svg`). `progress` receives one line per stage.
pub fn run_train_test(
    store: &vane_market_data::ParquetStore,
    cfg: &TrainTestConfig,
    out_dir: &Path,
    progress: &mut dyn FnMut(&str),
) -> Result<TrainTestReport> {
    let b = &cfg.base;
    let mut grid = BTreeMap::new();
    for (k, v) in &cfg.params {
        grid.insert(k.clone(), vec![*v]);
    }
    let params = candidates_for(b.model, Some(&Grid(grid)))?;
    if params.len() != 1 {
        return Err(PipelineError::Config(format!(
            "train-test takes one value per hyperparameter, got {}",
            params.len()
        )));
    }
    let loaded = load_bars(store, b)?;
    std::fs::create_dir_all(out_dir).map_err(|source| PipelineError::Io {
        op: "create",
        path: out_dir.to_path_buf(),
        source,
    })?;
    let costs = vane_costs::CostModel::new(b.fee_bps, b.slip_bps)
        .map_err(|e| PipelineError::Config(format!("--fee-bps/--slip-bps: {e}")))?;
    let trading = Trading { costs, long_only: b.long_only, periods_per_year: b.interval.periods_per_year() };
    // Seed 003 names the files by the second; a second run in the same second gets `_1`, `_2`, …
    // instead of overwriting the first one's files.
    let base_stamp = file_stamp(Timestamp::now().0);
    let mut stamp = base_stamp.clone();
    for k in 1.. {
        let taken = std::fs::read_dir(out_dir)
            .map_err(|source| PipelineError::Io { op: "list", path: out_dir.to_path_buf(), source })?
            .filter_map(|e| e.ok())
            .any(|e| e.file_name().to_string_lossy().contains(&format!("_{stamp}")));
        if !taken {
            break;
        }
        stamp = format!("{base_stamp}_{k}");
    }
    let run = Run { cfg, trading, out_dir, stamp: stamp.clone(), progress };
    let (f, horizon, theta) = with_candidates(store, b, &loaded, &params, run)?;
    let mut files = BTreeMap::new();
    files.insert("model".to_string(), f.model_path.clone());
    let mut notes = Vec::new();
    if f.history.train.is_empty() {
        notes.push(format!("{} has no training loss: no loss curve", b.model));
    } else {
        // Boosted trees record a validation loss per tree and no training loss.
        let per_tree = f.history.train.iter().all(|x| !x.is_finite());
        let series = vane_report::LossSeries {
            title: if per_tree {
                format!("{} {} {}: validation log-loss per iteration", b.model, b.symbol, b.interval)
            } else {
                format!("{} {} {}: loss per epoch (train vs validation)", b.model, b.symbol, b.interval)
            },
            train: f.history.train.clone(),
            valid: f.history.valid.clone(),
            best_epoch: f.history.best_epoch,
            step: if per_tree { "iteration".into() } else { String::new() },
        };
        let png = out_dir.join(format!("loss_curve_{stamp}.png"));
        vane_report::loss_curve_png(&png, &series)?;
        vane_report::loss_curve_svg(&png.with_extension("svg"), &series)?;
        files.insert("loss_curve".to_string(), png);
    }
    if f.split.test.len() < 30 {
        notes.push(format!("only {} test bars: the trading metrics are noisy", f.split.test.len()));
    }
    if b.model == WfoModel::LorentzianKnn {
        notes.push("the kNN scan's labels are its own: the sign of close[t+4] − close[t]".into());
    }
    let metrics_path = out_dir.join(format!("metrics_{stamp}.json"));
    files.insert("metrics".to_string(), metrics_path.clone());
    let report = TrainTestReport {
        model: b.model.to_string(),
        symbol: b.symbol.to_string(),
        interval: b.interval.to_string(),
        params: f.params,
        horizon,
        theta,
        days_used: loaded.days_used,
        first_ms: f.first_ms,
        valid_start_ms: f.valid_start_ms,
        test_start_ms: f.test_start_ms,
        last_ms: f.last_ms,
        fit_rows: f.split.fit.len(),
        valid_rows: f.split.valid.len(),
        test_bars: f.split.test.len(),
        classification: f.classification,
        trading: f.trading,
        buy_and_hold: f.buy_and_hold,
        fee_bps: b.fee_bps,
        slip_bps: b.slip_bps,
        history: f.history,
        files,
        returns: f.returns,
        notes,
    };
    vane_artifact::write_json(&metrics_path, &report)?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(n: usize, h: usize) -> Series {
        Series {
            open_time: (0..n as i64).map(|i| i * 1000).collect(),
            close: (0..n).map(|i| 100.0 + i as f64).collect(),
            label: (0..n).map(|t| (t + h < n).then_some(Signal::Buy)).collect(),
            label_end: (0..n).map(|t| (t + h < n).then_some(t + h)).collect(),
        }
    }

    #[test]
    fn the_split_purges_labels_that_cross_into_the_next_part() {
        // 100 bars, test 20 % → test 80..100; validation 20 % of 80 → 64..80; horizon 3.
        let s = split(&series(100, 3), 0.2, 0.2).unwrap();
        assert_eq!(s.test, 80..100);
        assert_eq!(s.valid_start, 64);
        // Fit rows end their labels before 64: t + 3 < 64 → t ≤ 60.
        assert_eq!(s.fit, (0..=60).collect::<Vec<_>>());
        // Validation rows end before 80: t ≤ 76.
        assert_eq!(s.valid, (64..=76).collect::<Vec<_>>());
    }

    #[test]
    fn bad_test_sizes_are_refused_naming_the_flag() {
        for ts in [0.0, 1.0, -0.1, f64::NAN] {
            let e = split(&series(100, 3), ts, 0.2).unwrap_err();
            assert!(e.to_string().contains("--test-size"), "{e}");
        }
        let e = split(&series(4, 3), 0.5, 0.2).unwrap_err();
        assert!(e.to_string().contains("--data-days"), "{e}");
    }
}
