//! ML metrics with scikit-learn's and SciPy's conventions (checked against values computed by
//! hand in the tests). Class labels are `0..k` indices.

use serde::{Deserialize, Serialize};

use crate::error::{Result, ValidationError, same_len};

/// Accuracy, macro-F1, log-loss, Brier score and top-label ECE of one set of class probabilities
/// — how vane reports a classifier out of sample (walk-forward windows, holdout tables).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassScores {
    /// Accuracy of the most probable class.
    pub accuracy: f64,
    /// Macro-F1 of the most probable class.
    pub macro_f1: f64,
    /// Log-loss of the probabilities.
    pub log_loss: f64,
    /// Multiclass Brier score ([`brier`]); NaN in files written before it was reported.
    #[serde(default = "nan")]
    pub brier: f64,
    /// Top-label expected calibration error over 10 equal-width bins ([`ece_top_label`]).
    #[serde(default = "nan")]
    pub ece: f64,
}

fn nan() -> f64 {
    f64::NAN
}

impl ClassScores {
    /// The scores of `probs` (one row per sample) against the classes `y`; the predicted class
    /// is each row's most probable one (the last of equal maxima).
    pub fn of(y: &[usize], probs: &[Vec<f64>]) -> Result<Self> {
        let pred: Vec<usize> =
            probs.iter().map(|p| p.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map_or(0, |m| m.0)).collect();
        Ok(Self {
            accuracy: accuracy(y, &pred)?,
            macro_f1: macro_f1(y, &pred)?,
            log_loss: log_loss(y, probs)?,
            brier: brier(y, probs)?,
            ece: ece_top_label(y, probs, 10)?,
        })
    }

    /// The mean of each score over `s` (NaN when `s` is empty).
    pub fn mean(s: &[ClassScores]) -> ClassScores {
        let n = s.len() as f64;
        ClassScores {
            accuracy: s.iter().map(|x| x.accuracy).sum::<f64>() / n,
            macro_f1: s.iter().map(|x| x.macro_f1).sum::<f64>() / n,
            log_loss: s.iter().map(|x| x.log_loss).sum::<f64>() / n,
            brier: s.iter().map(|x| x.brier).sum::<f64>() / n,
            ece: s.iter().map(|x| x.ece).sum::<f64>() / n,
        }
    }
}

/// Share of equal labels (`sklearn.metrics.accuracy_score`).
pub fn accuracy(y_true: &[usize], y_pred: &[usize]) -> Result<f64> {
    same_len(y_true.len(), y_pred.len(), "accuracy")?;
    Ok(y_true.iter().zip(y_pred).filter(|(a, b)| a == b).count() as f64 / y_true.len() as f64)
}

/// `k×k` confusion matrix, rows = true class, columns = predicted.
pub fn confusion_matrix(y_true: &[usize], y_pred: &[usize], k: usize) -> Result<Vec<Vec<usize>>> {
    same_len(y_true.len(), y_pred.len(), "confusion matrix")?;
    let mut m = vec![vec![0; k]; k];
    for (&t, &p) in y_true.iter().zip(y_pred) {
        if t >= k || p >= k {
            return Err(ValidationError::InvalidInput(format!("label {} outside 0..{k}", t.max(p))));
        }
        m[t][p] += 1;
    }
    Ok(m)
}

/// Per-class precision, recall, F1 and support.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClassReport {
    /// Precision per class (0 when nothing was predicted as it, scikit-learn's `zero_division=0`).
    pub precision: Vec<f64>,
    /// Recall per class (0 when the class never occurs).
    pub recall: Vec<f64>,
    /// F1 per class (0 when precision + recall = 0).
    pub f1: Vec<f64>,
    /// Occurrences of each class in `y_true`.
    pub support: Vec<usize>,
    /// Unweighted mean F1 over the classes present in `y_true` or `y_pred` (scikit-learn's
    /// `f1_score(average='macro')` with its default label set).
    pub macro_f1: f64,
    /// The confusion matrix.
    pub confusion: Vec<Vec<usize>>,
}

/// Per-class report over classes `0..k`.
pub fn class_report(y_true: &[usize], y_pred: &[usize], k: usize) -> Result<ClassReport> {
    let m = confusion_matrix(y_true, y_pred, k)?;
    let (mut precision, mut recall, mut f1, mut support) = (vec![0.0; k], vec![0.0; k], vec![0.0; k], vec![0; k]);
    let mut present = 0usize;
    let mut f1_sum = 0.0;
    for c in 0..k {
        let tp = m[c][c] as f64;
        let predicted: usize = (0..k).map(|r| m[r][c]).sum();
        let actual: usize = m[c].iter().sum();
        support[c] = actual;
        precision[c] = if predicted > 0 { tp / predicted as f64 } else { 0.0 };
        recall[c] = if actual > 0 { tp / actual as f64 } else { 0.0 };
        let s = precision[c] + recall[c];
        f1[c] = if s > 0.0 { 2.0 * precision[c] * recall[c] / s } else { 0.0 };
        if predicted > 0 || actual > 0 {
            present += 1;
            f1_sum += f1[c];
        }
    }
    Ok(ClassReport { precision, recall, f1, support, macro_f1: f1_sum / present.max(1) as f64, confusion: m })
}

