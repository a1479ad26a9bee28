//! Seed 001's training: `v1` features → fixed-horizon labels with θ chosen on a grid (HOLD-share
//! bounds, mean macro-F1 over purged walk-forward windows) → one GBDT across the symbols (the
//! `symbol` as an ordered-target-statistics categorical) → `min_conf` tuned on the most recent
//! validation window → artifacts.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use vane_artifact::ModelId;
use vane_calibration::{MulticlassCalibrator, MulticlassMethod};
use vane_core::{ClassProbs, Symbol};
use vane_costs::CostModel;
use vane_indicators::FeatureSet;
use vane_market_data::ParquetStore;
use vane_policy::optimize::{Constraints, min_conf};
use vane_tabular::{Dataset, Gbdt, GbdtConfig, Logistic, Objective, majority};
use vane_validation::metrics::sample_log_loss;
use vane_validation::{WalkForward, WindowUnit, horizon_spans};

use vane_labeling::fixed::classify;

use crate::artifacts::{
    EARLIER_BASE_RATE, FeatureSchema, GBDT, GBDT_CALIBRATED, Inference, LOGISTIC, MAJORITY, MIN_CALIBRATION_ROWS,
    ModelExtras, ModelMetrics, Scores, Trading, Verdict, WindowMetrics, write_model_dir,
};
use crate::config::{Mode, TrainConfig};
use crate::error::{PipelineError, Result};

/// One row of a [`Panel`]: a bar of one symbol with complete features and a forward return.
#[derive(Clone, Debug, PartialEq)]
pub struct PanelRow {
    /// Index into [`Panel::times`].
    pub time: usize,
    /// Index into [`Panel::symbols`].
    pub symbol: usize,
    /// The feature values, in [`Panel::names`]' order.
    pub features: Vec<f64>,
    /// `close[t+H]/close[t] − 1`.
    pub forward_return: f64,
}

/// Feature rows of several symbols on one time axis.
#[derive(Clone, Debug)]
pub struct Panel {
    /// Feature names.
    pub names: Vec<String>,
    /// The symbols.
    pub symbols: Vec<Symbol>,
    /// Distinct open times, ascending.
    pub times: Vec<i64>,
    /// Rows sorted by (time, symbol).
    pub rows: Vec<PanelRow>,
}

impl Panel {
    /// Reads each symbol from the store and keeps the bars with complete features and a
    /// forward return over `horizon`.
    pub fn build(store: &ParquetStore, cfg: &TrainConfig) -> Result<Self> {
        let set = FeatureSet::V1;
        let mut raw = Vec::new();
        for (s, sym) in cfg.symbols.iter().enumerate() {
            let bars = store.read(sym, cfg.interval)?;
            let frame = set.compute(&bars);
            let c = bars.close();
            for t in 0..bars.len().saturating_sub(cfg.horizon) {
                let x = frame.row(t);
                if x.iter().all(|v| v.is_finite()) {
                    let row =
                        PanelRow { time: 0, symbol: s, features: x, forward_return: c[t + cfg.horizon] / c[t] - 1.0 };
                    raw.push((bars.open_time()[t], row));
                }
            }
        }
        raw.sort_by_key(|(t, r)| (*t, r.symbol));
        let mut times: Vec<i64> = raw.iter().map(|r| r.0).collect();
        times.dedup();
        let rows = raw
            .into_iter()
            .map(|(t, row)| PanelRow { time: times.binary_search(&t).expect("collected"), ..row })
            .collect();
        Ok(Self { names: set.columns(), symbols: cfg.symbols.clone(), times, rows })
    }

    fn dataset(&self, idx: &[usize]) -> Dataset {
        Dataset {
            numeric_names: self.names.clone(),
            numeric: (0..self.names.len()).map(|j| idx.iter().map(|&i| self.rows[i].features[j]).collect()).collect(),
            categorical_names: vec!["symbol".into()],
            categorical: vec![idx.iter().map(|&i| self.symbols[self.rows[i].symbol].to_string()).collect()],
        }
    }

    fn forward_returns(&self) -> Vec<f64> {
        self.rows.iter().map(|r| r.forward_return).collect()
    }
}

/// What a training run produced.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TrainReport {
    /// Model id → its artifacts folder, in training order: `global`, or with
    /// [`TrainConfig::per_symbol`] one model per symbol (and no `global`).
    pub models: Vec<(String, std::path::PathBuf)>,
    /// The first model's θ (the global model's; with `per_symbol`, the first symbol's).
    pub theta: f64,
    /// The first model's walk-forward metrics.
    pub metrics: ModelMetrics,
    /// Every model's own metrics (its θ, windows and `min_conf`), by model id.
    pub by_model: BTreeMap<String, ModelMetrics>,
}

