//! The walk-forward out-of-sample report of a sequence classification job, and the calibrator
//! fitted on its pooled predictions.
//!
//! Expanding windows: the labelled time axis (the open times of every labelled window, all
//! symbols) is split into `K + 1` equal blocks. Window `i` (1..=K) tests on block `i`; it trains
//! on the samples whose whole label span ends before block `i` starts (purged by the horizon),
//! early-stops on an inner validation slice — the last `valid_frac` of that training part, itself
//! purged from the rows it trains on — and fits its normaliser (and percentile thresholds) on its
//! training rows only. Each window is scored beside the majority baseline (the class frequencies
//! of its training part), the scores are pooled over every out-of-sample row, the verdict says
//! whether the model beats the base rate, and `vane_calibration::choose_multiclass_among` (the pipeline candidates) is fitted on
//! the pooled out-of-sample predictions only.
//!
//! Binary labels (dead zone `down`/`up`, ladder `loss`/`profit`) run the same windows with two
//! classes: the scores are of the (P(down), P(up)) rows, the base rate is the training part's
//! share of class 1, [`BinaryWalkForward`] adds the pooled log-loss against that base rate and
//! the ECE of P(up) before and after calibration, the reliability table is of P(up), and the
//! shipped calibrator is a binary one (`vane_calibration::fit_binary`, `Method::Auto`: Platt or
//! isotonic by held-out log-loss, with fallback) on P(up). The out-of-sample signals follow the
//! job's binary decision rule ([`Decision::decide_binary`](crate::sequence_predictor::Decision::decide_binary)).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use vane_calibration::metrics::ReliabilityBin;
use vane_calibration::{CalibrationFile, MulticlassChoice};
use vane_core::Signal;
use vane_labeling::percentile::PercentileThresholds;
use vane_models::data::{Sample, WindowedDataset};
use vane_models::train::{Quiet, TrainInputs, fit, loss_settings, predict};
use vane_models::{ModelConfig, Task, TrainConfig};

use crate::artifacts::{MAJORITY, Scores, Verdict, WindowMetrics};
use crate::error::{PipelineError, Result};
use crate::sequence::{Candidate, RawData, SequenceData, assign_classes, normalised};
use crate::sequence_metrics::{ClassificationMetrics, RegressionMetrics};

/// Which candidates one walk-forward window uses (indices into the candidate list).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WindowPlan {
    /// Window number, 1..=K (the test block's index).
    pub window: usize,
    /// First open time of the test block (inclusive).
    pub test_start_ms: i64,
    /// End of the test block (exclusive; `i64::MAX` for the last block).
    pub test_end_ms: i64,
    /// Open time where the inner validation slice starts.
    pub inner_cut_ms: i64,
    /// Samples the window's model is fitted on: label end < `inner_cut_ms`.
    pub train: Vec<usize>,
    /// The inner validation slice (early stopping): open time ≥ `inner_cut_ms` and label end <
    /// `test_start_ms`.
    pub inner_valid: Vec<usize>,
    /// The test block: `test_start_ms` ≤ open time < `test_end_ms`.
    pub test: Vec<usize>,
}

/// Plans `k` expanding windows over candidates with open times `times` and label-end open times
/// `label_ends` (same length). Errors name `data.walk_forward` when a window would be empty.
pub fn plan_windows(times: &[i64], label_ends: &[i64], k: usize, valid_frac: f64) -> Result<Vec<WindowPlan>> {
    let mut sorted = times.to_vec();
    sorted.sort_unstable();
    let n = sorted.len();
    let blocks = k + 1;
    let bound = |i: usize| if i >= blocks { i64::MAX } else { sorted[n * i / blocks] };
    let mut out = Vec::with_capacity(k);
    for w in 1..=k {
        let (start, end) = (bound(w), bound(w + 1));
        let eligible: Vec<usize> = (0..times.len()).filter(|&i| label_ends[i] < start).collect();
        let mut et: Vec<i64> = eligible.iter().map(|&i| times[i]).collect();
        et.sort_unstable();
        let inner_cut = et.get(((et.len() as f64) * (1.0 - valid_frac)) as usize).copied().unwrap_or(start);
        let train: Vec<usize> = eligible.iter().copied().filter(|&i| label_ends[i] < inner_cut).collect();
        let inner_valid: Vec<usize> = eligible.iter().copied().filter(|&i| times[i] >= inner_cut).collect();
        let test: Vec<usize> = (0..times.len()).filter(|&i| times[i] >= start && times[i] < end).collect();
        if train.is_empty() || inner_valid.is_empty() || test.is_empty() {
            return Err(PipelineError::Data(format!(
                "data.walk_forward = {k}: window {w} would have {} training, {} early-stopping and {} test samples \
                 ({n} labelled windows in all); lower data.walk_forward (--walk-forward), use more bars, or set it \
                 to 0 to skip the out-of-sample report",
                train.len(),
                inner_valid.len(),
                test.len()
            )));
        }
        out.push(WindowPlan {
            window: w,
            test_start_ms: start,
            test_end_ms: end,
            inner_cut_ms: inner_cut,
            train,
            inner_valid,
            test,
        });
    }
    Ok(out)
}