/// Macro-F1 (see [`ClassReport::macro_f1`]).
pub fn macro_f1(y_true: &[usize], y_pred: &[usize]) -> Result<f64> {
    let k = y_true.iter().chain(y_pred).max().map_or(0, |m| m + 1);
    Ok(class_report(y_true, y_pred, k)?.macro_f1)
}

fn check_probs(y: &[usize], probs: &[Vec<f64>], what: &str) -> Result<usize> {
    same_len(y.len(), probs.len(), what)?;
    let k = probs[0].len();
    if k < 2 || probs.iter().any(|p| p.len() != k) {
        return Err(ValidationError::InvalidInput(format!(
            "{what}: every row needs the same number (≥ 2) of class probabilities"
        )));
    }
    if let Some(&bad) = y.iter().find(|&&c| c >= k) {
        return Err(ValidationError::InvalidInput(format!("{what}: label {bad} outside 0..{k}")));
    }
    if probs.iter().flatten().any(|p| !p.is_finite()) {
        return Err(ValidationError::InvalidInput(format!("{what}: non-finite probability")));
    }
    Ok(k)
}

/// Cross-entropy (`sklearn.metrics.log_loss`): probabilities clipped to `[ε, 1−ε]` with ε the
/// f64 machine epsilon, rows renormalised, mean of `−ln p[y]`.
pub fn log_loss(y: &[usize], probs: &[Vec<f64>]) -> Result<f64> {
    check_probs(y, probs, "log-loss")?;
    let total: f64 = y.iter().zip(probs).map(|(&c, p)| sample_log_loss(p, c)).sum();
    Ok(total / y.len() as f64)
}

/// One sample's log-loss as [`log_loss`] counts it: probabilities clipped to `[ε, 1 − ε]` and
/// renormalised, then `−ln p_c` (for paired per-sample comparisons).
pub fn sample_log_loss(p: &[f64], c: usize) -> f64 {
    let eps = f64::EPSILON;
    let s: f64 = p.iter().map(|v| v.clamp(eps, 1.0 - eps)).sum();
    -(p[c].clamp(eps, 1.0 - eps) / s).ln()
}

/// Top-label expected calibration error: each sample's confidence is its largest probability
/// and it is correct when that class is the label; over `bins` equal-width bins of the
/// confidence on [0, 1] (1.0 in the last bin), `Σ_b (n_b/N)·|accuracy_b − mean confidence_b|`.
pub fn ece_top_label(y: &[usize], probs: &[Vec<f64>], bins: usize) -> Result<f64> {
    check_probs(y, probs, "ECE")?;
    let bins = bins.max(1);
    let mut acc = vec![(0usize, 0.0f64, 0.0f64); bins];
    for (&t, p) in y.iter().zip(probs) {
        let (arg, &conf) = p.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).expect("checked non-empty");
        let b = ((conf.clamp(0.0, 1.0) * bins as f64) as usize).min(bins - 1);
        acc[b].0 += 1;
        acc[b].1 += conf;
        acc[b].2 += f64::from(u8::from(arg == t));
    }
    let n = y.len() as f64;
    Ok(acc.iter().filter(|b| b.0 > 0).map(|&(c, sc, sy)| c as f64 / n * (sy / c as f64 - sc / c as f64).abs()).sum())
}

/// Multiclass Brier score: mean over samples of `Σ_k (p_k − 1[y = k])²` (for two classes this
/// is twice scikit-learn's binary `brier_score_loss`; see [`brier_binary`]).
pub fn brier(y: &[usize], probs: &[Vec<f64>]) -> Result<f64> {
    check_probs(y, probs, "Brier")?;
    let total: f64 = y
        .iter()
        .zip(probs)
        .map(|(&c, p)| p.iter().enumerate().map(|(k, v)| (v - f64::from(u8::from(k == c))).powi(2)).sum::<f64>())
        .sum();
    Ok(total / y.len() as f64)
}

