//! Walk-forward optimisation (`vane wfo`, seed 003): rolling windows in days; in each, every
//! candidate of a small hyperparameter grid is fitted on the window's inner-train rows and scored
//! by a trading metric on its inner, purged validation slice; the winner trades the next
//! `test_days` out of sample with costs. See `docs/wfo.md`.
//!
//! - **Windows** ([`plan_day_windows`]): train `[s, s+W)`, test `[s+W, s+W+T)`, `s` advancing by
//!   `T` from the first stored bar, so the test windows tile the period without overlap. A last
//!   test window shorter than `T` is kept when it spans at least one day, else dropped.
//! - **Inner split** ([`WindowRows::of`]): the last `valid_frac` of the train window is the
//!   validation slice; the rows fitted on start at the train window's start and end before it,
//!   purged: a row whose label ends at or after the slice's first bar is dropped (the purge gap
//!   is the label horizon). Validation rows whose label reaches into the test window are not
//!   scored either. The test window's labels are used for nothing but scoring.
//! - **Positions**: the position held over bar t is the decision taken at the close of bar t−1
//!   (BUY +1, SELL −1 or 0 with `long_only`, HOLD 0); returns come from
//!   [`vane_backtest::run_positions`] (close to close, fee + slippage per side on every change),
//!   metrics from [`vane_backtest::metrics::compute`] (ddof 1, √ periods per year, no risk-free
//!   rate). Out of sample, one backtest runs over every test bar (the windows' decisions
//!   stitched), so a position change at a window boundary is charged once; each window's metrics
//!   are those of its own bars' returns, its trades being those that close inside it.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use vane_backtest::{BacktestResult, Metrics, Trade};
use vane_core::{Bars, Interval, Signal, Symbol, Timestamp};
use vane_costs::CostModel;
use vane_indicators::FeatureSet;
use vane_labeling::fixed::FixedHorizon;
use vane_market_data::ParquetStore;
use vane_models::ModelKind;
use vane_tabular::lorentzian::{LorentzianConfig, class_probs};
use vane_tabular::{Dataset, Gbdt, GbdtConfig, Objective};

use crate::error::{PipelineError, Result};
use crate::sequence::{LabelKind, SequenceData};

/// Milliseconds per day.
pub const DAY_MS: i64 = 86_400_000;

/// The metrics of seed 003's list, in the order of `window_metrics_*.csv` (each as `is_<name>`
/// and `oos_<name>`).
pub const METRIC_NAMES: [&str; 12] = [
    "total_return",
    "win_rate",
    "profitable_periods",
    "max_drawdown",
    "sharpe_ratio",
    "sortino_ratio",
    "calmar_ratio",
    "profit_factor",
    "expected_value",
    "risk_reward",
    "recovery_factor",
    "max_consecutive_losses",
];

/// The value of one of [`METRIC_NAMES`] in `m` (`win_rate` is the trades' win rate,
/// `expected_value` the mean net return per trade); `None` for an unknown name.
pub fn metric_value(m: &Metrics, name: &str) -> Option<f64> {
    Some(match name {
        "total_return" => m.total_return,
        "win_rate" => m.trade_win_rate,
        "profitable_periods" => m.profitable_periods,
        "max_drawdown" => m.max_drawdown,
        "sharpe_ratio" => m.sharpe,
        "sortino_ratio" => m.sortino,
        "calmar_ratio" => m.calmar,
        "profit_factor" => m.profit_factor,
        "expected_value" => m.expectancy,
        "risk_reward" => m.risk_reward,
        "recovery_factor" => m.recovery_factor,
        "max_consecutive_losses" => m.max_consecutive_losses as f64,
        _ => return None,
    })
}

/// One walk-forward window in time (all ranges half-open, open times in ms).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayWindow {
    /// 0, 1, …
    pub window: usize,
    /// First open time of the train window.
    pub train_start_ms: i64,
    /// End of the train window (exclusive) = start of the test window.
    pub train_end_ms: i64,
    /// Start of the test window.
    pub test_start_ms: i64,
    /// End of the test window (exclusive).
    pub test_end_ms: i64,
}

/// Plans the windows over bars with open times `first_open_ms..=last_open_ms` of `interval`:
/// train `[s, s + W)`, test `[s + W, s + W + T)` with `s = first + i·T`; the data end is
/// `last_open_ms + interval`. A last test window shorter than `T` days is kept when it spans at
/// least one day (its end is then the data end), else dropped. Errors name the flag.
pub fn plan_day_windows(
    first_open_ms: i64,
    last_open_ms: i64,
    window_days: u32,
    test_days: u32,
    interval: Interval,
) -> Result<Vec<DayWindow>> {
    if test_days == 0 {
        return cfg_err_v("--test-size must be ≥ 1 day".into());
    }
    if window_days < 2 * test_days {
        return cfg_err_v(format!(
            "--window-size {window_days} is less than twice --test-size {test_days}: a training window must be at \
             least twice as long as the test window it is chosen for (e.g. --window-size 30 --test-size 7)"
        ));
    }
    let (w, t) = (i64::from(window_days) * DAY_MS, i64::from(test_days) * DAY_MS);
    let end = last_open_ms + interval.millis();
    let mut out = Vec::new();
    let mut s = first_open_ms;
    loop {
        let test_start = s + w;
        let full_end = test_start + t;
        let test_end = if full_end <= end {
            full_end
        } else if end - test_start >= DAY_MS {
            end
        } else {
            break;
        };
        out.push(DayWindow {
            window: out.len(),
            train_start_ms: s,
            train_end_ms: test_start,
            test_start_ms: test_start,
            test_end_ms: test_end,
        });
        if test_end == end {
            break;
        }
        s += t;
    }
    if out.is_empty() {
        let days = (end - first_open_ms) as f64 / DAY_MS as f64;
        return Err(PipelineError::Data(format!(
            "{days:.1} days of bars are stored (or kept by --data-days), fewer than one window: --window-size \
             {window_days} + at least 1 test day; lower --window-size/--test-size, raise --data-days, or download more"
        )));
    }
    Ok(out)
}

/// A price series with labels, the input of a [`Candidate`].
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// Bar open times (ms, ascending).
    pub open_time: Vec<i64>,
    /// Closes.
    pub close: Vec<f64>,
    /// The label of each bar (None where its horizon runs past the data).
    pub label: Vec<Option<Signal>>,
    /// The bar each label ends at (its span `[t, end]`).
    pub label_end: Vec<Option<usize>>,
}

impl Series {
    /// First bar index with open time ≥ `ms`.
    pub fn index_at(&self, ms: i64) -> usize {
        self.open_time.partition_point(|&t| t < ms)
    }
}

/// The bar indices of one window: rows fitted on, the validation slice, the test bars.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WindowRows {
    /// Open time where the validation slice starts.
    pub valid_start_ms: i64,
    /// Labelled bars of `[train_start, valid_start)` whose label ends before the slice.
    pub fit: Vec<usize>,
    /// Bars of `[valid_start, train_end)` (their returns are scored).
    pub valid: Range<usize>,
    /// Bars of the test window.
    pub test: Range<usize>,
}

impl WindowRows {
    /// The rows of window `w` over `series` with a validation share `valid_frac`.
    pub fn of(series: &Series, w: &DayWindow, valid_frac: f64) -> Self {
        let len = w.train_end_ms - w.train_start_ms;
        let valid_start_ms = w.train_end_ms - ((len as f64) * valid_frac).round() as i64;
        let (a, v, b) =
            (series.index_at(w.train_start_ms), series.index_at(valid_start_ms), series.index_at(w.train_end_ms));
        let fit = (a..v).filter(|&i| series.label_end[i].is_some_and(|e| e < v) && series.label[i].is_some()).collect();
        Self { valid_start_ms, fit, valid: v..b, test: b..series.index_at(w.test_end_ms) }
    }
}

/// One hyperparameter setting of a model: fitted on rows, then deciding on bars.
pub trait Candidate {
    /// The fitted model.
    type Fitted;
    /// Its hyperparameters, by name (the columns of `window_metrics_*.csv`).
    fn params(&self) -> Vec<(String, f64)>;
    /// Fits on `rows` of `series`, reading the labels of those rows only.
    fn fit(&self, series: &Series, rows: &[usize]) -> Result<Self::Fitted>;
    /// Decisions at the closes of `bars` (features up to each bar only; HOLD where none can be made).
    fn decide(&self, fitted: &Self::Fitted, series: &Series, bars: Range<usize>) -> Result<Vec<Signal>>;
    /// Saves the fitted model under `stem` (an extension or a folder is added); returns the path.
    fn save(&self, fitted: &Self::Fitted, stem: &Path) -> Result<PathBuf>;
    /// Fits on `rows` with `valid` (labelled rows after them, purged) for early stopping where
    /// the model has epochs; the others ignore `valid` ([`Candidate::fit`]).
    fn fit_valid(&self, series: &Series, rows: &[usize], valid: &[usize]) -> Result<Self::Fitted> {
        let _ = valid;
        self.fit(series, rows)
    }
    /// The training curve of a fitted model (empty for models without epochs).
    fn history(&self, fitted: &Self::Fitted) -> LossHistory {
        let _ = fitted;
        LossHistory::default()
    }
}