/// One walk-forward window of a sequence model, as `metrics.json` reports it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SequenceWindow {
    /// Samples the window's model was fitted on.
    pub train_rows: usize,
    /// Samples of its inner early-stopping slice.
    pub inner_valid_rows: usize,
    /// Test samples.
    pub test_rows: usize,
    /// The latest label end (open time) among the fitted samples: before `inner_valid_first_ms`.
    pub train_label_end_max_ms: i64,
    /// Where the inner early-stopping slice starts (open time).
    pub inner_valid_first_ms: i64,
    /// The test block's first sample (open time).
    pub test_first_open_time_ms: i64,
    /// The test block's last sample (open time).
    pub test_last_open_time_ms: i64,
    /// Best epoch on the inner slice (1-based) and epochs run.
    pub best_epoch: usize,
    /// See `best_epoch`.
    pub epochs_run: usize,
    /// Percentile labels: the thresholds fitted on this window's training rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percentile: Option<PercentileThresholds>,
    /// Scores by model name: the model kind (e.g. `hrm`, raw softmax), `majority`, and
    /// `<kind>_calibrated` — the window's probabilities through the calibrator chosen on the
    /// earlier windows' out-of-sample rows only (absent from windows with fewer than
    /// [`MIN_CALIBRATION_ROWS`](crate::artifacts::MIN_CALIBRATION_ROWS) earlier rows; always from the first).
    pub scores: BTreeMap<String, Scores>,
    /// The calibration method behind `<kind>_calibrated` (None: not scored so).
    #[serde(default)]
    pub calibrator: Option<vane_calibration::MulticlassMethod>,
}

/// The `walk_forward` section of a sequence model's `metrics.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WalkForwardReport {
    /// K.
    pub k: usize,
    /// The model's name in the score tables (its kind).
    pub model: String,
    /// Trained on shuffled targets (`--permute-labels`): the scores must sit at chance.
    pub permuted_labels: bool,
    /// Per window.
    pub windows: Vec<SequenceWindow>,
    /// Means over the windows, by model name.
    pub mean: BTreeMap<String, Scores>,
    /// Every out-of-sample prediction pooled, by model name (uncalibrated).
    pub pooled: BTreeMap<String, Scores>,
    /// Whether the model beats the base rate (windows won, pooled log-loss difference with a 95 %
    /// paired-bootstrap interval, Brier skill).
    pub verdict: Verdict,
    /// Rows `calibration.json` was fitted on: the pooled out-of-sample rows, nothing else.
    pub calibration_rows: usize,
    /// How the shipped calibrator was chosen (every candidate's held-out log-loss, the reason);
    /// `None` for binary labels (see `binary.calibration`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration: Option<MulticlassChoice>,
    /// Binary labels: log-loss against the base rate, ECE before and after calibration, the
    /// binary calibrator's choice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binary: Option<BinaryWalkForward>,
    /// Reliability table of the pooled out-of-sample probabilities (top label, 10 bins; binary
    /// labels: of P(up)), what `reliability.png` draws.
    pub reliability: Vec<ReliabilityBin>,
    /// The same table of the shipped model as it would have been: the `<kind>_calibrated`
    /// probabilities of the windows scored through a calibrator chosen on the earlier windows
    /// alone (top label; binary labels: calibrated P(up)). Its counts sum to `ece_noise.rows`;
    /// its ECE is `pooled["<kind>_calibrated"].ece` (binary: `binary.calibrated_ece`). Empty
    /// when no window was calibrated (and in older files).
    #[serde(default)]
    pub reliability_calibrated: Vec<ReliabilityBin>,
    /// Seed 004's classification scores of the pooled out-of-sample predictions (uncalibrated):
    /// accuracy, precision, recall, F1, ROC-AUC.
    #[serde(default)]
    pub classification: Option<ClassificationMetrics>,
    /// The pooled top-label ECE of the verdict's rows (the calibrated windows', else the raw
    /// probabilities') beside what sampling noise alone gives a perfectly calibrated forecaster
    /// with the same probabilities (absent in older files).
    #[serde(default)]
    pub ece_noise: Option<vane_calibration::metrics::EceNoise>,
}