/// Progress of a training run, for [`train_with`]: called with the share done (0..=1) after each
/// fitted GBDT; returning `Break` cancels the run, which then fails with
/// [`PipelineError::Cancelled`] and writes nothing.
pub type ProgressHook<'a> = &'a mut dyn FnMut(f64) -> std::ops::ControlFlow<()>;

/// Counts the fits of one model among `models` and reports the overall share.
struct Ticker<'a, 'h> {
    hook: &'a mut ProgressHook<'h>,
    model: usize,
    models: usize,
    done: usize,
    total: usize,
}

impl Ticker<'_, '_> {
    /// The model's last fit: its share is complete whatever the θ search skipped.
    fn finish(&mut self) -> Result<()> {
        self.done = self.total - 1;
        self.tick()
    }

    fn tick(&mut self) -> Result<()> {
        self.done = (self.done + 1).min(self.total);
        let share = (self.model as f64 + self.done as f64 / self.total.max(1) as f64) / self.models.max(1) as f64;
        match (self.hook)(share.min(1.0)) {
            std::ops::ControlFlow::Continue(()) => Ok(()),
            std::ops::ControlFlow::Break(()) => Err(PipelineError::Cancelled),
        }
    }
}

/// A GBDT on `rows` (labels `y` by row), early-stopped on its log-loss over a validation slice:
/// the last `early_stopping_frac` of the rows' time steps, with the rows whose label reaches into
/// that slice (the horizon) purged from the rows fitted on. Plain (every tree) when early stopping
/// is off or the window cannot spare a slice of at least 10 rows beside 50 fitted ones.
fn fit_window(panel: &Panel, cfg: &TrainConfig, gbdt: &GbdtConfig, rows: &[usize], y: &[usize]) -> Result<Gbdt> {
    let labels = |r: &[usize]| r.iter().map(|&i| y[i] as f64).collect::<Vec<_>>();
    let plain = GbdtConfig { early_stopping_rounds: None, ..gbdt.clone() };
    let (Some(t0), Some(t1)) =
        (rows.iter().map(|&i| panel.rows[i].time).min(), rows.iter().map(|&i| panel.rows[i].time).max())
    else {
        return Ok(Gbdt::fit(&plain, &panel.dataset(rows), &labels(rows), None, None)?);
    };
    let held = (((t1 - t0 + 1) as f64) * cfg.early_stopping_frac).ceil() as usize;
    let cut = t1 + 1 - held.min(t1 + 1 - t0);
    let fit: Vec<usize> = rows.iter().copied().filter(|&i| panel.rows[i].time + cfg.horizon < cut).collect();
    let val: Vec<usize> = rows.iter().copied().filter(|&i| panel.rows[i].time >= cut).collect();
    if cfg.early_stopping_rounds == 0 || fit.len() < 50 || val.len() < 10 {
        return Ok(Gbdt::fit(&plain, &panel.dataset(rows), &labels(rows), None, None)?);
    }
    let es = GbdtConfig { early_stopping_rounds: Some(cfg.early_stopping_rounds), ..gbdt.clone() };
    let (dv, yv) = (panel.dataset(&val), labels(&val));
    Ok(Gbdt::fit(&es, &panel.dataset(&fit), &labels(&fit), None, Some((&dv, &yv)))?)
}

/// A window's test rows and the GBDT's, the logistic's and the majority's probabilities for them.
type WindowPreds = (Vec<usize>, [Vec<Vec<f64>>; 3]);