/// Loss per epoch of a burn model: training and validation, and the best epoch (1-based).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LossHistory {
    /// Training loss per epoch.
    pub train: Vec<f64>,
    /// Validation loss per epoch.
    pub valid: Vec<f64>,
    /// The epoch kept (1-based).
    pub best_epoch: Option<usize>,
}

/// How decisions are traded and scored.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Trading {
    /// Costs per side.
    pub costs: CostModel,
    /// SELL → flat instead of short.
    pub long_only: bool,
    /// Periods per year (of the interval).
    pub periods_per_year: f64,
}

impl Trading {
    /// Position of a decision.
    pub fn position(&self, s: Signal) -> f64 {
        match s {
            Signal::Buy => 1.0,
            Signal::Sell if self.long_only => 0.0,
            Signal::Sell => -1.0,
            Signal::Hold => 0.0,
        }
    }

    /// Backtest of the bars `bars` (start ≥ 1) from `decisions` taken at the closes of bars
    /// `bars.start − 1 .. bars.end − 1`: `returns[1..]` are the returns of `bars`, one each.
    pub fn backtest(&self, close: &[f64], bars: Range<usize>, decisions: &[Signal]) -> Result<BacktestResult> {
        let prices = &close[bars.start - 1..bars.end];
        let mut pos: Vec<f64> = decisions.iter().map(|&s| self.position(s)).collect();
        pos.resize(prices.len(), 0.0);
        vane_backtest::run_positions(prices, &pos, &self.costs)
            .map_err(|e| PipelineError::Data(format!("backtest: {e}")))
    }
}

/// The metric a window's winner is chosen by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum OptimizeMetric {
    /// Compounded return.
    #[cfg_attr(feature = "clap", value(name = "total_return", alias = "total-return"))]
    TotalReturn,
    /// Share of winning trades.
    #[cfg_attr(feature = "clap", value(name = "win_rate", alias = "win-rate"))]
    WinRate,
    /// Annualised Sharpe ratio.
    #[default]
    #[cfg_attr(feature = "clap", value(name = "sharpe_ratio", alias = "sharpe-ratio"))]
    SharpeRatio,
    /// Annualised Sortino ratio.
    #[cfg_attr(feature = "clap", value(name = "sortino_ratio", alias = "sortino-ratio"))]
    SortinoRatio,
    /// CAGR / |max drawdown|.
    #[cfg_attr(feature = "clap", value(name = "calmar_ratio", alias = "calmar-ratio"))]
    CalmarRatio,
}

impl OptimizeMetric {
    /// The name in [`METRIC_NAMES`].
    pub fn name(self) -> &'static str {
        match self {
            Self::TotalReturn => "total_return",
            Self::WinRate => "win_rate",
            Self::SharpeRatio => "sharpe_ratio",
            Self::SortinoRatio => "sortino_ratio",
            Self::CalmarRatio => "calmar_ratio",
        }
    }

    /// Its value in `m`.
    pub fn of(self, m: &Metrics) -> f64 {
        metric_value(m, self.name()).unwrap_or(f64::NAN)
    }
}

/// What [`select`] found in one window.
#[derive(Debug)]
pub struct Selection<F> {
    /// Index of the winner.
    pub winner: usize,
    /// The winner, fitted.
    pub fitted: F,
    /// Every candidate's score on the validation slice (NaN: undefined).
    pub scores: Vec<f64>,
    /// Every candidate's annualised Sharpe ratio on the validation slice (the trials of the
    /// deflated Sharpe ratio).
    pub sharpes: Vec<f64>,
    /// The winner's validation metrics.
    pub metrics: Metrics,
    /// The winner's decisions at `valid.start − 1 .. valid.end − 1`.
    pub decisions: Vec<Signal>,
}

/// Fits every candidate on `rows.fit` and scores it by `metric` on `rows.valid`; the highest
/// score wins (NaN never wins; ties go to the first). Nothing of the test window is read.
/// `progress` is called after each candidate.
pub fn select<C: Candidate>(
    candidates: &[C],
    series: &Series,
    rows: &WindowRows,
    metric: OptimizeMetric,
    trading: &Trading,
    progress: &mut dyn FnMut(usize),
) -> Result<Selection<C::Fitted>> {
    if candidates.is_empty() {
        return cfg_err_v("no candidates to choose from (--grid)".into());
    }
    if rows.fit.is_empty() || rows.valid.len() < 2 || rows.valid.start == 0 {
        return Err(PipelineError::Data(format!(
            "a training window has {} labelled rows to fit on and {} validation bars: raise --window-size",
            rows.fit.len(),
            rows.valid.len()
        )));
    }
    // The best so far and its score; the first candidate until one has a defined score (every
    // score undefined: the first, as the tie rule says).
    let mut best: Option<(f64, Selection<C::Fitted>)> = None;
    let mut scores = Vec::with_capacity(candidates.len());
    let mut sharpes = Vec::with_capacity(candidates.len());
    for (i, c) in candidates.iter().enumerate() {
        let fitted = c.fit(series, &rows.fit)?;
        let decisions = c.decide(&fitted, series, rows.valid.start - 1..rows.valid.end)?;
        let bt = trading.backtest(&series.close, rows.valid.clone(), &decisions)?;
        let m = bt.metrics(trading.periods_per_year);
        let score = metric.of(&m);
        scores.push(score);
        sharpes.push(m.sharpe);
        // NaN never wins (a NaN best is replaced by the first defined score); strictly greater
        // wins, so ties stay with the earlier candidate.
        let better = match &best {
            None => true,
            Some((b, _)) => !score.is_nan() && (b.is_nan() || score > *b),
        };
        if better {
            let sel = Selection { winner: i, fitted, scores: vec![], sharpes: vec![], metrics: m, decisions };
            best = Some((score, sel));
        }
        progress(i);
    }
    let (_, sel) = best.expect("at least one candidate");
    Ok(Selection { scores, sharpes, ..sel })
}

/// Which model `vane wfo` optimises.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum WfoModel {
    /// jdehorty's kNN scan (`vane_tabular::lorentzian`) on the `lorentzian` features.
    LorentzianKnn,
    /// vane's GBDT on the `v1` features.
    Gbdt,
    /// A burn sequence model.
    Sequence(ModelKind),
}

impl FromStr for WfoModel {
    type Err = PipelineError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "lorentzian-knn" | "knn" => Ok(Self::LorentzianKnn),
            "gbdt" => Ok(Self::Gbdt),
            other => other.parse::<ModelKind>().map(Self::Sequence).map_err(|_| {
                PipelineError::Config(format!(
                    "--model {other}: expected lorentzian-knn, gbdt, hrm, cnn-lstm, tft or lorentzian"
                ))
            }),
        }
    }
}

impl From<WfoModel> for String {
    fn from(m: WfoModel) -> String {
        m.to_string()
    }
}

impl TryFrom<String> for WfoModel {
    type Error = PipelineError;
    fn try_from(s: String) -> Result<Self> {
        s.parse()
    }
}

impl std::fmt::Display for WfoModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::LorentzianKnn => f.write_str("lorentzian-knn"),
            Self::Gbdt => f.write_str("gbdt"),
            Self::Sequence(k) => write!(f, "{k}"),
        }
    }
}

/// A hyperparameter grid: values by key, the candidates being their product.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Grid(pub BTreeMap<String, Vec<f64>>);

impl Grid {
    /// Parses `"lr=0.01,0.001 batch=32,64"` (space-separated `key=v1,v2` tokens). Errors name the
    /// token.
    pub fn parse(text: &str) -> Result<Self> {
        let mut out = BTreeMap::new();
        for tok in text.split_whitespace() {
            let Some((k, vs)) = tok.split_once('=') else {
                return cfg_err_v(format!("--grid: token {tok:?} is not key=value[,value…] (e.g. lr=0.01,0.001)"));
            };
            if k.is_empty() {
                return cfg_err_v(format!("--grid: token {tok:?} has no key"));
            }
            let mut vals = Vec::new();
            for v in vs.split(',') {
                match v.trim().parse::<f64>() {
                    Ok(x) if x.is_finite() => vals.push(x),
                    _ => return cfg_err_v(format!("--grid: token {tok:?}: {v:?} is not a number")),
                }
            }
            if out.insert(k.to_string(), vals).is_some() {
                return cfg_err_v(format!("--grid: key {k:?} is given twice"));
            }
        }
        if out.is_empty() {
            return cfg_err_v("--grid is empty (e.g. --grid \"lr=0.01,0.001 batch=32\")".into());
        }
        Ok(Self(out))
    }
}