/// The binary part of a walk-forward report (two-class labels), pooled over every
/// out-of-sample row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BinaryWalkForward {
    /// The class names, class 1 last (`["down", "up"]`, `["loss", "profit"]`).
    pub classes: Vec<String>,
    /// Out-of-sample rows.
    pub n: usize,
    /// Share of class 1 among the out-of-sample rows.
    pub oos_positive_rate: f64,
    /// The training base rate (share of class 1 of each window's training part), averaged over
    /// the out-of-sample rows.
    pub base_rate: f64,
    /// Log-loss of the model's P(up) (uncalibrated).
    pub log_loss: f64,
    /// Log-loss of always predicting each window's training base rate.
    pub base_rate_log_loss: f64,
    /// `log_loss − base_rate_log_loss` (< 0: the model beats the base rate).
    pub log_loss_vs_base_rate: f64,
    /// ROC-AUC of P(up) (None when one class is absent).
    pub roc_auc: Option<f64>,
    /// ECE (10 bins) of the uncalibrated P(up).
    pub ece: f64,
    /// Rows scored through a calibrator fitted on earlier windows' out-of-sample rows only (the
    /// first window's rows never are).
    pub calibrated_rows: usize,
    /// Log-loss of those rows, calibrated (None: no window was calibrated).
    pub calibrated_log_loss: Option<f64>,
    /// Log-loss of the same rows uncalibrated (to compare with `calibrated_log_loss`).
    pub calibrated_rows_raw_log_loss: Option<f64>,
    /// ECE of those rows, calibrated.
    pub calibrated_ece: Option<f64>,
    /// ECE of the same rows uncalibrated.
    pub calibrated_rows_raw_ece: Option<f64>,
    /// How the shipped binary calibrator (`calibration.json`) was chosen on the pooled rows.
    pub calibration: vane_calibration::Choice,
    /// The out-of-sample signals' rule (P(up) thresholds).
    pub rule: String,
}

/// The walk-forward report and what ships from it.
#[derive(Debug)]
pub(crate) struct WalkForwardOutcome {
    pub(crate) report: WalkForwardReport,
    /// Every out-of-sample prediction: (candidate index, argmax signal).
    pub(crate) oos: Vec<(usize, Signal)>,
    pub(crate) calibration: CalibrationFile,
    pub(crate) reliability: Vec<vane_report::ReliabilityPoint>,
    /// Every out-of-sample prediction with its symbol, time and realised target.
    pub(crate) rows: Vec<crate::sequence_oos::OosPrediction>,
    /// The bars each window's splits used.
    pub(crate) splits: Vec<crate::sequence_oos::SplitUse>,
}

/// Softmax outputs (f32) as probability rows summing to 1 in f64.
pub(crate) fn prob_rows(probs: &[Vec<f32>]) -> Vec<Vec<f64>> {
    probs
        .iter()
        .map(|p| {
            let s: f64 = p.iter().map(|&v| f64::from(v)).sum();
            p.iter().map(|&v| f64::from(v) / s).collect()
        })
        .collect()
}