/// What acting on each window's decisions would have earned. Window k decides with a calibrator
/// and a `min_conf` chosen on windows 0..k only (identity and 0.5 for the first), never on the
/// window it is scored on; decisions go through `vane-policy` and the close-to-close backtest of
/// `vane-backtest` per symbol, with costs.
#[allow(clippy::too_many_arguments)]
fn trading(
    store: &ParquetStore,
    cfg: &TrainConfig,
    panel: &Panel,
    rets: &[f64],
    costs: &CostModel,
    per_window: &[WindowPreds],
    cals: &[Option<(MulticlassCalibrator, MulticlassMethod)>],
    windows: &mut [WindowMetrics],
) -> Result<()> {
    use vane_backtest::{Mapping, positions_from_signals};
    // Closes by (symbol, panel time).
    let mut closes: Vec<std::collections::HashMap<i64, f64>> = Vec::new();
    for s in &panel.symbols {
        let bars = store.read(s, cfg.interval)?;
        closes.push(bars.open_time().iter().copied().zip(bars.close().iter().copied()).collect());
    }
    let ppy = cfg.interval.periods_per_year();
    let names = [GBDT, LOGISTIC, MAJORITY];
    for (k, (te, probs)) in per_window.iter().enumerate() {
        // Calibrator and min_conf from the earlier windows only.
        let prior_rows: Vec<usize> = per_window[..k].iter().flat_map(|(t, _)| t.iter().copied()).collect();
        let prior_p: Vec<Vec<f64>> = per_window[..k].iter().flat_map(|(_, p)| p[0].iter().cloned()).collect();
        let cal = cals[k].as_ref().map(|c| &c.0);
        let calibrate = |p: &[f64]| cal.map_or_else(|| p.to_vec(), |c| c.apply(p));
        let mc = if prior_rows.is_empty() {
            0.5
        } else {
            let cp: Vec<ClassProbs> = prior_p
                .iter()
                .map(|p| ClassProbs::try_from_slice(&calibrate(p)))
                .collect::<std::result::Result<_, _>>()?;
            let pr: Vec<f64> = prior_rows.iter().map(|&i| rets[i]).collect();
            min_conf(&cp, &pr, costs, &Constraints::default())?.map_or(0.5, |c| c.long)
        };
        let policy = vane_policy::PolicyConfig {
            rule: vane_policy::Rule::MinConf { min_conf: mc },
            hysteresis: 0.0,
            cooldown_ms: 0,
        };
        // Each symbol's bars of the window once; each model's positions, and buy-and-hold.
        let mut rows: BTreeMap<&str, Vec<Backtested>> = BTreeMap::new();
        for (s, closes_s) in closes.iter().enumerate() {
            let idx: Vec<usize> = (0..te.len()).filter(|&j| panel.rows[te[j]].symbol == s).collect();
            if idx.len() < 2 {
                continue;
            }
            let times: Vec<vane_core::Timestamp> =
                idx.iter().map(|&j| vane_core::Timestamp(panel.times[panel.rows[te[j]].time])).collect();
            let close: Vec<f64> = times.iter().map(|t| closes_s.get(&t.0).copied().unwrap_or(f64::NAN)).collect();
            for (m, name) in names.iter().enumerate() {
                let inputs: Vec<vane_policy::Input> = idx
                    .iter()
                    .map(|&j| {
                        let p = if m == 0 { calibrate(&probs[m][j]) } else { probs[m][j].clone() };
                        ClassProbs::try_from_slice(&p).map(vane_policy::Input::Classes)
                    })
                    .collect::<std::result::Result<_, _>>()?;
                let signals = vane_policy::Policy::decide_all(policy, &times, &inputs)?;
                rows.entry(name)
                    .or_default()
                    .push((close.clone(), positions_from_signals(&signals, Mapping::HoldIsFlat)));
            }
            let hold = vec![1.0; close.len()];
            rows.entry("buy_and_hold").or_default().push((close, hold));
        }
        let mut out = BTreeMap::new();
        for (key, rows) in rows {
            out.insert(key.to_string(), trading_of(&rows, costs, ppy)?);
        }
        windows[k].trading = out;
        windows[k].min_conf = Some(mc);
    }
    Ok(())
}

/// Each window's calibrator as the shipped model would have had it then: chosen on the earlier
/// windows' out-of-sample rows only. `probs`/`y` are every window's out-of-sample rows in window
/// order, `lens` the windows' row counts. None (the identity) while the earlier rows number fewer
/// than [`MIN_CALIBRATION_ROWS`], or when the chooser refuses them. Used by the GBDT and the
/// sequence pipelines alike.
pub(crate) fn walk_forward_calibrators(
    probs: &[Vec<f64>],
    y: &[usize],
    lens: &[usize],
) -> Vec<Option<(MulticlassCalibrator, MulticlassMethod)>> {
    let mut start = 0;
    lens.iter()
        .map(|&len| {
            let earlier = start;
            start += len;
            if earlier < MIN_CALIBRATION_ROWS {
                return None;
            }
            vane_calibration::choose_multiclass_among(
                &probs[..earlier],
                &y[..earlier],
                0.3,
                &vane_calibration::PIPELINE_METHODS,
            )
            .ok()
            .map(|(cal, choice)| (cal, choice.chosen))
        })
        .collect()
}