/// The keys a model's grid takes, their default base values (used for keys `--grid` leaves out)
/// and the default grid's full lists.
fn grid_keys(model: WfoModel) -> Vec<(&'static str, f64, Vec<f64>)> {
    match model {
        WfoModel::LorentzianKnn => {
            vec![("neighbors", 8.0, vec![4.0, 8.0, 12.0]), ("features", 5.0, vec![2.0, 3.0, 4.0, 5.0])]
        }
        WfoModel::Gbdt => vec![("lr", 0.1, vec![0.03, 0.1]), ("depth", 4.0, vec![2.0, 4.0, 6.0])],
        WfoModel::Sequence(_) => vec![
            ("lr", 0.001, vec![0.01, 0.001, 0.0001]),
            ("batch", 64.0, vec![32.0, 64.0, 128.0]),
            ("hidden", 64.0, vec![32.0, 64.0, 128.0, 256.0]),
            ("dropout", 0.2, vec![0.1, 0.2, 0.3, 0.5]),
        ],
    }
}

/// The most candidates a default grid has.
pub const DEFAULT_MAX_CANDIDATES: usize = 8;

/// The candidates (key → value maps, keys in the model's order) of `model`: with `grid`, the
/// product of its lists, keys it leaves out taking their base value; without, the product of
/// the default lists thinned to at most [`DEFAULT_MAX_CANDIDATES`] evenly spaced ones (index
/// `⌊i·n/8⌋`, i = 0..8). Unknown keys are an error naming them.
pub fn candidates_for(model: WfoModel, grid: Option<&Grid>) -> Result<Vec<Vec<(String, f64)>>> {
    let keys = grid_keys(model);
    if let Some(g) = grid
        && let Some(k) = g.0.keys().find(|k| !keys.iter().any(|(n, _, _)| n == k))
    {
        let known: Vec<&str> = keys.iter().map(|k| k.0).collect();
        return cfg_err_v(format!("--grid: key {k:?} does not apply to {model} (its keys: {})", known.join(", ")));
    }
    let lists: Vec<(&str, Vec<f64>)> = keys
        .iter()
        .map(|(n, base, full)| match grid {
            Some(g) => (*n, g.0.get(*n).cloned().unwrap_or_else(|| vec![*base])),
            None => (*n, full.clone()),
        })
        .collect();
    let mut all: Vec<Vec<(String, f64)>> = vec![vec![]];
    for (n, vals) in &lists {
        all = all
            .into_iter()
            .flat_map(|c| {
                vals.iter().map(move |v| {
                    let mut c = c.clone();
                    c.push((n.to_string(), *v));
                    c
                })
            })
            .collect();
    }
    if grid.is_none() && all.len() > DEFAULT_MAX_CANDIDATES {
        let n = all.len();
        all = (0..DEFAULT_MAX_CANDIDATES).map(|i| all[i * n / DEFAULT_MAX_CANDIDATES].clone()).collect();
    }
    Ok(all)
}

fn param(p: &[(String, f64)], k: &str) -> f64 {
    p.iter().find(|(n, _)| n == k).map_or(f64::NAN, |x| x.1)
}

fn whole(p: &[(String, f64)], k: &str) -> Result<usize> {
    let v = param(p, k);
    if v.is_finite() && v >= 1.0 && v.fract() == 0.0 {
        Ok(v as usize)
    } else {
        cfg_err_v(format!("--grid: {k}={v} must be a whole number ≥ 1"))
    }
}

// ---------------------------------------------------------------- the kNN scan

/// Label horizon of the kNN's own labels (the sign of `close[t+4] − close[t]`).
pub const KNN_HORIZON: usize = 4;

/// A kNN candidate: the first `features` columns of the `lorentzian` set and `neighbors`.
#[derive(Clone, Debug)]
pub struct KnnCandidate<'a> {
    /// The `lorentzian` feature rows of every bar.
    pub rows: &'a [Vec<f64>],
    /// Their column names.
    pub columns: &'a [String],
    /// Neighbours k.
    pub neighbors: usize,
    /// Feature columns used (the first ones of the set).
    pub features: usize,
}

/// A fitted kNN: its labelled memory.
#[derive(Clone, Debug)]
pub struct KnnFitted {
    train: Vec<Vec<f64>>,
    classes: Vec<usize>,
    first_ms: i64,
    last_ms: i64,
}

impl KnnCandidate<'_> {
    fn config(&self) -> LorentzianConfig {
        LorentzianConfig { neighbors: self.neighbors, label_horizon: KNN_HORIZON, ..LorentzianConfig::default() }
    }
    fn row(&self, t: usize) -> Vec<f64> {
        self.rows[t][..self.features].to_vec()
    }
}

impl Candidate for KnnCandidate<'_> {
    type Fitted = KnnFitted;
    fn params(&self) -> Vec<(String, f64)> {
        vec![("neighbors".into(), self.neighbors as f64), ("features".into(), self.features as f64)]
    }
    fn fit(&self, series: &Series, rows: &[usize]) -> Result<KnnFitted> {
        let keep: Vec<usize> = rows.iter().copied().filter(|&t| series.label[t].is_some()).collect();
        Ok(KnnFitted {
            train: keep.iter().map(|&t| self.row(t)).collect(),
            classes: keep.iter().map(|&t| series.label[t].expect("kept").class_index()).collect(),
            first_ms: keep.first().map_or(0, |&t| series.open_time[t]),
            last_ms: keep.last().map_or(0, |&t| series.open_time[t]),
        })
    }
    fn decide(&self, f: &KnnFitted, _series: &Series, bars: Range<usize>) -> Result<Vec<Signal>> {
        let test: Vec<Vec<f64>> = bars.map(|t| self.row(t)).collect();
        let probs = class_probs(&f.train, &f.classes, Signal::ALL.len(), &test, &self.config())?;
        let (b, s) = (Signal::Buy.class_index(), Signal::Sell.class_index());
        Ok(test
            .iter()
            .zip(probs)
            .map(|(x, p)| {
                if !x.iter().all(|v| v.is_finite()) {
                    Signal::Hold
                } else if p[b] > p[s] {
                    Signal::Buy
                } else if p[s] > p[b] {
                    Signal::Sell
                } else {
                    Signal::Hold
                }
            })
            .collect())
    }
    fn save(&self, f: &KnnFitted, stem: &Path) -> Result<PathBuf> {
        let path = stem.with_extension("json");
        let v = json!({
            "model": "lorentzian-knn",
            "config": self.config(),
            "feature_set": "lorentzian",
            "columns": &self.columns[..self.features],
            "labels": "sign of close[t+4] − close[t]",
            "memory_rows": f.train.len(),
            "memory_first_open_time_ms": f.first_ms,
            "memory_last_open_time_ms": f.last_ms,
            "note": "the kNN's memory is the labelled rows of the window it was fitted on: recompute them from the store",
        });
        vane_artifact::write_json(&path, &v)?;
        Ok(path)
    }
}

// ---------------------------------------------------------------- GBDT

/// A GBDT candidate on the `v1` features: learning rate and depth (oblivious trees).
#[derive(Clone, Debug)]
pub struct GbdtCandidate<'a> {
    /// The feature rows of every bar.
    pub rows: &'a [Vec<f64>],
    /// Their names.
    pub columns: &'a [String],
    /// Learning rate.
    pub lr: f64,
    /// Tree depth (2^depth leaves).
    pub depth: usize,
    /// Seed.
    pub seed: u64,
}

impl GbdtCandidate<'_> {
    fn dataset(&self, idx: &[usize]) -> Dataset {
        Dataset {
            numeric_names: self.columns.to_vec(),
            numeric: (0..self.columns.len()).map(|j| idx.iter().map(|&i| self.rows[i][j]).collect()).collect(),
            categorical_names: vec![],
            categorical: vec![],
        }
    }
}