/// Runs the walk-forward of a classification job (`d.walk_forward` windows).
pub(crate) fn run(
    raw: &RawData,
    d: &SequenceData,
    mcfg: &ModelConfig,
    tcfg: &TrainConfig,
    decision: &crate::sequence_predictor::Decision,
    device: &burn::tensor::Device,
) -> Result<WalkForwardOutcome> {
    let k = d.label.n_classes();
    let binary = d.label.is_binary();
    let name = mcfg.kind().to_string();
    let times: Vec<i64> = raw.cands.iter().map(|c| c.time).collect();
    let ends: Vec<i64> = raw.cands.iter().map(|c| c.label_end).collect();
    let plans = plan_windows(&times, &ends, d.walk_forward, d.valid_frac)?;
    let mut windows = Vec::with_capacity(plans.len());
    let mut pooled_y = Vec::new();
    let mut pooled_model: Vec<Vec<f64>> = Vec::new();
    let mut pooled_base: Vec<Vec<f64>> = Vec::new();
    let mut for_verdict = Vec::with_capacity(plans.len());
    let mut oos = Vec::new();
    let (mut oos_rows, mut splits) = (Vec::new(), Vec::new());
    for plan in &plans {
        let mut cands: Vec<Candidate> = raw.cands.clone();
        let percentile = assign_classes(d, &mut cands, &plan.train)?;
        let samples = |idx: &[usize]| -> Vec<Sample> {
            idx.iter()
                .map(|&i| Sample {
                    end: cands[i].row,
                    target: vane_models::data::Target {
                        class: cands[i].class,
                        value: cands[i].value,
                        weight: cands[i].weight,
                    },
                })
                .collect()
        };
        let (matrix, _) = normalised(raw, d.normaliser, plan.inner_cut_ms)?;
        let train = WindowedDataset::new(&matrix, d.seq_len, samples(&plan.train), Some(k))?;
        let valid = WindowedDataset::new(&matrix, d.seq_len, samples(&plan.inner_valid), Some(k))?;
        let test = WindowedDataset::new(&matrix, d.seq_len, samples(&plan.test), Some(k))?;
        let inputs = TrainInputs {
            model: mcfg,
            config: tcfg,
            train: &train,
            valid: &valid,
            checkpoint_dir: None,
            resume: false,
            context: None,
        };
        let outcome = fit(&inputs, device, &mut Quiet)?;
        let settings = loss_settings(tcfg, outcome.class_weights.clone());
        let tp = predict(&outcome.model, mcfg, &test, Task::Classification, &settings, 256, device);
        let p = prob_rows(&tp.probs);
        let y: Vec<usize> = plan.test.iter().map(|&i| cands[i].class).collect();
        // The base rate: the class frequencies of the window's training part (fitted and
        // early-stopping rows).
        let ytr: Vec<usize> = plan.train.iter().chain(&plan.inner_valid).map(|&i| cands[i].class).collect();
        let base = vane_tabular::majority(&ytr, k);
        let bp = vec![base; y.len()];
        let (sm, sb) = (Scores::of(&y, &p)?, Scores::of(&y, &bp)?);
        let first = plan.test.iter().map(|&i| times[i]).min().unwrap_or(plan.test_start_ms);
        let last = plan.test.iter().map(|&i| times[i]).max().unwrap_or(plan.test_start_ms);
        for_verdict.push(WindowMetrics {
            train_rows: plan.train.len(),
            test_rows: y.len(),
            test_first_open_time_ms: first,
            test_last_open_time_ms: last,
            scores: BTreeMap::from([(name.clone(), sm), (MAJORITY.to_string(), sb)]),
            trees: 0,
            trading: BTreeMap::new(),
            min_conf: None,
            calibrator: None,
        });
        windows.push(SequenceWindow {
            train_rows: plan.train.len(),
            inner_valid_rows: plan.inner_valid.len(),
            test_rows: y.len(),
            train_label_end_max_ms: plan.train.iter().map(|&i| ends[i]).max().unwrap_or(i64::MIN),
            inner_valid_first_ms: plan.inner_valid.iter().map(|&i| times[i]).min().unwrap_or(plan.inner_cut_ms),
            test_first_open_time_ms: first,
            test_last_open_time_ms: last,
            best_epoch: outcome.best_epoch,
            epochs_run: outcome.history.len(),
            percentile,
            scores: BTreeMap::from([(name.clone(), sm), (MAJORITY.to_string(), sb)]),
            calibrator: None,
        });
        if binary {
            // The job's binary decision rule on P(up).
            oos.extend(plan.test.iter().zip(&p).map(|(&i, r)| (i, decision.decide_binary(r[1]))));
        } else {
            for (&i, c) in plan.test.iter().zip(tp.classes()) {
                oos.push((i, Signal::ALL[c]));
            }
        }
        // For stores (model_predictions, training_sequences): the score P(BUY) − P(SELL); P(up)
        // for binary labels.
        let score: Vec<f64> = p.iter().map(|r| if binary { r[1] } else { r[0] - r[1] }).collect();
        oos_rows.extend(crate::sequence_oos::oos_rows(raw, d, &cands, windows.len(), &plan.test, &score, Some(&p)));
        for (idx, split) in [(&plan.train, "train"), (&plan.inner_valid, "validation"), (&plan.test, "test")] {
            let rows = idx.iter().map(|&i| cands[i].row);
            splits.extend(crate::sequence_oos::split_uses(raw, d, rows, windows.len(), split));
        }
        pooled_y.extend_from_slice(&y);
        pooled_model.extend(p);
        pooled_base.extend(bp);
    }
    // The shipped model as it would have been in each window: the window's probabilities through
    // the calibrator chosen on the earlier windows' out-of-sample rows only (windows with fewer
    // than MIN_CALIBRATION_ROWS earlier rows are not scored so).
    let calibrated_name = format!("{name}_calibrated");
    let (mut cal_y, mut cal_model, mut cal_base) = (Vec::new(), Vec::new(), Vec::new());
    let lens: Vec<usize> = windows.iter().map(|w| w.test_rows).collect();
    let cals: Vec<Option<(WindowCalibrator, Option<vane_calibration::MulticlassMethod>)>> = if binary {
        binary_walk_forward_calibrators(&pooled_model, &pooled_y, &lens)
            .into_iter()
            .map(|c| c.map(|c| (WindowCalibrator::Binary(c), None)))
            .collect()
    } else {
        crate::train::walk_forward_calibrators(&pooled_model, &pooled_y, &lens)
            .into_iter()
            .map(|c| c.map(|(cal, chosen)| (WindowCalibrator::Multi(cal), Some(chosen))))
            .collect()
    };
    let mut offset = 0;
    let mut raw_cal_rows: Vec<Vec<f64>> = Vec::new();
    for (i, (w, c)) in windows.iter_mut().zip(cals).enumerate() {
        let rows = offset..offset + w.test_rows;
        offset += w.test_rows;
        let Some((cal, chosen)) = c else { continue };
        let cp = cal.apply_all(&pooled_model[rows.clone()]);
        raw_cal_rows.extend_from_slice(&pooled_model[rows.clone()]);
        let sc = Scores::of(&pooled_y[rows.clone()], &cp)?;
        w.scores.insert(calibrated_name.clone(), sc);
        w.calibrator = chosen;
        for_verdict[i].scores.insert(calibrated_name.clone(), sc);
        for_verdict[i].calibrator = chosen;
        cal_y.extend_from_slice(&pooled_y[rows.clone()]);
        cal_model.extend(cp);
        cal_base.extend_from_slice(&pooled_base[rows]);
    }
    // The GBDT report's verdict: on the calibrated windows when there are any, else on the raw
    // probabilities of every window.
    let ece_noise = Some(if cal_y.is_empty() {
        crate::train::ece_noise(&pooled_y, &pooled_model, tcfg.seed)?
    } else {
        crate::train::ece_noise(&cal_y, &cal_model, tcfg.seed)?.with_uncalibrated(&cal_y, &raw_cal_rows)?
    });
    let verdict = if cal_y.is_empty() {
        crate::train::verdict(&for_verdict, &name, &pooled_y, &pooled_model, &pooled_base, tcfg.seed)?
    } else {
        crate::train::verdict(&for_verdict, &calibrated_name, &cal_y, &cal_model, &cal_base, tcfg.seed)?
    };
    let mean: BTreeMap<String, Scores> = [name.as_str(), MAJORITY]
        .iter()
        .map(|n| (n.to_string(), Scores::mean(&windows.iter().map(|w| w.scores[*n]).collect::<Vec<_>>())))
        .collect();
    let mut pooled = BTreeMap::from([
        (name.clone(), Scores::of(&pooled_y, &pooled_model)?),
        (MAJORITY.to_string(), Scores::of(&pooled_y, &pooled_base)?),
    ]);
    if !cal_y.is_empty() {
        pooled.insert(calibrated_name.clone(), Scores::of(&cal_y, &cal_model)?);
    }
    // The calibrator: fitted on the pooled out-of-sample rows only (no window model was fitted
    // or early-stopped on them).
    let classification = Some(ClassificationMetrics::of(&pooled_y, &pooled_model)?);
    let (file, choice, binary_report, reliability) = if binary {
        let up: Vec<bool> = pooled_y.iter().map(|&c| c == 1).collect();
        let p_up: Vec<f64> = pooled_model.iter().map(|r| r[1]).collect();
        let (cal, bchoice) = vane_calibration::fit_binary(vane_calibration::Method::Auto, &p_up, &up, 0.3)?;
        let file = CalibrationFile {
            format_version: vane_calibration::FORMAT_VERSION,
            calibrators: vec![cal],
            temperature: None,
            choices: vec![bchoice.clone()],
            multiclass: None,
        };
        let reliability = vane_calibration::metrics::reliability(&up, &p_up, 10)?;
        let report = binary_summary(
            d,
            &pooled_y,
            &pooled_model,
            &pooled_base,
            (&cal_y, &cal_model, &raw_cal_rows),
            bchoice,
            decision,
            classification.as_ref().and_then(|c| c.roc_auc),
        )?;
        (file, None, Some(report), reliability)
    } else {
        let (calibrator, choice) = vane_calibration::choose_multiclass_among(
            &pooled_model,
            &pooled_y,
            0.3,
            &vane_calibration::PIPELINE_METHODS,
        )?;
        let reliability = vane_calibration::metrics::reliability_top_label(&pooled_y, &pooled_model, 10)?;
        (CalibrationFile::from_multiclass(calibrator, choice.clone()), Some(choice), None, reliability)
    };
    // The shipped model's reliability on the calibrated rows (those `ece_noise` scores).
    let reliability_calibrated = match (cal_y.is_empty(), binary) {
        (true, _) => Vec::new(),
        (false, true) => {
            let up: Vec<bool> = cal_y.iter().map(|&c| c == 1).collect();
            let p_up: Vec<f64> = cal_model.iter().map(|r| r[1]).collect();
            vane_calibration::metrics::reliability(&up, &p_up, 10)?
        }
        (false, false) => vane_calibration::metrics::reliability_top_label(&cal_y, &cal_model, 10)?,
    };
    let points = crate::train::reliability_points(&reliability);
    let report = WalkForwardReport {
        classification,
        k: d.walk_forward,
        model: name.clone(),
        permuted_labels: d.permute_labels,
        windows,
        mean,
        pooled,
        verdict,
        calibration_rows: pooled_y.len(),
        calibration: choice,
        binary: binary_report,
        reliability,
        reliability_calibrated,
        ece_noise,
    };
    Ok(WalkForwardOutcome { report, oos, calibration: file, reliability: points, rows: oos_rows, splits })
}