/// The non-empty bins of a reliability table as the points `reliability.png` draws.
pub(crate) fn reliability_points(
    bins: &[vane_calibration::metrics::ReliabilityBin],
) -> Vec<vane_report::ReliabilityPoint> {
    bins.iter()
        .filter(|b| b.count > 0)
        .map(|b| vane_report::ReliabilityPoint { confidence: b.mean_predicted, accuracy: b.observed, count: b.count })
        .collect()
}

/// One symbol's closes over a window and the positions held.
type Backtested = (Vec<f64>, Vec<f64>);

/// The backtests of `rows` (closes and positions, one pair per symbol) averaged: mean net
/// return, mean of the defined Sharpes, trades summed, mean exposure.
fn trading_of(rows: &[Backtested], costs: &CostModel, ppy: f64) -> Result<Trading> {
    let ms = rows
        .iter()
        .map(|(close, pos)| {
            let bt = vane_backtest::run_positions(close, pos, costs).map_err(|e| PipelineError::Data(e.to_string()))?;
            Ok(bt.metrics(ppy))
        })
        .collect::<Result<Vec<_>>>()?;
    let n = ms.len() as f64;
    let sharpes: Vec<f64> = ms.iter().map(|x| x.sharpe).filter(|v| v.is_finite()).collect();
    Ok(Trading {
        net_return: ms.iter().map(|x| x.total_return).sum::<f64>() / n,
        sharpe: if sharpes.is_empty() { f64::NAN } else { sharpes.iter().sum::<f64>() / sharpes.len() as f64 },
        trades: ms.iter().map(|x| x.trade_count).sum(),
        exposure: ms.iter().map(|x| x.exposure).sum::<f64>() / n,
    })
}

/// Whether a model (`key` in the windows' scores) beats the base rate ([`MAJORITY`]): windows
/// won among those that score it, the pooled log-loss difference over `y`/`model`/`base` (the
/// same rows) with a 95 % paired-bootstrap interval (1,000 resamples, seeded), and the Brier
/// skill score on those rows. Windows without a `key` score (the GBDT's first windows, which have
/// no earlier out-of-sample rows to calibrate on) are named in the text and not counted.
pub(crate) fn verdict(
    windows: &[WindowMetrics],
    key: &str,
    y: &[usize],
    model: &[Vec<f64>],
    base: &[Vec<f64>],
    seed: u64,
) -> Result<Verdict> {
    let scored: Vec<&WindowMetrics> = windows.iter().filter(|w| w.scores.contains_key(key)).collect();
    let won = scored
        .iter()
        .filter(|w| match (w.scores.get(key), w.scores.get(MAJORITY)) {
            (Some(g), Some(b)) => g.log_loss < b.log_loss,
            _ => false,
        })
        .count();
    let diffs: Vec<f64> =
        y.iter().enumerate().map(|(i, &c)| sample_log_loss(&model[i], c) - sample_log_loss(&base[i], c)).collect();
    let n = diffs.len().max(1);
    let d = diffs.iter().sum::<f64>() / n as f64;
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed ^ 0xb007_57a9);
    let mut means: Vec<f64> = (0..1000)
        .map(|_| (0..n).map(|_| diffs[rand::Rng::random_range(&mut rng, 0..n)]).sum::<f64>() / n as f64)
        .collect();
    means.sort_by(f64::total_cmp);
    let ci = [means[25], means[974]];
    let brier_skill = 1.0 - Scores::of(y, model)?.brier / Scores::of(y, base)?.brier;
    let beats = ci[1] < 0.0;
    let skipped = windows.len() - scored.len();
    let unscored = match skipped {
        0 => String::new(),
        1 => " (the first window has no earlier out-of-sample rows to calibrate on and is not scored)".to_string(),
        k => format!(
            " (the first {k} windows have too few earlier out-of-sample rows to calibrate on and are not scored)"
        ),
    };
    let text = format!(
        "beats the base rate in {won} of {} windows{unscored}; pooled log-loss difference {d:+.4} (95 % CI {:+.4} … {:+.4}), Brier skill {brier_skill:+.3}: {}",
        scored.len(),
        ci[0],
        ci[1],
        if beats {
            "its probabilities beat the base rate"
        } else {
            "its probabilities do NOT beat the base rate (the majority baseline's are as good or better)"
        }
    );
    Ok(Verdict {
        vs_earlier_base_rate: None,
        windows_beating_base_rate: won,
        windows: scored.len(),
        log_loss_diff: d,
        log_loss_diff_ci95: ci,
        brier_skill,
        beats_base_rate: beats,
        text,
    })
}