impl Candidate for GbdtCandidate<'_> {
    type Fitted = Gbdt;
    fn params(&self) -> Vec<(String, f64)> {
        vec![("lr".into(), self.lr), ("depth".into(), self.depth as f64)]
    }
    fn fit(&self, series: &Series, rows: &[usize]) -> Result<Gbdt> {
        self.fit_valid(series, rows, &[])
    }
    /// With validation rows: early stopping on their log-loss (30 rounds, the trees up to the
    /// best iteration kept) and a per-iteration validation curve; without: 200 trees.
    fn fit_valid(&self, series: &Series, rows: &[usize], valid: &[usize]) -> Result<Gbdt> {
        let usable = |t: &usize| series.label[*t].is_some() && self.rows[*t].iter().all(|v| v.is_finite());
        let keep: Vec<usize> = rows.iter().copied().filter(usable).collect();
        let held: Vec<usize> = valid.iter().copied().filter(usable).collect();
        let class = |t: &usize| series.label[*t].expect("kept").class_index() as f64;
        let y: Vec<f64> = keep.iter().map(class).collect();
        let c = GbdtConfig {
            objective: Objective::Multiclass { classes: Signal::ALL.len() },
            iterations: 200,
            learning_rate: self.lr,
            depth: self.depth,
            early_stopping_rounds: (!held.is_empty()).then_some(30),
            seed: self.seed,
            ..GbdtConfig::default()
        };
        if held.is_empty() {
            return Ok(Gbdt::fit(&c, &self.dataset(&keep), &y, None, None)?);
        }
        let (ed, ey) = (self.dataset(&held), held.iter().map(class).collect::<Vec<f64>>());
        Ok(Gbdt::fit(&c, &self.dataset(&keep), &y, None, Some((&ed, &ey)))?)
    }
    /// The validation log-loss per iteration (no training curve: `train` is NaN, drawn as a gap);
    /// the kept iteration is the best one.
    fn history(&self, g: &Gbdt) -> LossHistory {
        let valid = g.eval_history().to_vec();
        let best_epoch = valid.iter().enumerate().min_by(|a, b| a.1.total_cmp(b.1)).map(|(i, _)| i + 1);
        LossHistory { train: vec![f64::NAN; valid.len()], valid, best_epoch }
    }
    fn decide(&self, g: &Gbdt, _series: &Series, bars: Range<usize>) -> Result<Vec<Signal>> {
        let idx: Vec<usize> = bars.collect();
        let ok: Vec<usize> = idx.iter().copied().filter(|&t| self.rows[t].iter().all(|v| v.is_finite())).collect();
        let probs = if ok.is_empty() { vec![] } else { g.predict_proba(&self.dataset(&ok))? };
        let mut out = vec![Signal::Hold; idx.len()];
        for (t, p) in ok.iter().zip(probs) {
            let k = (0..p.len()).max_by(|&a, &b| p[a].total_cmp(&p[b]).then(b.cmp(&a))).unwrap_or(0);
            out[t - idx[0]] = Signal::ALL[k];
        }
        Ok(out)
    }
    fn save(&self, g: &Gbdt, stem: &Path) -> Result<PathBuf> {
        let path = stem.with_extension("json");
        vane_artifact::write_atomic(&path, g.to_json().as_bytes())?;
        Ok(path)
    }
}

// ---------------------------------------------------------------- burn sequence models

/// What every sequence candidate of a run shares: the raw features and the device.
pub struct SequenceShared {
    raw: crate::sequence::RawData,
    /// Matrix row of each bar whose window of `seq_len` rows is complete (None before).
    rows: Vec<Option<usize>>,
    data: SequenceData,
    kind: ModelKind,
    epochs: usize,
    seed: u64,
    device: burn::tensor::Device,
}

impl std::fmt::Debug for SequenceShared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SequenceShared").field("kind", &self.kind).field("epochs", &self.epochs).finish()
    }
}

/// A burn candidate: learning rate, batch size, hidden width, dropout.
#[derive(Debug)]
pub struct SequenceCandidate<'a> {
    /// Shared data.
    pub shared: &'a SequenceShared,
    /// The grid values.
    pub params: Vec<(String, f64)>,
}

/// A fitted sequence model with what saving it needs.
pub struct SequenceFitted {
    model: vane_models::SequenceModel,
    mcfg: vane_models::ModelConfig,
    tcfg: vane_models::TrainConfig,
    matrix: vane_models::data::FeatureMatrix,
    normaliser: vane_models::data::Normaliser,
    outcome_history: Vec<vane_models::train::EpochRecord>,
    checklist: vane_models::train::Checklist,
    best_epoch: usize,
    stopped_early: bool,
    class_weights: Vec<f32>,
    n_train: usize,
    n_valid: usize,
}

impl std::fmt::Debug for SequenceFitted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SequenceFitted").field("best_epoch", &self.best_epoch).finish()
    }
}

impl SequenceCandidate<'_> {
    /// Fits on `rows`; the trainer's validation set (early stopping, best epoch) is `valid`
    /// when given, else the fitted rows themselves (no row outside them is seen).
    fn fit_with(&self, series: &Series, rows: &[usize], valid: Option<&[usize]>) -> Result<SequenceFitted> {
        use vane_models::data::WindowedDataset;
        let sh = self.shared;
        let k = Signal::ALL.len();
        let cut = rows.iter().map(|&t| series.open_time[t]).max().map_or(i64::MIN, |t| t + 1);
        let (matrix, normaliser) = crate::sequence::normalised(&sh.raw, sh.data.normaliser, cut)?;
        let samples: Vec<_> = self.samples(series, rows.iter().copied().filter(|&t| series.label[t].is_some()));
        if samples.is_empty() {
            return Err(PipelineError::Data(format!(
                "no training window of {} bars fits in the window: lower --seq-len or raise --window-size",
                sh.data.seq_len
            )));
        }
        let samples: Vec<_> = samples.into_iter().map(|s| s.1).collect();
        let mut over = Map::new();
        over.insert("learning_rate".into(), json!(param(&self.params, "lr")));
        over.insert("batch_size".into(), json!(whole(&self.params, "batch")?));
        over.insert("epochs".into(), json!(sh.epochs));
        over.insert("seed".into(), json!(sh.seed));
        let tcfg = vane_models::TrainConfig::resolve(None, &[over])?;
        let mcfg = self.spec(matrix.n_features())?;
        let train = WindowedDataset::new(&matrix, sh.data.seq_len, samples, Some(k))?;
        let vs: Vec<_> = valid
            .map(|v| self.samples(series, v.iter().copied().filter(|&t| series.label[t].is_some())))
            .unwrap_or_default()
            .into_iter()
            .map(|s| s.1)
            .collect();
        let held =
            if vs.is_empty() { None } else { Some(WindowedDataset::new(&matrix, sh.data.seq_len, vs, Some(k))?) };
        // Without validation rows, the trainer's validation set is the fitted rows (no row
        // outside them is seen).
        let inputs = vane_models::train::TrainInputs {
            model: &mcfg,
            config: &tcfg,
            train: &train,
            valid: held.as_ref().unwrap_or(&train),
            checkpoint_dir: None,
            resume: false,
            context: None,
        };
        let outcome = vane_models::train::fit(&inputs, &sh.device, &mut vane_models::train::Quiet)?;
        let (n_train, n_valid) = (train.len(), held.as_ref().unwrap_or(&train).len());
        Ok(SequenceFitted {
            model: outcome.model,
            mcfg,
            tcfg,
            matrix,
            normaliser,
            outcome_history: outcome.history,
            checklist: outcome.checklist,
            best_epoch: outcome.best_epoch,
            stopped_early: outcome.stopped_early,
            class_weights: outcome.class_weights,
            n_train,
            n_valid,
        })
    }

    fn spec(&self, n_features: usize) -> Result<vane_models::ModelConfig> {
        let hidden = whole(&self.params, "hidden")?;
        let kind = self.shared.kind;
        let mut spec = Map::new();
        spec.insert("kind".into(), Value::String(kind.as_str().into()));
        // Which field "hidden" sets, by kind (a kind added later takes the spec's `hidden`).
        let fields: &[&str] = match kind.as_str() {
            "hrm" => &["hidden_low", "hidden_high"],
            "cnn-lstm" => &["lstm_hidden"],
            "tft" => &["d_model"],
            _ => &["hidden"],
        };
        for f in fields {
            spec.insert((*f).into(), json!(hidden));
        }
        spec.insert("dropout".into(), json!(param(&self.params, "dropout")));
        let spec: vane_models::ModelSpec = serde_json::from_value(Value::Object(spec))
            .map_err(|e| PipelineError::Config(format!("--model {kind}: {e}")))?;
        Ok(spec.resolve(n_features, Signal::ALL.len(), 1, None)?)
    }

    fn samples(&self, series: &Series, bars: impl Iterator<Item = usize>) -> Vec<(usize, vane_models::data::Sample)> {
        bars.filter_map(|t| {
            let row = self.shared.rows[t]?;
            let class = series.label[t].map_or(Signal::Hold.class_index(), Signal::class_index);
            Some((
                t,
                vane_models::data::Sample {
                    end: row,
                    target: vane_models::data::Target { class, value: 0.0, weight: 1.0 },
                },
            ))
        })
        .collect()
    }
}