/// A window's calibrator: multiclass, or binary on P(up).
enum WindowCalibrator {
    Multi(vane_calibration::MulticlassCalibrator),
    Binary(vane_calibration::Calibrator),
}

impl WindowCalibrator {
    fn apply_all(&self, probs: &[Vec<f64>]) -> Vec<Vec<f64>> {
        match self {
            Self::Multi(c) => c.apply_all(probs),
            Self::Binary(c) => probs
                .iter()
                .map(|r| {
                    let q = c.apply(r[1]).clamp(0.0, 1.0);
                    vec![1.0 - q, q]
                })
                .collect(),
        }
    }
}

/// Per window (test lengths `lens`, in order), the binary calibrator on P(up) fitted on the
/// earlier windows' out-of-sample rows only (`fit_binary`, `Method::Auto`); `None` for windows
/// with fewer than [`MIN_CALIBRATION_ROWS`](crate::artifacts::MIN_CALIBRATION_ROWS) earlier rows
/// or when no calibrator can be fitted.
fn binary_walk_forward_calibrators(
    probs: &[Vec<f64>],
    y: &[usize],
    lens: &[usize],
) -> Vec<Option<vane_calibration::Calibrator>> {
    let mut start = 0;
    lens.iter()
        .map(|&len| {
            let earlier = start;
            start += len;
            if earlier < crate::artifacts::MIN_CALIBRATION_ROWS {
                return None;
            }
            let p: Vec<f64> = probs[..earlier].iter().map(|r| r[1]).collect();
            let up: Vec<bool> = y[..earlier].iter().map(|&c| c == 1).collect();
            vane_calibration::fit_binary(vane_calibration::Method::Auto, &p, &up, 0.3).ok().map(|(c, _)| c)
        })
        .collect()
}