/// Binary Brier score (`sklearn.metrics.brier_score_loss`): mean of `(p − y)²` for `y ∈ {0, 1}`.
pub fn brier_binary(y: &[bool], p: &[f64]) -> Result<f64> {
    same_len(y.len(), p.len(), "Brier")?;
    Ok(y.iter().zip(p).map(|(&t, &v)| (v - f64::from(u8::from(t))).powi(2)).sum::<f64>() / y.len() as f64)
}

/// Average ranks (1-based; ties share their mean rank), as `scipy.stats.rankdata`.
pub fn ranks(x: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..x.len()).collect();
    idx.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    let mut r = vec![0.0; x.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && x[idx[j + 1]] == x[idx[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            r[k] = avg;
        }
        i = j + 1;
    }
    r
}

/// Binary ROC-AUC (`sklearn.metrics.roc_auc_score`), by the rank-sum formula with tied scores
/// counted half. An error when only one class is present.
pub fn roc_auc(y: &[bool], score: &[f64]) -> Result<f64> {
    same_len(y.len(), score.len(), "ROC-AUC")?;
    let pos = y.iter().filter(|&&v| v).count();
    let neg = y.len() - pos;
    if pos == 0 || neg == 0 {
        return Err(ValidationError::InvalidInput("ROC-AUC is undefined with only one class present".into()));
    }
    let r = ranks(score);
    let rank_sum: f64 = y.iter().zip(&r).filter(|(t, _)| **t).map(|(_, r)| r).sum();
    Ok((rank_sum - (pos * (pos + 1)) as f64 / 2.0) / (pos * neg) as f64)
}

/// One-vs-rest macro ROC-AUC (`roc_auc_score(multi_class='ovr', average='macro')`).
pub fn roc_auc_ovr(y: &[usize], probs: &[Vec<f64>]) -> Result<f64> {
    let k = check_probs(y, probs, "ROC-AUC")?;
    let mut total = 0.0;
    for c in 0..k {
        let yt: Vec<bool> = y.iter().map(|&v| v == c).collect();
        let s: Vec<f64> = probs.iter().map(|p| p[c]).collect();
        total += roc_auc(&yt, &s)?;
    }
    Ok(total / k as f64)
}

/// Mean absolute error.
pub fn mae(y: &[f64], pred: &[f64]) -> Result<f64> {
    same_len(y.len(), pred.len(), "MAE")?;
    Ok(y.iter().zip(pred).map(|(a, b)| (a - b).abs()).sum::<f64>() / y.len() as f64)
}

/// Root mean squared error.
pub fn rmse(y: &[f64], pred: &[f64]) -> Result<f64> {
    same_len(y.len(), pred.len(), "RMSE")?;
    Ok((y.iter().zip(pred).map(|(a, b)| (a - b).powi(2)).sum::<f64>() / y.len() as f64).sqrt())
}

/// Coefficient of determination (`sklearn.metrics.r2_score`): `1 − SS_res/SS_tot`; for a
/// constant `y` 1.0 when predicted perfectly, else 0.0.
pub fn r2(y: &[f64], pred: &[f64]) -> Result<f64> {
    same_len(y.len(), pred.len(), "R²")?;
    let m = y.iter().sum::<f64>() / y.len() as f64;
    let ss_res: f64 = y.iter().zip(pred).map(|(a, b)| (a - b).powi(2)).sum();
    let ss_tot: f64 = y.iter().map(|a| (a - m).powi(2)).sum();
    Ok(if ss_tot == 0.0 { if ss_res == 0.0 { 1.0 } else { 0.0 } } else { 1.0 - ss_res / ss_tot })
}

/// Share of samples with a non-zero true value whose predicted sign matches it.
pub fn direction_accuracy(y: &[f64], pred: &[f64]) -> Result<f64> {
    same_len(y.len(), pred.len(), "direction accuracy")?;
    let (mut hit, mut n) = (0usize, 0usize);
    for (a, b) in y.iter().zip(pred) {
        if *a != 0.0 {
            n += 1;
            hit += usize::from(a.signum() == b.signum() && *b != 0.0);
        }
    }
    if n == 0 {
        return Err(ValidationError::InvalidInput("direction accuracy: every true value is 0".into()));
    }
    Ok(hit as f64 / n as f64)
}

/// Pearson correlation (the information coefficient); NaN when either side is constant.
pub fn ic(x: &[f64], y: &[f64]) -> Result<f64> {
    same_len(x.len(), y.len(), "IC")?;
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    Ok(sxy / (sxx * syy).sqrt())
}

/// Spearman rank correlation (`scipy.stats.spearmanr`): Pearson of average ranks.
pub fn rank_ic(x: &[f64], y: &[f64]) -> Result<f64> {
    same_len(x.len(), y.len(), "rank IC")?;
    ic(&ranks(x), &ranks(y))
}