impl Candidate for SequenceCandidate<'_> {
    type Fitted = SequenceFitted;
    fn params(&self) -> Vec<(String, f64)> {
        self.params.clone()
    }
    fn fit(&self, series: &Series, rows: &[usize]) -> Result<SequenceFitted> {
        self.fit_with(series, rows, None)
    }
    fn fit_valid(&self, series: &Series, rows: &[usize], valid: &[usize]) -> Result<SequenceFitted> {
        self.fit_with(series, rows, Some(valid))
    }
    fn history(&self, f: &SequenceFitted) -> LossHistory {
        LossHistory {
            train: f.outcome_history.iter().map(|r| r.train_loss).collect(),
            valid: f.outcome_history.iter().map(|r| r.val_loss).collect(),
            best_epoch: Some(f.best_epoch),
        }
    }
    fn decide(&self, f: &SequenceFitted, series: &Series, bars: Range<usize>) -> Result<Vec<Signal>> {
        use vane_models::data::WindowedDataset;
        let start = bars.start;
        let mut out = vec![Signal::Hold; bars.len()];
        let samples = self.samples(series, bars);
        if samples.is_empty() {
            return Ok(out);
        }
        let (ts, ss): (Vec<usize>, Vec<_>) = samples.into_iter().unzip();
        let ds = WindowedDataset::new(&f.matrix, self.shared.data.seq_len, ss, Some(Signal::ALL.len()))?;
        let settings = vane_models::train::loss_settings(&f.tcfg, f.class_weights.clone());
        let p = vane_models::train::predict(
            &f.model,
            &f.mcfg,
            &ds,
            vane_models::Task::Classification,
            &settings,
            256,
            &self.shared.device,
        );
        for (t, probs) in ts.iter().zip(&p.probs) {
            let k = (0..probs.len()).max_by(|&a, &b| probs[a].total_cmp(&probs[b]).then(b.cmp(&a))).unwrap_or(0);
            out[t - start] = Signal::ALL[k];
        }
        Ok(out)
    }
    fn save(&self, f: &SequenceFitted, stem: &Path) -> Result<PathBuf> {
        use vane_models::artifact::{ArtifactFiles, FORMAT_VERSION, SequenceMetrics, SequenceSchema};
        let d = &self.shared.data;
        let best = f.outcome_history.iter().find(|r| r.epoch == f.best_epoch);
        let metrics = SequenceMetrics {
            best_epoch: f.best_epoch,
            epochs_run: f.outcome_history.len(),
            stopped_early: f.stopped_early,
            val_loss: best.map_or(f64::NAN, |b| b.val_loss),
            val_accuracy: best.map_or(f64::NAN, |b| b.val_accuracy),
            val_macro_f1: best.map_or(f64::NAN, |b| b.val_macro_f1),
            class_weights: f.class_weights.clone(),
            n_train: f.n_train,
            n_valid: f.n_valid,
            param_count: burn::module::Module::num_params(&f.model),
        };
        let schema = SequenceSchema {
            format_version: FORMAT_VERSION,
            feature_set: d.feature_set.clone(),
            columns: self.shared.raw.columns.clone(),
            seq_len: d.seq_len,
            normaliser: f.normaliser.clone(),
            symbols: d.symbols.iter().map(|s| s.to_string()).collect(),
            classes: Signal::NAMES.iter().map(|c| c.to_string()).collect(),
        };
        let files = ArtifactFiles {
            model: &f.mcfg,
            train: &f.tcfg,
            data: serde_json::to_value(d).expect("data serialises"),
            schema: &schema,
            metrics: &metrics,
            history: &f.outcome_history,
            checklist: &f.checklist,
            interpretation: None,
            inference: None,
            extra: Default::default(),
        };
        let dir = stem.to_path_buf();
        vane_models::artifact::save(&dir, &f.model, &files)?;
        Ok(dir)
    }
}

// ---------------------------------------------------------------- the run

/// `vane wfo`'s settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WfoConfig {
    /// The model.
    pub model: WfoModel,
    /// Symbol.
    pub symbol: Symbol,
    /// Bar interval.
    pub interval: Interval,
    /// The last N days of stored bars, counted back from the last one (None: all).
    pub data_days: Option<u32>,
    /// Train window, days.
    pub window_days: u32,
    /// Test window (and step), days.
    pub test_days: u32,
    /// Epochs of burn models.
    pub epochs: usize,
    /// Selection metric.
    pub optimize: OptimizeMetric,
    /// `--grid` (None: the model's default grid).
    pub grid: Option<Grid>,
    /// Fee per side, bps.
    pub fee_bps: f64,
    /// Slippage per side, bps.
    pub slip_bps: f64,
    /// SELL → flat.
    pub long_only: bool,
    /// Label horizon in bars (gbdt and burn models; None: by interval, see [`default_horizon`]).
    pub horizon: Option<usize>,
    /// θ of the fixed-horizon labels (None: by interval, see [`default_theta`]).
    pub theta: Option<f64>,
    /// Share of each train window used as the validation slice.
    pub valid_frac: f64,
    /// Window length (bars) of burn models.
    pub seq_len: usize,
    /// Seed.
    pub seed: u64,
}

impl Default for WfoConfig {
    fn default() -> Self {
        Self {
            model: WfoModel::LorentzianKnn,
            symbol: Symbol::new("BTCUSDT").expect("valid"),
            interval: Interval::H4,
            data_days: Some(180),
            window_days: 30,
            test_days: 7,
            epochs: 30,
            optimize: OptimizeMetric::SharpeRatio,
            grid: None,
            fee_bps: 10.0,
            slip_bps: 2.0,
            long_only: false,
            horizon: None,
            theta: None,
            valid_frac: 0.2,
            seq_len: 16,
            seed: 7,
        }
    }
}

/// Default label horizon: 6 bars (one day) at 4h and coarser, else the bars of 4 hours (1h → 4,
/// 15m → 16), at least 1.
pub fn default_horizon(interval: Interval) -> usize {
    let four_h = 4 * 3_600_000;
    if interval.millis() >= four_h { 6 } else { ((four_h / interval.millis()) as usize).max(1) }
}

/// Default θ: 0.5 % at 4h and coarser, else 0.2 %.
pub fn default_theta(interval: Interval) -> f64 {
    if interval.millis() >= 4 * 3_600_000 { 0.005 } else { 0.002 }
}

/// Progress of a run: after each fitted candidate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WfoProgress {
    /// Fits done.
    pub done: usize,
    /// Fits in all (candidates × windows + the final model).
    pub total: usize,
    /// What is being done.
    pub message: String,
}

/// One window of the report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WindowReport {
    /// The window in time.
    #[serde(flatten)]
    pub span: DayWindow,
    /// Where its validation slice starts.
    pub valid_start_ms: i64,
    /// Rows fitted on (purged), validation bars, test bars.
    pub fit_rows: usize,
    /// See `fit_rows`.
    pub valid_bars: usize,
    /// See `fit_rows`.
    pub test_bars: usize,
    /// The chosen candidate (index) and its hyperparameters.
    pub chosen: usize,
    /// See `chosen`.
    pub params: Vec<(String, f64)>,
    /// Every candidate's validation score (null: undefined).
    pub candidate_scores: Vec<f64>,
    /// Every candidate's annualised validation Sharpe ratio (null: undefined).
    pub candidate_sharpes: Vec<f64>,
    /// The winner on the validation slice.
    pub in_sample: Metrics,
    /// The winner on the test window.
    pub out_of_sample: Metrics,
    /// Accuracy and macro-F1 of the decisions against the labels, validation slice.
    pub is_accuracy: f64,
    /// See `is_accuracy`.
    pub is_macro_f1: f64,
    /// On the test window's labelled bars.
    pub oos_accuracy: f64,
    /// See `oos_accuracy`.
    pub oos_macro_f1: f64,
    /// `best_model_window_N.*`.
    pub model_path: PathBuf,
}

/// What `vane wfo` produced.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WfoReport {
    /// The settings.
    pub config: WfoConfig,
    /// Horizon and θ used for the labels (the kNN: its own horizon 4, θ 0).
    pub horizon: usize,
    /// See `horizon`.
    pub theta: f64,
    /// Days of bars used.
    pub days_used: f64,
    /// Candidates per window.
    pub candidates: usize,
    /// Per window.
    pub windows: Vec<WindowReport>,
    /// Mean over windows of in-sample minus out-of-sample of the optimised metric (windows where
    /// both are defined); positive = the choice looked better than it traded.
    pub mean_degradation: f64,
    /// The stitched out-of-sample curve's metrics.
    pub stitched: Metrics,
    /// Buy and hold over the same bars (close to close, no costs), for comparison.
    pub buy_and_hold: Metrics,
    /// Trials behind the deflated Sharpe ratio: candidates × windows.
    pub trials: usize,
    /// Deflated Sharpe ratio of the stitched curve (`dsr` is the probability); null when it has
    /// none (fewer than 2 returns, constant returns).
    pub deflated_sharpe: Option<vane_backtest::DeflatedSharpe>,
    /// The sample variance of the trials' per-period validation Sharpe ratios (every candidate of
    /// every window; null with fewer than 2 defined): for reference, not used by
    /// `deflated_sharpe` (see `docs/wfo.md`).
    pub trial_sharpe_variance: Option<f64>,
    /// Why `deflated_sharpe` is null (empty otherwise).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub deflated_sharpe_note: String,
    /// How `best_model_final_*` was chosen.
    pub final_rule: String,
    /// Files written.
    pub files: BTreeMap<String, PathBuf>,
}

/// Formats a float as Rust's shortest round-trip `{}`; NaN as an empty field.
pub fn csv_float(x: f64) -> String {
    if x.is_nan() { String::new() } else { format!("{x}") }
}

/// `YYYYMMDD_HHMMSS` (UTC) of `ms`.
pub fn file_stamp(ms: i64) -> String {
    let (y, mo, d, h, mi, s, _) = Timestamp(ms).to_parts();
    format!("{y:04}{mo:02}{d:02}_{h:02}{mi:02}{s:02}")
}