/// Resampled label sets behind [`ece_noise`].
pub(crate) const ECE_NOISE_DRAWS: usize = 2000;

/// The pooled top-label ECE of `probs` against `y` beside the ECE sampling noise alone gives a
/// perfectly calibrated forecaster with these probabilities ([`ECE_NOISE_DRAWS`] draws, seeded).
pub(crate) fn ece_noise(y: &[usize], probs: &[Vec<f64>], seed: u64) -> Result<vane_calibration::metrics::EceNoise> {
    Ok(vane_calibration::metrics::ece_noise_top_label(y, probs, ECE_NOISE_DRAWS, seed)?)
}

/// One model fitted and evaluated, not yet written.
struct Fitted {
    id: ModelId,
    model: vane_tabular::Gbdt,
    cfg: TrainConfig,
    inference: Inference,
    metrics: ModelMetrics,
    extras: ModelExtras,
}

/// Trains seed 001's models and writes their artifacts under `artifacts_dir/models/`: one global
/// model across `cfg.symbols` (`models/global`), or with `cfg.per_symbol` one model per symbol
/// (`models/<SYMBOL>`, never `global`), each with its own walk-forward, θ and `min_conf` on its
/// own rows. Every model is fitted before any folder is written.
pub fn train(
    store: &ParquetStore,
    artifacts_dir: &std::path::Path,
    cfg: &TrainConfig,
    mode: Mode,
    permute_labels: bool,
) -> Result<TrainReport> {
    train_with(store, artifacts_dir, cfg, mode, permute_labels, &mut |_| std::ops::ControlFlow::Continue(()))
}

/// [`train`] with a progress hook that can cancel the run (the service's background jobs).
pub fn train_with(
    store: &ParquetStore,
    artifacts_dir: &std::path::Path,
    cfg: &TrainConfig,
    mode: Mode,
    permute_labels: bool,
    mut progress: ProgressHook<'_>,
) -> Result<TrainReport> {
    cfg.validate()?;
    let jobs: Vec<(TrainConfig, ModelId)> = if cfg.per_symbol {
        cfg.symbols
            .iter()
            .map(|sym| (TrainConfig { symbols: vec![sym.clone()], ..cfg.clone() }, ModelId::for_symbol(sym)))
            .collect()
    } else {
        vec![(cfg.clone(), ModelId::global())]
    };
    let models = jobs.len();
    let mut fitted = Vec::with_capacity(models);
    for (model, (one, id)) in jobs.into_iter().enumerate() {
        let mut ticker = Ticker { hook: &mut progress, model, models, done: 0, total: 1 };
        fitted.push(fit_one(store, &one, id, mode, permute_labels, &mut ticker)?);
    }
    let mut models = Vec::new();
    let mut by_model = BTreeMap::new();
    for f in &fitted {
        let schema = FeatureSchema::v1(f.cfg.interval, f.cfg.horizon);
        let dir =
            write_model_dir(artifacts_dir, &f.id, &f.model, &f.cfg, &schema, &f.inference, &f.metrics, &f.extras)?;
        models.push((f.id.to_string(), dir));
        by_model.insert(f.id.to_string(), f.metrics.clone());
    }
    let first = &fitted[0].metrics;
    Ok(TrainReport { models, theta: first.theta, metrics: first.clone(), by_model })
}