/// The binary summary of a walk-forward: pooled log-loss against the base rate, ECE before and
/// after the walk-forward calibration (`cal`: the calibrated rows' classes, calibrated and raw
/// probabilities).
#[allow(clippy::too_many_arguments)]
fn binary_summary(
    d: &SequenceData,
    y: &[usize],
    model: &[Vec<f64>],
    base: &[Vec<f64>],
    cal: (&[usize], &[Vec<f64>], &[Vec<f64>]),
    calibration: vane_calibration::Choice,
    decision: &crate::sequence_predictor::Decision,
    roc_auc: Option<f64>,
) -> Result<BinaryWalkForward> {
    use vane_calibration::metrics::{ece, log_loss_binary};
    let up = |y: &[usize]| y.iter().map(|&c| c == 1).collect::<Vec<bool>>();
    let p1 = |rows: &[Vec<f64>]| rows.iter().map(|r| r[1]).collect::<Vec<f64>>();
    let yb = up(y);
    let n = y.len();
    let log_loss = log_loss_binary(&yb, &p1(model))?;
    let base_rate_log_loss = log_loss_binary(&yb, &p1(base))?;
    let (cy, cp, craw) = cal;
    let cyb = up(cy);
    let scored = |rows: &[Vec<f64>], f: fn(&[bool], &[f64]) -> vane_calibration::Result<f64>| {
        if cy.is_empty() { Ok(None) } else { f(&cyb, &p1(rows)).map(Some) }
    };
    let (long, short) = decision.binary_thresholds();
    Ok(BinaryWalkForward {
        classes: d.label.class_names(),
        n,
        oos_positive_rate: yb.iter().filter(|&&b| b).count() as f64 / n.max(1) as f64,
        base_rate: p1(base).iter().sum::<f64>() / n.max(1) as f64,
        log_loss,
        base_rate_log_loss,
        log_loss_vs_base_rate: log_loss - base_rate_log_loss,
        roc_auc,
        ece: ece(&yb, &p1(model))?,
        calibrated_rows: cy.len(),
        calibrated_log_loss: scored(cp, log_loss_binary)?,
        calibrated_rows_raw_log_loss: scored(craw, log_loss_binary)?,
        calibrated_ece: scored(cp, ece)?,
        calibrated_rows_raw_ece: scored(craw, ece)?,
        calibration,
        rule: format!("BUY when P(up) > {long}, SELL when P(up) < {short}, else HOLD"),
    })
}