fn io(op: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> PipelineError {
    let path = path.to_path_buf();
    move |source| PipelineError::Io { op, path, source }
}

/// Accuracy and macro-F1 of `decisions` (at bars `bars`) against the labels; NaN without labels.
fn classification(series: &Series, bars: Range<usize>, decisions: &[Signal]) -> (f64, f64) {
    let (mut y, mut p) = (Vec::new(), Vec::new());
    for (t, d) in bars.zip(decisions) {
        if let Some(l) = series.label[t] {
            y.push(l.class_index());
            p.push(d.class_index());
        }
    }
    if y.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    (
        vane_validation::metrics::accuracy(&y, &p).unwrap_or(f64::NAN),
        vane_validation::metrics::macro_f1(&y, &p).unwrap_or(f64::NAN),
    )
}

/// What [`run_candidates`] produced.
#[derive(Clone, Debug)]
pub struct Walked {
    /// Per window.
    pub windows: Vec<WindowReport>,
    /// The stitched out-of-sample curve's metrics.
    pub stitched: Metrics,
    /// `(open_time_ms, window, return)` of every out-of-sample bar.
    pub returns: Vec<(i64, usize, f64)>,
    /// Buy and hold over the same bars (close to close, no costs).
    pub buy_and_hold: Vec<f64>,
    /// `best_model_final_<stamp>.*`.
    pub final_model: PathBuf,
}

/// The walk-forward of `candidates` over `series`: selection, out-of-sample trading, per-window
/// models and the final model, and the CSV/JSON outputs under `out_dir`.
#[allow(clippy::too_many_arguments)]
pub fn run_candidates<C: Candidate>(
    candidates: &[C],
    series: &Series,
    windows: &[DayWindow],
    cfg: &WfoConfig,
    trading: &Trading,
    out_dir: &Path,
    progress: &mut dyn FnMut(WfoProgress),
) -> Result<Walked> {
    std::fs::create_dir_all(out_dir).map_err(io("create", out_dir))?;
    let total = candidates.len() * windows.len() + 1;
    let mut done = 0;
    let mut reports = Vec::with_capacity(windows.len());
    let mut oos_decisions: Vec<Signal> = Vec::new();
    let mut oos_bars: Vec<(usize, usize)> = Vec::new(); // (bar, window)
    let mut last_winner = 0;
    for w in windows {
        let rows = WindowRows::of(series, w, cfg.valid_frac);
        if rows.test.is_empty() || rows.test.start == 0 {
            continue;
        }
        let sel = select(candidates, series, &rows, cfg.optimize, trading, &mut |i| {
            done += 1;
            progress(WfoProgress {
                done,
                total,
                message: format!("window {}/{} candidate {}/{}", w.window + 1, windows.len(), i + 1, candidates.len()),
            });
        })?;
        let decisions = candidates[sel.winner].decide(&sel.fitted, series, rows.test.start - 1..rows.test.end)?;
        let (is_acc, is_f1) = classification(series, rows.valid.clone(), &sel.decisions[1..]);
        let (oos_acc, oos_f1) = classification(series, rows.test.clone(), &decisions[1..]);
        let path =
            candidates[sel.winner].save(&sel.fitted, &out_dir.join(format!("best_model_window_{}", w.window)))?;
        for (i, t) in rows.test.clone().enumerate() {
            oos_bars.push((t, w.window));
            oos_decisions.push(decisions[i]);
        }
        last_winner = sel.winner;
        reports.push(WindowReport {
            span: *w,
            valid_start_ms: rows.valid_start_ms,
            fit_rows: rows.fit.len(),
            valid_bars: rows.valid.len(),
            test_bars: rows.test.len(),
            chosen: sel.winner,
            params: candidates[sel.winner].params(),
            candidate_scores: sel.scores.clone(),
            candidate_sharpes: sel.sharpes.clone(),
            in_sample: sel.metrics,
            out_of_sample: sel.metrics, // replaced below from the stitched backtest
            is_accuracy: is_acc,
            is_macro_f1: is_f1,
            oos_accuracy: oos_acc,
            oos_macro_f1: oos_f1,
            model_path: path,
        });
    }
    if reports.is_empty() {
        return Err(PipelineError::Data("no window has bars to test on: raise --data-days".into()));
    }
    // One backtest over every test bar: the decision at the close of bar t−1 is held over bar t.
    let first = oos_bars[0].0;
    let last = oos_bars[oos_bars.len() - 1].0;
    let mut pos_decisions = Vec::with_capacity(last + 1 - first);
    // decisions[k] is the decision at bar first−1+k: shift by one.
    let mut by_bar: BTreeMap<usize, Signal> = BTreeMap::new();
    for (i, &(t, _)) in oos_bars.iter().enumerate() {
        // oos_decisions[i] was decided at bar t−1 (the windows' decide ranges start one bar early).
        by_bar.insert(t - 1, oos_decisions[i]);
    }
    for b in first - 1..last {
        pos_decisions.push(by_bar.get(&b).copied().unwrap_or(Signal::Hold));
    }
    let bt = trading.backtest(&series.close, first..last + 1, &pos_decisions)?;
    let held = &bt.positions[..bt.positions.len() - 1];
    let r = &bt.returns[1..];
    let stitched = bt.metrics(trading.periods_per_year);
    let mut returns = Vec::with_capacity(r.len());
    let mut buy_and_hold = Vec::with_capacity(r.len());
    let window_of: BTreeMap<usize, usize> = oos_bars.iter().copied().collect();
    for (k, &x) in r.iter().enumerate() {
        let t = first + k;
        if let Some(&w) = window_of.get(&t) {
            returns.push((series.open_time[t], w, x));
            buy_and_hold.push(series.close[t] / series.close[t - 1] - 1.0);
        }
    }
    for rep in &mut reports {
        let idx: Vec<usize> = (0..r.len()).filter(|&k| window_of.get(&(first + k)) == Some(&rep.span.window)).collect();
        let (a, b) = (idx[0], idx[idx.len() - 1] + 1);
        // Trades closing inside the window (bars of `bt` are offset by first − 1).
        let trades: Vec<Trade> = bt.trades.iter().copied().filter(|tr| tr.exit_bar > a && tr.exit_bar <= b).collect();
        rep.out_of_sample =
            vane_backtest::metrics::compute(&r[a..b], trading.periods_per_year, Some(&held[a..b]), &trades);
    }
    // The final model: the last window's winner refitted on the most recent window-size days.
    let end_ms = series.open_time[series.open_time.len() - 1] + 1;
    let start_ms = end_ms - i64::from(cfg.window_days) * DAY_MS;
    let (a, n) = (series.index_at(start_ms), series.open_time.len());
    let fit: Vec<usize> = (a..n).filter(|&i| series.label_end[i].is_some() && series.label[i].is_some()).collect();
    let winner = &candidates[last_winner];
    let fitted = winner.fit(series, &fit)?;
    progress(WfoProgress { done: total, total, message: "final model".into() });
    let stamp = file_stamp(Timestamp::now().0);
    let final_path = winner.save(&fitted, &out_dir.join(format!("best_model_final_{stamp}")))?;
    Ok(Walked { windows: reports, stitched, returns, buy_and_hold, final_model: final_path })
}

/// Writes `window_metrics_<stamp>.csv`.
pub fn write_window_metrics(path: &Path, windows: &[WindowReport]) -> Result<()> {
    let params: Vec<String> = windows.first().map_or(vec![], |w| w.params.iter().map(|p| p.0.clone()).collect());
    let mut s = String::from("window,train_start_ms,train_end_ms,test_start_ms,test_end_ms");
    for p in &params {
        let _ = write!(s, ",{p}");
    }
    for side in ["is", "oos"] {
        for m in METRIC_NAMES {
            let _ = write!(s, ",{side}_{m}");
        }
    }
    s.push_str(",is_accuracy,is_macro_f1,oos_accuracy,oos_macro_f1\n");
    for w in windows {
        let d = &w.span;
        let _ = write!(s, "{},{},{},{},{}", d.window, d.train_start_ms, d.train_end_ms, d.test_start_ms, d.test_end_ms);
        for (_, v) in &w.params {
            let _ = write!(s, ",{}", csv_float(*v));
        }
        for m in [&w.in_sample, &w.out_of_sample] {
            for name in METRIC_NAMES {
                let _ = write!(s, ",{}", csv_float(metric_value(m, name).unwrap_or(f64::NAN)));
            }
        }
        let _ = writeln!(
            s,
            ",{},{},{},{}",
            csv_float(w.is_accuracy),
            csv_float(w.is_macro_f1),
            csv_float(w.oos_accuracy),
            csv_float(w.oos_macro_f1)
        );
    }
    Ok(vane_artifact::write_atomic(path, s.as_bytes())?)
}

/// Writes `oos_returns.csv` (`open_time_ms,window,return`).
pub fn write_oos_returns(path: &Path, returns: &[(i64, usize, f64)]) -> Result<()> {
    let mut s = String::from("open_time_ms,window,return\n");
    for (t, w, r) in returns {
        let _ = writeln!(s, "{t},{w},{}", csv_float(*r));
    }
    Ok(vane_artifact::write_atomic(path, s.as_bytes())?)
}

/// The lorentzian (kNN) or `v1` (GBDT) feature rows of `bars`, with their column names.
/// Features are computed on every stored bar (causal: a row uses bars up to its own), so the
/// warm-up of the indicators eats history before `--data-days`, not the days asked for; the rows
/// from `start` on are returned.
fn feature_rows(all: &Bars, start: usize, set: FeatureSet) -> (Vec<Vec<f64>>, Vec<String>) {
    let frame = set.compute(all);
    ((start..all.len()).map(|t| frame.row(t)).collect(), set.columns())
}

/// Series with fixed-horizon labels (`horizon`, θ).
fn fixed_series(bars: &Bars, horizon: usize, theta: f64) -> Result<Series> {
    let n = bars.len();
    let mut label = vec![None; n];
    let mut label_end = vec![None; n];
    for (t, l, span) in FixedHorizon::new(horizon, theta)?.label(bars.close()).iter() {
        label[t] = Some(l.signal);
        label_end[t] = Some(span.end);
    }
    Ok(Series { open_time: bars.open_time().to_vec(), close: bars.close().to_vec(), label, label_end })
}

/// The kNN's series: the sign of `close[t+4] − close[t]` (BUY, SELL, HOLD when equal).
fn knn_series(bars: &Bars) -> Series {
    let c = bars.close();
    let n = c.len();
    let h = KNN_HORIZON;
    let label = (0..n)
        .map(|t| {
            (t + h < n).then(|| {
                let d = c[t + h] - c[t];
                if d > 0.0 {
                    Signal::Buy
                } else if d < 0.0 {
                    Signal::Sell
                } else {
                    Signal::Hold
                }
            })
        })
        .collect();
    let label_end = (0..n).map(|t| (t + h < n).then_some(t + h)).collect();
    Series { open_time: bars.open_time().to_vec(), close: c.to_vec(), label, label_end }
}

/// The bars of a run: every stored bar (the features' warm-up) and the last `data_days` days.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// Every stored bar of the symbol and interval.
    pub all: Bars,
    /// Index in `all` of the first bar used.
    pub start: usize,
    /// The bars used: `all[start..]`.
    pub bars: Bars,
    /// Days they cover (first open to last close).
    pub days_used: f64,
}