/// Fits and evaluates one model on `cfg.symbols`' rows.
fn fit_one(
    store: &ParquetStore,
    cfg: &TrainConfig,
    id: ModelId,
    mode: Mode,
    permute_labels: bool,
    ticker: &mut Ticker<'_, '_>,
) -> Result<Fitted> {
    let mut panel = Panel::build(store, cfg)?;
    if permute_labels {
        // The leakage alarm: shuffled targets must score at chance out of sample.
        let mut rets = panel.forward_returns();
        rets.shuffle(&mut rand::rngs::StdRng::seed_from_u64(cfg.seed ^ 0x5eed));
        for (row, r) in panel.rows.iter_mut().zip(rets) {
            row.forward_return = r;
        }
    }
    let folds = WalkForward {
        unit: WindowUnit::Bars,
        train: cfg.train_bars,
        test: cfg.test_bars,
        step: cfg.test_bars,
        expanding: false,
        gap: cfg.gap,
    }
    .folds(&(0..panel.times.len() as i64).collect::<Vec<_>>(), &horizon_spans(panel.times.len(), cfg.horizon))?;
    if folds.is_empty() {
        return Err(PipelineError::Data(format!(
            "{} time steps are too few for a walk-forward of {} training + {} validation bars",
            panel.times.len(),
            cfg.train_bars,
            cfg.test_bars
        )));
    }
    let rows_in = |ranges: &[std::ops::Range<usize>]| -> Vec<usize> {
        (0..panel.rows.len()).filter(|&i| ranges.iter().any(|r| r.contains(&panel.rows[i].time))).collect()
    };
    let fold_rows: Vec<(Vec<usize>, Vec<usize>)> =
        folds.iter().map(|f| (rows_in(&f.train), rows_in(std::slice::from_ref(&f.test)))).collect();
    let (steps, iterations) = match mode {
        Mode::Quality => (cfg.theta_steps_quality, cfg.iterations_quality),
        Mode::Fast => (cfg.theta_steps_fast, cfg.iterations_fast),
    };
    // Fits: the θ search (at most steps × windows), the report (windows) and the final model.
    ticker.total = steps * folds.len() + folds.len() + 1;
    let gbdt_cfg = GbdtConfig {
        objective: Objective::Multiclass { classes: 3 },
        iterations,
        learning_rate: cfg.learning_rate,
        depth: cfg.depth,
        early_stopping_rounds: None,
        seed: cfg.seed,
        ..GbdtConfig::default()
    };
    let search = vane_labeling::fixed::ThetaSearch {
        theta_min: cfg.theta_min,
        theta_max: cfg.theta_max,
        steps,
        hold_min: cfg.hold_min,
        hold_max: cfg.hold_max,
    };
    // θ search: mean macro-F1 over the walk-forward windows, within the HOLD-share bounds.
    let rets = panel.forward_returns();
    let mut run_search = |search: &vane_labeling::fixed::ThetaSearch| {
        search.run_on_returns::<PipelineError>(&rets, |_, classes| {
            let y: Vec<usize> = classes.iter().map(|c| c.class_index()).collect();
            let mut f1s = Vec::new();
            for (tr, te) in &fold_rows {
                let m = fit_window(&panel, cfg, &gbdt_cfg, tr, &y)?;
                let p = m.predict_proba(&panel.dataset(te))?;
                ticker.tick()?;
                f1s.push(Scores::of(&te.iter().map(|&i| y[i]).collect::<Vec<_>>(), &p)?.macro_f1);
            }
            Ok(f1s.iter().sum::<f64>() / f1s.len() as f64)
        })
    };
    let mut result = run_search(&search)?;
    // A best θ at an edge of the grid may be cut short by it: say so, and in quality mode widen
    // the grid once on that side.
    let at_edge = |r: &vane_labeling::fixed::ThetaResult| {
        r.best.is_some_and(|b| {
            r.candidates.len() > 1
                && (r.candidates.first().is_some_and(|c| c.theta == b.theta)
                    || r.candidates.last().is_some_and(|c| c.theta == b.theta))
        })
    };
    let mut widened = None;
    if mode == Mode::Quality && at_edge(&result) {
        let best = result.best.map(|b| b.theta).unwrap_or_default();
        let (lo, hi) = if best == cfg.theta_min {
            (cfg.theta_min / 2.0, cfg.theta_max)
        } else {
            (cfg.theta_min, (cfg.theta_max * 2.0).min(0.5))
        };
        let wider = vane_labeling::fixed::ThetaSearch { theta_min: lo, theta_max: hi, ..search };
        result = run_search(&wider)?;
        widened = Some([lo, hi]);
    }
    let theta_at_edge = at_edge(&result);
    let Some(best) = result.best else {
        return Err(PipelineError::Data(format!(
            "no θ in [{}, {}] gives a HOLD share within [{}, {}]: widen the bounds",
            cfg.theta_min, cfg.theta_max, cfg.hold_min, cfg.hold_max
        )));
    };
    let (theta, candidates) = (best.theta, result.candidates);
    // Walk-forward report at the chosen θ, with the baselines.
    let y: Vec<usize> = rets.iter().map(|&r| classify(r, theta, -theta).class_index()).collect();
    let mut windows = Vec::new();
    let mut last_probs = Vec::new();
    // Each window's test rows and the three models' probabilities, for the trading figures.
    let mut per_window: Vec<WindowPreds> = Vec::new();
    // Every out-of-sample row of every window, for the pooled scores and the verdict.
    let mut pooled_y = Vec::new();
    let mut pooled: BTreeMap<String, Vec<Vec<f64>>> = BTreeMap::new();
    for ((tr, te), fold) in fold_rows.iter().zip(&folds) {
        let ytr: Vec<usize> = tr.iter().map(|&i| y[i]).collect();
        let yte: Vec<usize> = te.iter().map(|&i| y[i]).collect();
        let (dtr, dte) = (panel.dataset(tr), panel.dataset(te));
        let m = fit_window(&panel, cfg, &gbdt_cfg, tr, &y)?;
        let p = m.predict_proba(&dte)?;
        ticker.tick()?;
        let lp = Logistic::fit(&dtr, &ytr, 3, 1.0)?.predict_proba(&dte)?;
        let base = majority(&ytr, 3);
        pooled_y.extend_from_slice(&yte);
        pooled.entry(GBDT.to_string()).or_default().extend(p.iter().cloned());
        pooled.entry(LOGISTIC.to_string()).or_default().extend(lp.iter().cloned());
        pooled.entry(MAJORITY.to_string()).or_default().extend(std::iter::repeat_n(base.clone(), yte.len()));
        windows.push(WindowMetrics {
            trees: m.trees(),
            trading: BTreeMap::new(),
            min_conf: None,
            calibrator: None,
            train_rows: tr.len(),
            test_rows: te.len(),
            test_first_open_time_ms: panel.times[fold.test.start],
            test_last_open_time_ms: panel.times[fold.test.end - 1],
            scores: BTreeMap::from([
                (GBDT.to_string(), Scores::of(&yte, &p)?),
                (LOGISTIC.to_string(), Scores::of(&yte, &lp)?),
                (MAJORITY.to_string(), Scores::of(&yte, &vec![base.clone(); yte.len()])?),
            ]),
        });
        per_window.push((te.clone(), [p.clone(), lp.clone(), vec![base.clone(); te.len()]]));
        last_probs = te.iter().copied().zip(p).collect::<Vec<_>>();
    }
    // The shipped model as it would have been in each window: calibrated by what the earlier
    // windows alone chose.
    // (pooled rows are in window order, as the loop above appended them.)
    let lens: Vec<usize> = per_window.iter().map(|(te, _)| te.len()).collect();
    let cals = walk_forward_calibrators(&pooled[GBDT], &pooled_y, &lens);
    // The rows the shipped model is scored on: those of windows with a calibrator.
    let (mut cal_y, mut cal_base, mut cal_raw) = (Vec::new(), Vec::new(), Vec::new());
    let mut start = 0;
    for (k, (te, probs)) in per_window.iter().enumerate() {
        let earlier = start;
        start += te.len();
        let Some((cal, method)) = &cals[k] else { continue };
        windows[k].calibrator = Some(*method);
        let cp = cal.apply_all(&probs[0]);
        let yte: Vec<usize> = te.iter().map(|&i| y[i]).collect();
        windows[k].scores.insert(GBDT_CALIBRATED.to_string(), Scores::of(&yte, &cp)?);
        pooled.entry(GBDT_CALIBRATED.to_string()).or_default().extend(cp);
        let mut counts = [1.0f64; 3];
        pooled_y[..earlier].iter().for_each(|&c| counts[c] += 1.0);
        let total: f64 = counts.iter().sum();
        let earlier = vec![counts.iter().map(|c| c / total).collect::<Vec<f64>>(); yte.len()];
        windows[k].scores.insert(EARLIER_BASE_RATE.to_string(), Scores::of(&yte, &earlier)?);
        pooled.entry(EARLIER_BASE_RATE.to_string()).or_default().extend(earlier);
        cal_y.extend(yte);
        cal_base.extend(probs[2].iter().cloned());
        cal_raw.extend(probs[0].iter().cloned());
    }
    // The calibrator: chosen on the out-of-sample predictions only (rows no window model was
    // fitted on, and not the early-stopping slices), by held-out log-loss, time-ordered.
    let (calibrator, cal_choice) =
        vane_calibration::choose_multiclass_among(&pooled[GBDT], &pooled_y, 0.3, &vane_calibration::PIPELINE_METHODS)?;
    let reliability_bins = vane_calibration::metrics::reliability_top_label(&pooled_y, &pooled[GBDT], 10)?;
    let reliability = reliability_points(&reliability_bins);
    // The shipped model's reliability: the calibrated rows (what `ece_noise` and
    // `pooled["gbdt_calibrated"]` score).
    let reliability_calibrated_bins = match pooled.get(GBDT_CALIBRATED) {
        Some(cp) => vane_calibration::metrics::reliability_top_label(&cal_y, cp, 10)?,
        None => Vec::new(),
    };
    // min_conf on the most recent validation window's calibrated probabilities, by net edge
    // after costs.
    let costs = CostModel::new(cfg.fee_bps, cfg.slip_bps).map_err(|e| PipelineError::Config(e.to_string()))?;
    trading(store, cfg, &panel, &rets, &costs, &per_window, &cals, &mut windows)?;
    let probs: Vec<ClassProbs> = last_probs
        .iter()
        .map(|(_, p)| ClassProbs::try_from_slice(&calibrator.apply(p)))
        .collect::<std::result::Result<_, _>>()?;
    let last_rets: Vec<f64> = last_probs.iter().map(|(i, _)| rets[*i]).collect();
    let choice = min_conf(&probs, &last_rets, &costs, &Constraints::default())?;
    // The final model on every row, with the median of the windows' early-stopped tree counts.
    let mut trees: Vec<usize> = windows.iter().map(|w| w.trees).collect();
    trees.sort_unstable();
    let final_trees = if cfg.early_stopping_rounds > 0 { trees[trees.len() / 2].max(1) } else { iterations };
    let mut metrics = ModelMetrics::new(theta, candidates, windows, choice);
    // (The calibrated GBDT pools only the windows that had a calibrator.)
    metrics.pooled = pooled
        .iter()
        .map(|(name, p)| {
            let ys = if name == GBDT_CALIBRATED || name == EARLIER_BASE_RATE { &cal_y } else { &pooled_y };
            Ok((name.clone(), Scores::of(ys, p)?))
        })
        .collect::<Result<_>>()?;
    // The shipped (calibrated) model on the windows that had a calibrator; the raw GBDT on every
    // window when none had (too few windows).
    metrics.ece_noise = Some(match pooled.get(GBDT_CALIBRATED) {
        Some(cp) => ece_noise(&cal_y, cp, cfg.seed)?.with_uncalibrated(&cal_y, &cal_raw)?,
        None => ece_noise(&pooled_y, &pooled[GBDT], cfg.seed)?,
    });
    metrics.verdict = Some(match pooled.get(GBDT_CALIBRATED) {
        Some(cp) => {
            let mut v = verdict(&metrics.windows, GBDT_CALIBRATED, &cal_y, cp, &cal_base, cfg.seed)?;
            // The same question against the base rate of the earlier windows alone: does the
            // model add anything beyond a more recent base rate?
            let e = verdict(&metrics.windows, GBDT_CALIBRATED, &cal_y, cp, &pooled[EARLIER_BASE_RATE], cfg.seed)?;
            v.text += &format!(
                "; against the earlier windows' base rate {:+.4} (95 % CI {:+.4} … {:+.4}): {}",
                e.log_loss_diff,
                e.log_loss_diff_ci95[0],
                e.log_loss_diff_ci95[1],
                match (e.beats_base_rate, v.beats_base_rate) {
                    (true, _) => "the model adds to it",
                    (false, true) => {
                        "the model adds nothing beyond it (its edge over the majority baseline is the more recent base rate's)"
                    }
                    (false, false) => "the model adds nothing beyond it either",
                }
            );
            v.vs_earlier_base_rate = Some([e.log_loss_diff, e.log_loss_diff_ci95[0], e.log_loss_diff_ci95[1]]);
            v
        }
        None => verdict(&metrics.windows, GBDT, &pooled_y, &pooled[GBDT], &pooled[MAJORITY], cfg.seed)?,
    });
    metrics.theta_at_edge = theta_at_edge;
    metrics.theta_grid_widened = widened;
    metrics.trees = final_trees;
    metrics.calibration = Some(cal_choice.clone());
    metrics.reliability = reliability_bins;
    let extras = ModelExtras {
        calibration: Some(vane_calibration::CalibrationFile::from_multiclass(calibrator, cal_choice)),
        reliability,
        reliability_calibrated: reliability_points(&reliability_calibrated_bins),
    };
    metrics.reliability_calibrated = reliability_calibrated_bins;
    let all: Vec<usize> = (0..panel.rows.len()).collect();
    let yv: Vec<f64> = all.iter().map(|&i| y[i] as f64).collect();
    let shipped = GbdtConfig { iterations: final_trees, early_stopping_rounds: None, ..gbdt_cfg.clone() };
    let model = Gbdt::fit(&shipped, &panel.dataset(&all), &yv, None, None)?;
    ticker.finish()?;
    let inference = Inference::new(id.as_str(), theta, metrics.min_conf, cfg, panel.times.last().copied());
    Ok(Fitted { id, model, cfg: cfg.clone(), inference, metrics, extras })
}