/// One walk-forward window of a regression run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RegressionWindow {
    /// Samples the window's model was fitted on.
    pub train_rows: usize,
    /// Samples of its inner early-stopping slice.
    pub inner_valid_rows: usize,
    /// The test block's first sample (open time).
    pub test_first_open_time_ms: i64,
    /// The test block's last sample (open time).
    pub test_last_open_time_ms: i64,
    /// Best epoch on the inner slice (1-based).
    pub best_epoch: usize,
    /// Epochs run.
    pub epochs_run: usize,
    /// The window's out-of-sample scores.
    pub metrics: RegressionMetrics,
}

/// The walk-forward out-of-sample report of a regression run (`metrics.json`'s
/// `walk_forward_regression`): the same purged expanding windows as [`WalkForwardReport`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RegressionWalkForward {
    /// K.
    pub k: usize,
    /// The model kind.
    pub model: String,
    /// Trained on shuffled targets (`--permute-labels`).
    pub permuted_labels: bool,
    /// The predicted value scored: the quantile closest to the median for a quantile head (the
    /// TFT), else the single regression output.
    pub point: String,
    /// Per window.
    pub windows: Vec<RegressionWindow>,
    /// Every out-of-sample prediction pooled.
    pub pooled: RegressionMetrics,
    /// The same scores for always predicting the training part's mean (the baseline).
    pub pooled_baseline: RegressionMetrics,
}

/// A regression walk-forward and its out-of-sample predictions.
#[derive(Debug)]
pub(crate) struct RegressionOutcome {
    pub(crate) report: RegressionWalkForward,
    /// (candidate index, predicted value) for every out-of-sample row.
    pub(crate) oos: Vec<(usize, f64)>,
    /// Every out-of-sample prediction with its symbol, time and realised target.
    pub(crate) rows: Vec<crate::sequence_oos::OosPrediction>,
    /// The bars each window's splits used.
    pub(crate) splits: Vec<crate::sequence_oos::SplitUse>,
}

/// The index of the point prediction among a model's regression outputs and its name.
pub(crate) fn point_output(mcfg: &ModelConfig) -> (usize, String) {
    match mcfg.quantiles() {
        Some(q) if !q.is_empty() => {
            let (i, v) = q
                .iter()
                .enumerate()
                .min_by(|a, b| (a.1 - 0.5).abs().total_cmp(&(b.1 - 0.5).abs()))
                .map(|(i, v)| (i, *v))
                .unwrap_or((0, 0.5));
            (i, format!("quantile {v}"))
        }
        _ => (0, "regression output".into()),
    }
}