/// Reads `cfg.symbol`/`cfg.interval` from the store and keeps the last `cfg.data_days` days
/// (counted back from the last stored bar: bars whose open time is at or after `last open +
/// interval − N days`). Checks the settings shared by `wfo` and `train-test`.
pub fn load_bars(store: &ParquetStore, cfg: &WfoConfig) -> Result<Loaded> {
    if !(cfg.valid_frac > 0.0 && cfg.valid_frac < 1.0) {
        return cfg_err_v(format!("valid_frac must be in (0, 1), got {}", cfg.valid_frac));
    }
    if cfg.data_days == Some(0) {
        return cfg_err_v("--data-days must be ≥ 1".into());
    }
    if matches!(cfg.model, WfoModel::Sequence(_)) && (cfg.epochs == 0 || cfg.seq_len == 0) {
        return cfg_err_v("--epochs and --seq-len must be ≥ 1".into());
    }
    if cfg.horizon == Some(0) {
        return cfg_err_v("--horizon must be ≥ 1".into());
    }
    if let Some(t) = cfg.theta
        && !(t.is_finite() && t >= 0.0)
    {
        return cfg_err_v(format!("--theta {t}: must be a number ≥ 0"));
    }
    let all = store.read(&cfg.symbol, cfg.interval)?;
    let start = match (cfg.data_days, all.open_time().last()) {
        (Some(days), Some(&last)) => {
            let from = last + cfg.interval.millis() - i64::from(days) * DAY_MS;
            all.open_time().partition_point(|&t| t < from)
        }
        _ => 0,
    };
    let bars = all.slice(start..all.len());
    if bars.len() < 2 {
        return Err(PipelineError::Data(format!(
            "{} {}: {} bars in the store under --data-dir; download or import candles first",
            cfg.symbol,
            cfg.interval,
            bars.len()
        )));
    }
    let ot = bars.open_time();
    let days_used = (ot[ot.len() - 1] + cfg.interval.millis() - ot[0]) as f64 / DAY_MS as f64;
    Ok(Loaded { all, start, bars, days_used })
}

/// Work done on the candidates of one model kind (each kind has its own [`Candidate`] type).
pub trait Visit {
    /// What the work returns.
    type Out;
    /// Does the work on `candidates` over `series`.
    fn visit<C: Candidate>(self, candidates: &[C], series: &Series) -> Result<Self::Out>;
}

/// Builds the candidates of `cfg.model` for `params` (from [`candidates_for`]) over `loaded`
/// and hands them to `visit`; returns its output with the label horizon and θ used (the kNN:
/// its own horizon 4 and θ 0).
pub fn with_candidates<V: Visit>(
    store: &ParquetStore,
    cfg: &WfoConfig,
    loaded: &Loaded,
    params: &[Vec<(String, f64)>],
    visit: V,
) -> Result<(V::Out, usize, f64)> {
    let horizon = cfg.horizon.unwrap_or_else(|| default_horizon(cfg.interval));
    let theta = cfg.theta.unwrap_or_else(|| default_theta(cfg.interval));
    let (all, start, bars) = (&loaded.all, loaded.start, &loaded.bars);
    match cfg.model {
        WfoModel::LorentzianKnn => {
            let (rows, columns) = feature_rows(all, start, FeatureSet::Lorentzian);
            let series = knn_series(bars);
            let cands = params
                .iter()
                .map(|p| {
                    let features = whole(p, "features")?;
                    if features > columns.len() {
                        return cfg_err_v(format!(
                            "--grid: features={features} but the lorentzian set has {} columns",
                            columns.len()
                        ));
                    }
                    Ok(KnnCandidate { rows: &rows, columns: &columns, neighbors: whole(p, "neighbors")?, features })
                })
                .collect::<Result<Vec<_>>>()?;
            Ok((visit.visit(&cands, &series)?, KNN_HORIZON, 0.0))
        }
        WfoModel::Gbdt => {
            let (rows, columns) = feature_rows(all, start, FeatureSet::V1);
            let series = fixed_series(bars, horizon, theta)?;
            let cands = params
                .iter()
                .map(|p| {
                    let lr = param(p, "lr");
                    if !(lr > 0.0 && lr <= 1.0) {
                        return cfg_err_v(format!("--grid: lr={lr} must be in (0, 1]"));
                    }
                    Ok(GbdtCandidate { rows: &rows, columns: &columns, lr, depth: whole(p, "depth")?, seed: cfg.seed })
                })
                .collect::<Result<Vec<_>>>()?;
            Ok((visit.visit(&cands, &series)?, horizon, theta))
        }
        WfoModel::Sequence(kind) => {
            for p in params {
                whole(p, "batch")?;
                whole(p, "hidden")?;
                let (lr, dr) = (param(p, "lr"), param(p, "dropout"));
                if !(lr > 0.0 && lr.is_finite() && (0.0..1.0).contains(&dr)) {
                    return cfg_err_v(format!("--grid: lr={lr} must be > 0 and dropout={dr} in [0, 1)"));
                }
            }
            let data = SequenceData {
                symbols: vec![cfg.symbol.clone()],
                interval: cfg.interval,
                feature_set: "v1".into(),
                seq_len: cfg.seq_len.max(1),
                label: LabelKind::Fixed,
                horizon,
                theta,
                days: None,
                walk_forward: 0,
                valid_frac: cfg.valid_frac,
                ..SequenceData::default()
            };
            // Every stored bar, like the features of the other kinds.
            let raw = crate::sequence::raw_data(store, &data)?;
            let series = fixed_series(bars, horizon, theta)?;
            let seg_times = &raw.segment_times[0];
            let seg_start = raw.matrix.segments()[0].rows.start;
            let rows: Vec<Option<usize>> = series
                .open_time
                .iter()
                .map(|t| {
                    let i = seg_times.binary_search(t).ok()?;
                    let row = seg_start + i;
                    (i + 1 >= data.seq_len
                        && raw.matrix.rows_slice(row + 1 - data.seq_len..row + 1).iter().all(|v| v.is_finite()))
                    .then_some(row)
                })
                .collect();
            let shared = SequenceShared {
                raw,
                rows,
                data,
                kind,
                epochs: cfg.epochs,
                seed: cfg.seed,
                device: vane_models::DeviceKind::default().device()?,
            };
            let cands: Vec<SequenceCandidate<'_>> =
                params.iter().map(|p| SequenceCandidate { shared: &shared, params: p.clone() }).collect();
            Ok((visit.visit(&cands, &series)?, horizon, theta))
        }
    }
}

