//! Out-of-fold (OOF) predictions over a purged k-fold with embargo.
//!
//! Each row `i` has a label span `[i, t_end]` (the bars its label looks at). For every fold of
//! [`PurgedKFold`](vane_validation::PurgedKFold), the model is fitted on the fold's training rows and predicts its test rows,
//! so every row is predicted exactly once by a model that never saw it. The training rows are
//! the splitter's (test window excluded, rows whose span reaches into the test window purged,
//! rows starting within `embargo` bars after it embargoed), **minus** every row whose span
//! overlaps a test row's span: a row just after the test window whose label window overlaps the
//! test labels' windows is purged too, whatever the embargo (López de Prado, AFML §7.4.1: the
//! test interval runs to the last test label's end).

use std::ops::Range;

use vane_core::Span;
use vane_tabular::{Dataset, Fit};
use vane_validation::PurgedKFold;

use crate::error::{Result, StackingError};

/// How far a probability row may sum away from 1.
const SUM_TOLERANCE: f64 = 1e-6;

/// One fold of an out-of-fold run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FoldInfo {
    /// The rows predicted in this fold.
    pub test: Range<usize>,
    /// Rows the model was fitted on.
    pub train_len: usize,
    /// Rows the splitter offered for training that overlap a test row's label span and were
    /// purged here.
    pub extra_purged: usize,
}

/// Out-of-fold class probabilities, one entry per row.
#[derive(Clone, Debug, PartialEq)]
pub struct OutOfFold {
    /// Number of classes (width of every probability row).
    pub n_classes: usize,
    /// Per row: the probabilities from the one model that did not train on it (`None` for a row
    /// no fold tested; purged k-fold tests every row).
    pub probs: Vec<Option<Vec<f64>>>,
    /// Per row: the fold that predicted it.
    pub fold: Vec<Option<usize>>,
    /// Per fold: its test rows and training size.
    pub folds: Vec<FoldInfo>,
}

impl OutOfFold {
    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.probs.len()
    }

    /// The most probable class per row (the first on ties).
    pub fn argmax(&self) -> Vec<Option<usize>> {
        self.probs
            .iter()
            .map(|p| {
                p.as_ref()
                    .and_then(|p| {
                        p.iter().enumerate().fold(None, |best: Option<(usize, f64)>, (c, &v)| match best {
                            Some((_, b)) if b >= v => best,
                            _ => Some((c, v)),
                        })
                    })
                    .map(|(c, _)| c)
            })
            .collect()
    }

    /// Share of predicted rows whose most probable class is `labels[row]`.
    pub fn accuracy(&self, labels: &[usize]) -> Result<f64> {
        if labels.len() != self.rows() {
            return Err(StackingError::InvalidInput(format!("{} labels for {} rows", labels.len(), self.rows())));
        }
        let (mut hits, mut n) = (0usize, 0usize);
        for (p, &y) in self.argmax().iter().zip(labels) {
            if let Some(c) = p {
                n += 1;
                hits += usize::from(*c == y);
            }
        }
        if n == 0 {
            return Err(StackingError::InvalidInput("no row has an out-of-fold prediction".into()));
        }
        Ok(hits as f64 / n as f64)
    }
}

/// Out-of-fold predictions for any model. For every fold of `folds` over `spans` (one label
/// span per row, starting at its row), `fit_predict(train_rows, test_rows)` must fit a fresh
/// model on `train_rows` and return one row of `n_classes` probabilities (finite, ≥ 0, summing
/// to 1) per test row, in order. Its errors come back as [`StackingError::Model`] naming the
/// fold.
pub fn out_of_fold<E, F>(spans: &[Span], folds: &PurgedKFold, n_classes: usize, mut fit_predict: F) -> Result<OutOfFold>
where
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
    F: FnMut(&[usize], &[usize]) -> std::result::Result<Vec<Vec<f64>>, E>,
{
    if n_classes < 2 {
        return Err(StackingError::InvalidInput(format!("n_classes = {n_classes}; need at least 2")));
    }
    let n = spans.len();
    let splits = folds.folds(spans)?;
    let mut out =
        OutOfFold { n_classes, probs: vec![None; n], fold: vec![None; n], folds: Vec::with_capacity(splits.len()) };
    for (f, split) in splits.iter().enumerate() {
        let test = split.test.clone();
        let test_rows: Vec<usize> = test.clone().collect();
        // The test interval runs from the first test row to the last test label's end.
        let test_end_bar = test_rows.iter().map(|&j| spans[j].end).max().unwrap_or(test.start);
        let offered = split.train_len();
        let train_rows: Vec<usize> =
            split.train_indices().filter(|&i| spans[i].end < test.start || spans[i].start > test_end_bar).collect();
        let extra_purged = offered - train_rows.len();
        if train_rows.is_empty() {
            return Err(StackingError::InvalidInput(format!(
                "fold {f} (test rows {}..{}): purging and embargo leave no training rows",
                test.start, test.end
            )));
        }
        let model_err = |source: Box<dyn std::error::Error + Send + Sync>| StackingError::Model {
            fold: f,
            test_start: test.start,
            test_end: test.end,
            source,
        };
        let probs = fit_predict(&train_rows, &test_rows).map_err(|e| model_err(e.into()))?;
        if probs.len() != test_rows.len() {
            return Err(model_err(
                format!("fit_predict returned {} probability rows for {} test rows", probs.len(), test_rows.len())
                    .into(),
            ));
        }
        for (&row, p) in test_rows.iter().zip(&probs) {
            check_probs(p, n_classes).map_err(|m| model_err(format!("row {row}: {m}").into()))?;
        }
        for (&row, p) in test_rows.iter().zip(probs) {
            out.probs[row] = Some(p);
            out.fold[row] = Some(f);
        }
        out.folds.push(FoldInfo { test, train_len: train_rows.len(), extra_purged });
    }
    Ok(out)
}

fn check_probs(p: &[f64], n_classes: usize) -> std::result::Result<(), String> {
    if p.len() != n_classes {
        return Err(format!("{} probabilities, expected {n_classes}", p.len()));
    }
    if let Some(v) = p.iter().find(|v| !(v.is_finite() && **v >= 0.0)) {
        return Err(format!("probability {v} is not finite and ≥ 0"));
    }
    let s: f64 = p.iter().sum();
    if (s - 1.0).abs() > SUM_TOLERANCE {
        return Err(format!("probabilities sum to {s}, not 1"));
    }
    Ok(())
}

/// Out-of-fold predictions of a vane-tabular recipe: per fold, `model.fit` on the training
/// rows of `x` and `labels`, then `predict_proba` on the test rows.
pub fn out_of_fold_classifier(
    model: &dyn Fit,
    x: &Dataset,
    labels: &[usize],
    spans: &[Span],
    folds: &PurgedKFold,
) -> Result<OutOfFold> {
    x.validate()?;
    let n = x.rows();
    if labels.len() != n {
        return Err(StackingError::InvalidInput(format!("labels: {} for {n} feature rows", labels.len())));
    }
    if spans.len() != n {
        return Err(StackingError::InvalidInput(format!("spans: {} label spans for {n} feature rows", spans.len())));
    }
    out_of_fold(spans, folds, model.n_classes(), |train, test| {
        let y: Vec<usize> = train.iter().map(|&i| labels[i]).collect();
        model.fit(&x.take(train), &y, None)?.predict_proba(&x.take(test))
    })
}