/// Runs the walk-forward of a regression job (`d.walk_forward` windows): each window trains on
/// its purged training part, early-stops on its inner slice and predicts its test block.
pub(crate) fn run_regression(
    raw: &RawData,
    d: &SequenceData,
    mcfg: &ModelConfig,
    tcfg: &TrainConfig,
    device: &burn::tensor::Device,
) -> Result<RegressionOutcome> {
    let name = mcfg.kind().to_string();
    let (point, point_name) = point_output(mcfg);
    let times: Vec<i64> = raw.cands.iter().map(|c| c.time).collect();
    let ends: Vec<i64> = raw.cands.iter().map(|c| c.label_end).collect();
    let plans = plan_windows(&times, &ends, d.walk_forward, d.valid_frac)?;
    let (mut windows, mut oos) = (Vec::with_capacity(plans.len()), Vec::new());
    let (mut oos_rows, mut splits) = (Vec::new(), Vec::new());
    let (mut all_y, mut all_p, mut all_b) = (Vec::new(), Vec::new(), Vec::new());
    for plan in &plans {
        let cands = &raw.cands;
        let samples = |idx: &[usize]| -> Vec<Sample> {
            idx.iter()
                .map(|&i| Sample {
                    end: cands[i].row,
                    target: vane_models::data::Target {
                        class: cands[i].class,
                        value: cands[i].value,
                        weight: cands[i].weight,
                    },
                })
                .collect()
        };
        let (matrix, _) = normalised(raw, d.normaliser, plan.inner_cut_ms)?;
        let train = WindowedDataset::new(&matrix, d.seq_len, samples(&plan.train), None)?;
        let valid = WindowedDataset::new(&matrix, d.seq_len, samples(&plan.inner_valid), None)?;
        let test = WindowedDataset::new(&matrix, d.seq_len, samples(&plan.test), None)?;
        let inputs = TrainInputs {
            model: mcfg,
            config: tcfg,
            train: &train,
            valid: &valid,
            checkpoint_dir: None,
            resume: false,
            context: None,
        };
        let outcome = fit(&inputs, device, &mut Quiet)?;
        let settings = loss_settings(tcfg, outcome.class_weights.clone());
        let tp = predict(&outcome.model, mcfg, &test, Task::Regression, &settings, 256, device);
        let p: Vec<f64> = tp.values.iter().map(|v| f64::from(v.get(point).copied().unwrap_or(f32::NAN))).collect();
        let y: Vec<f64> = plan.test.iter().map(|&i| f64::from(cands[i].value)).collect();
        let fitted: Vec<f64> = plan.train.iter().chain(&plan.inner_valid).map(|&i| f64::from(cands[i].value)).collect();
        let mean = fitted.iter().sum::<f64>() / fitted.len().max(1) as f64;
        let first = plan.test.iter().map(|&i| times[i]).min().unwrap_or(plan.test_start_ms);
        let last = plan.test.iter().map(|&i| times[i]).max().unwrap_or(plan.test_start_ms);
        windows.push(RegressionWindow {
            train_rows: plan.train.len(),
            inner_valid_rows: plan.inner_valid.len(),
            test_first_open_time_ms: first,
            test_last_open_time_ms: last,
            best_epoch: outcome.best_epoch,
            epochs_run: outcome.history.len(),
            metrics: RegressionMetrics::of(&y, &p)?,
        });
        oos.extend(plan.test.iter().copied().zip(p.iter().copied()));
        // For stores (model_predictions, training_sequences).
        oos_rows.extend(crate::sequence_oos::oos_rows(raw, d, cands, windows.len(), &plan.test, &p, None));
        for (idx, split) in [(&plan.train, "train"), (&plan.inner_valid, "validation"), (&plan.test, "test")] {
            let rows = idx.iter().map(|&i| cands[i].row);
            splits.extend(crate::sequence_oos::split_uses(raw, d, rows, windows.len(), split));
        }
        all_b.extend(std::iter::repeat_n(mean, y.len()));
        all_y.extend(y);
        all_p.extend(p);
    }
    let report = RegressionWalkForward {
        k: d.walk_forward,
        model: name,
        permuted_labels: d.permute_labels,
        point: point_name,
        windows,
        pooled: RegressionMetrics::of(&all_y, &all_p)?,
        pooled_baseline: RegressionMetrics::of(&all_y, &all_b)?,
    };
    Ok(RegressionOutcome { report, oos, rows: oos_rows, splits })
}