/// `vane wfo`'s visit: [`run_candidates`].
struct WalkVisit<'a, 'p> {
    windows: &'a [DayWindow],
    cfg: &'a WfoConfig,
    trading: &'a Trading,
    out_dir: &'a Path,
    progress: &'a mut (dyn FnMut(WfoProgress) + 'p),
}

impl Visit for WalkVisit<'_, '_> {
    type Out = Walked;
    fn visit<C: Candidate>(self, candidates: &[C], series: &Series) -> Result<Walked> {
        run_candidates(candidates, series, self.windows, self.cfg, self.trading, self.out_dir, self.progress)
    }
}

/// Runs `vane wfo`: reads the store, plans the windows, runs the model's grid through
/// [`run_candidates`] and writes `window_metrics_<stamp>.csv`, `oos_returns.csv`,
/// `wfo_report.json`, `best_model_window_N.*`, `best_model_final_<stamp>.*` and
/// `visualizations/` under `out_dir`.
pub fn run_wfo(
    store: &ParquetStore,
    cfg: &WfoConfig,
    out_dir: &Path,
    progress: &mut dyn FnMut(WfoProgress),
) -> Result<WfoReport> {
    let loaded = load_bars(store, cfg)?;
    let costs = CostModel::new(cfg.fee_bps, cfg.slip_bps)
        .map_err(|e| PipelineError::Config(format!("--fee-bps/--slip-bps: {e}")))?;
    let trading = Trading { costs, long_only: cfg.long_only, periods_per_year: cfg.interval.periods_per_year() };
    let days_used = loaded.days_used;
    let ot = loaded.bars.open_time();
    let windows = match plan_day_windows(ot[0], ot[ot.len() - 1], cfg.window_days, cfg.test_days, cfg.interval) {
        Err(PipelineError::Data(_)) => {
            let ao = loaded.all.open_time();
            let stored = (ao[ao.len() - 1] + cfg.interval.millis() - ao[0]) as f64 / DAY_MS as f64;
            return Err(PipelineError::Data(format!(
                "{} {}: {stored:.1} days are stored and {days_used:.1} used (--data-days {}), fewer than one window \
                 (--window-size {} days + at least 1 test day): lower --window-size/--test-size, raise --data-days, or \
                 download more candles",
                cfg.symbol,
                cfg.interval,
                cfg.data_days.map_or("all".to_string(), |d| d.to_string()),
                cfg.window_days
            )));
        }
        other => other?,
    };
    let params = candidates_for(cfg.model, cfg.grid.as_ref())?;
    let n_cands = params.len();
    let visit = WalkVisit { windows: &windows, cfg, trading: &trading, out_dir, progress };
    let (walked, used_h, used_theta) = with_candidates(store, cfg, &loaded, &params, visit)?;
    let Walked { windows: reports, stitched, returns, buy_and_hold, final_model: final_path } = walked;
    let stamp = file_stamp(Timestamp::now().0);
    let mut files = BTreeMap::new();
    let wm = out_dir.join(format!("window_metrics_{stamp}.csv"));
    write_window_metrics(&wm, &reports)?;
    files.insert("window_metrics".to_string(), wm);
    let or = out_dir.join("oos_returns.csv");
    write_oos_returns(&or, &returns)?;
    files.insert("oos_returns".to_string(), or);
    let vis = out_dir.join("visualizations");
    std::fs::create_dir_all(&vis).map_err(io("create", &vis))?;
    files.insert("visualizations".to_string(), vis.clone());
    files.insert("final_model".to_string(), final_path);
    let degr: Vec<f64> = reports
        .iter()
        .map(|w| cfg.optimize.of(&w.in_sample) - cfg.optimize.of(&w.out_of_sample))
        .filter(|x| x.is_finite())
        .collect();
    let mean_degradation = if degr.is_empty() { f64::NAN } else { degr.iter().sum::<f64>() / degr.len() as f64 };
    let trials = n_cands * reports.len();
    // The deflated Sharpe ratio of the stitched curve: N = candidates × windows trials and V the
    // Sharpe estimator's null variance 1/(T−1) at the stitched curve's length T. The trials'
    // own Sharpes were measured on validation slices a few days long, whose sampling variance
    // (≈ 1/(T_valid − 1)) dwarfs their real spread and would deflate any curve to 0: their
    // variance is reported beside it (`trial_sharpe_variance`), not used.
    let per_period: Vec<f64> = reports
        .iter()
        .flat_map(|w| w.candidate_sharpes.iter().map(|s| s / trading.periods_per_year.sqrt()))
        .filter(|s| s.is_finite())
        .collect();
    let var = (per_period.len() >= 2).then(|| {
        let m = per_period.iter().sum::<f64>() / per_period.len() as f64;
        per_period.iter().map(|s| (s - m).powi(2)).sum::<f64>() / (per_period.len() - 1) as f64
    });
    let oos: Vec<f64> = returns.iter().map(|r| r.2).collect();
    let (deflated_sharpe, deflated_sharpe_note) = match vane_backtest::deflated_sharpe(&oos, trials.max(1), None) {
        Ok(d) => (Some(d), String::new()),
        Err(e) => (None, e.to_string()),
    };
    write_plots(&vis, &reports, &returns, &buy_and_hold, cfg.optimize)?;
    let buy_and_hold = vane_backtest::metrics::compute(&buy_and_hold, trading.periods_per_year, None, &[]);
    let report_path = out_dir.join("wfo_report.json");
    files.insert("report".to_string(), report_path.clone());
    let report = WfoReport {
        config: cfg.clone(),
        horizon: used_h,
        theta: used_theta,
        days_used,
        candidates: n_cands,
        windows: reports,
        mean_degradation,
        stitched,
        buy_and_hold,
        trials,
        deflated_sharpe,
        deflated_sharpe_note,
        trial_sharpe_variance: var,
        final_rule: format!(
            "the last window's winner, refitted on the labelled rows of the most recent {} days (its labels purged at the data's end)",
            cfg.window_days
        ),
        files,
    };
    vane_artifact::write_json(&report_path, &report)?;
    Ok(report)
}

fn cfg_err_v<T>(m: String) -> Result<T> {
    Err(PipelineError::Config(m))
}

/// `visualizations/`: per-window in-sample vs out-of-sample bars of the optimised metric, the
/// windows' out-of-sample total returns, and the stitched out-of-sample equity and underwater
/// curves (PNG + SVG each).
fn write_plots(
    dir: &Path,
    windows: &[WindowReport],
    returns: &[(i64, usize, f64)],
    buy_and_hold: &[f64],
    metric: OptimizeMetric,
) -> Result<()> {
    use vane_report::{BarSeries, ReturnSeries, WindowBars};
    let labels: Vec<String> = windows.iter().map(|w| w.span.window.to_string()).collect();
    let bars = WindowBars {
        title: format!("{} per window: in-sample (validation slice) vs out-of-sample", metric.name()),
        metric: metric.name().into(),
        axis: "window".into(),
        labels: labels.clone(),
        series: vec![
            BarSeries::new("in-sample", windows.iter().map(|w| metric.of(&w.in_sample)).collect()),
            BarSeries::new("out-of-sample", windows.iter().map(|w| metric.of(&w.out_of_sample)).collect()),
        ],
        percent: metric == OptimizeMetric::TotalReturn || metric == OptimizeMetric::WinRate,
    };
    let stem = format!("window_{}", metric.name());
    vane_report::window_bars_png(&dir.join(format!("{stem}.png")), &bars)?;
    vane_report::window_bars_svg(&dir.join(format!("{stem}.svg")), &bars)?;
    let ret = WindowBars {
        title: "out-of-sample total return per window (after costs)".into(),
        metric: "total_return".into(),
        axis: "window".into(),
        labels,
        series: vec![BarSeries::new("out-of-sample", windows.iter().map(|w| w.out_of_sample.total_return).collect())],
        percent: true,
    };
    vane_report::window_bars_png(&dir.join("window_oos_total_return.png"), &ret)?;
    vane_report::window_bars_svg(&dir.join("window_oos_total_return.svg"), &ret)?;
    let times: Vec<i64> = returns.iter().map(|r| r.0).collect();
    let series = [
        ReturnSeries::new("stitched out-of-sample", returns.iter().map(|r| r.2).collect()),
        ReturnSeries::new("buy and hold", buy_and_hold.to_vec()),
    ];
    let title = "out-of-sample equity: the stitched strategy (after costs) vs buy and hold";
    vane_report::equity_png(&dir.join("oos_equity.png"), &times, &series, title)?;
    vane_report::equity_svg(&dir.join("oos_equity.svg"), &times, &series, title)?;
    let title = "out-of-sample drawdown (underwater): strategy vs buy and hold";
    vane_report::underwater_png(&dir.join("oos_underwater.png"), &times, &series, title)?;
    vane_report::underwater_svg(&dir.join("oos_underwater.svg"), &times, &series, title)?;
    Ok(())
}
