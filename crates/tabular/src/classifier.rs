//! One interface for every classifier on feature rows, split in two so that out-of-fold
//! prediction can fit a **fresh** model per fold:
//!
//! - [`Fit`]: a recipe (the hyper-parameters) — [`GbdtConfig`], [`LogisticConfig`],
//!   [`MajorityConfig`]. `fit` never mutates the recipe and returns a new model.
//! - [`Classifier`]: a fitted model — class probabilities per row, `n_classes` columns each.
//!
//! Labels are class indices `0..n_classes` (vane-core's `Signal::class_index` order for
//! BUY/SELL/HOLD); optional sample weights are finite and non-negative, one per row.

use std::fmt::Debug;

use serde::{Deserialize, Serialize};

use crate::data::Dataset;
use crate::gbdt::{Gbdt, GbdtConfig, Objective};
use crate::logistic::Logistic;
use crate::{Result, TabularError};

/// A fitted classifier.
pub trait Classifier: Debug + Send + Sync {
    /// Number of classes (the width of every probability row).
    fn n_classes(&self) -> usize;

    /// Class probabilities per row of `x`: `x.rows()` rows of `n_classes` values summing to 1.
    fn predict_proba(&self, x: &Dataset) -> Result<Vec<Vec<f64>>>;
}

/// A recipe that fits a fresh [`Classifier`].
pub trait Fit: Debug + Send + Sync {
    /// A short name for reports (`gbdt`, `logistic`, `majority`).
    fn name(&self) -> &'static str;

    /// Number of classes the fitted models will have (0 for a recipe that is no classifier, such
    /// as a regression [`GbdtConfig`]; its `fit` is an error).
    fn n_classes(&self) -> usize;

    /// Fits a new model on the rows of `x` with labels `y` (`0..n_classes`) and optional per-row
    /// `weights`.
    fn fit(&self, x: &Dataset, y: &[usize], weights: Option<&[f64]>) -> Result<Box<dyn Classifier>>;
}

/// Checks `y` and `weights` against `x` and `classes`, naming the first bad value.
fn check_fit_input(x: &Dataset, y: &[usize], weights: Option<&[f64]>, classes: usize) -> Result<()> {
    x.validate()?;
    let n = x.rows();
    if classes < 2 {
        return Err(TabularError::InvalidParameter(format!("a classifier needs ≥ 2 classes, got {classes}")));
    }
    if y.len() != n {
        return Err(TabularError::InvalidInput(format!("{} labels for {n} rows", y.len())));
    }
    if n == 0 {
        return Err(TabularError::InvalidInput("no training rows".into()));
    }
    if let Some((i, c)) = y.iter().enumerate().find(|(_, c)| **c >= classes) {
        return Err(TabularError::InvalidInput(format!("label {c} at row {i} is not in 0..{classes}")));
    }
    if let Some(w) = weights {
        if w.len() != n {
            return Err(TabularError::InvalidInput(format!("{} weights for {n} rows", w.len())));
        }
        if let Some((i, v)) = w.iter().enumerate().find(|(_, v)| !(v.is_finite() && **v >= 0.0)) {
            return Err(TabularError::InvalidInput(format!("weight {v} at row {i} is not finite and ≥ 0")));
        }
    }
    Ok(())
}

/// A fitted GBDT classifier (multiclass or binary objective).
#[derive(Clone, Debug, PartialEq)]
pub struct GbdtClassifier {
    /// The trees.
    pub model: Gbdt,
    classes: usize,
}

impl Classifier for GbdtClassifier {
    fn n_classes(&self) -> usize {
        self.classes
    }

    fn predict_proba(&self, x: &Dataset) -> Result<Vec<Vec<f64>>> {
        self.model.predict_proba(x)
    }
}

/// GBDT as a recipe: `Multiclass { classes }` or `Binary` (2 classes). No evaluation set is
/// carved out, so `early_stopping_rounds` has no effect here: all `iterations` trees are grown.
impl Fit for GbdtConfig {
    fn name(&self) -> &'static str {
        "gbdt"
    }

    fn n_classes(&self) -> usize {
        match self.objective {
            Objective::Multiclass { classes } => classes,
            Objective::Binary => 2,
            Objective::Regression => 0,
        }
    }

    fn fit(&self, x: &Dataset, y: &[usize], weights: Option<&[f64]>) -> Result<Box<dyn Classifier>> {
        if self.objective == Objective::Regression {
            return Err(TabularError::InvalidParameter("a regression GBDT is not a classifier".into()));
        }
        let classes = Fit::n_classes(self);
        check_fit_input(x, y, weights, classes)?;
        let yf: Vec<f64> = y.iter().map(|&c| c as f64).collect();
        let model = Gbdt::fit(self, x, &yf, weights, None)?;
        Ok(Box::new(GbdtClassifier { model, classes }))
    }
}

/// Multinomial logistic regression as a recipe (L2 strength `lambda` = 1/C).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogisticConfig {
    /// Number of classes (≥ 2).
    pub classes: usize,
    /// L2 strength λ (≥ 0).
    pub lambda: f64,
}

impl Classifier for Logistic {
    fn n_classes(&self) -> usize {
        self.weights.len()
    }

    fn predict_proba(&self, x: &Dataset) -> Result<Vec<Vec<f64>>> {
        Logistic::predict_proba(self, x)
    }
}

/// Sample weights are an error: [`Logistic::fit`] maximises the unweighted likelihood.
impl Fit for LogisticConfig {
    fn name(&self) -> &'static str {
        "logistic"
    }

    fn n_classes(&self) -> usize {
        self.classes
    }

    fn fit(&self, x: &Dataset, y: &[usize], weights: Option<&[f64]>) -> Result<Box<dyn Classifier>> {
        check_fit_input(x, y, weights, self.classes)?;
        if weights.is_some() {
            return Err(TabularError::InvalidInput("logistic regression takes no sample weights".into()));
        }
        Ok(Box::new(Logistic::fit(x, y, self.classes, self.lambda)?))
    }
}

/// The majority baseline as a recipe: predicts the (weighted) training class frequencies for
/// every row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MajorityConfig {
    /// Number of classes (≥ 2).
    pub classes: usize,
}

/// The fitted majority baseline: one probability row for every input row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Majority {
    /// The training class frequencies (weighted when weights were given).
    pub probs: Vec<f64>,
}

impl Classifier for Majority {
    fn n_classes(&self) -> usize {
        self.probs.len()
    }

    fn predict_proba(&self, x: &Dataset) -> Result<Vec<Vec<f64>>> {
        x.validate()?;
        Ok(vec![self.probs.clone(); x.rows()])
    }
}

impl Fit for MajorityConfig {
    fn name(&self) -> &'static str {
        "majority"
    }

    fn n_classes(&self) -> usize {
        self.classes
    }

    fn fit(&self, x: &Dataset, y: &[usize], weights: Option<&[f64]>) -> Result<Box<dyn Classifier>> {
        check_fit_input(x, y, weights, self.classes)?;
        let mut probs = vec![0.0; self.classes];
        for (i, &c) in y.iter().enumerate() {
            probs[c] += weights.map_or(1.0, |w| w[i]);
        }
        let total: f64 = probs.iter().sum();
        if total <= 0.0 {
            return Err(TabularError::InvalidInput("the sample weights sum to 0".into()));
        }
        probs.iter_mut().for_each(|p| *p /= total);
        Ok(Box::new(Majority { probs }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logistic::majority;

    /// Two well-separated clusters on one feature, plus a noise column: class = (x > 0).
    fn blobs(n: usize) -> (Dataset, Vec<usize>) {
        let y: Vec<usize> = (0..n).map(|i| i % 2).collect();
        let x: Vec<f64> =
            (0..n).map(|i| if y[i] == 1 { 2.0 } else { -2.0 } + ((i * 7919) % 13) as f64 / 13.0 - 0.5).collect();
        let noise: Vec<f64> = (0..n).map(|i| ((i * 104_729) % 17) as f64 / 17.0).collect();
        (Dataset::numeric(vec!["x".into(), "noise".into()], vec![x, noise]).unwrap(), y)
    }

    fn accuracy(p: &[Vec<f64>], y: &[usize]) -> f64 {
        let hits =
            p.iter().zip(y).filter(|(row, c)| (0..row.len()).max_by(|&a, &b| row[a].total_cmp(&row[b])) == Some(**c));
        hits.count() as f64 / y.len() as f64
    }

    fn recipes() -> Vec<Box<dyn Fit>> {
        vec![
            Box::new(GbdtConfig {
                objective: Objective::Multiclass { classes: 2 },
                iterations: 30,
                depth: 2,
                learning_rate: 0.3,
                ..GbdtConfig::default()
            }),
            Box::new(GbdtConfig { objective: Objective::Binary, iterations: 30, depth: 2, ..GbdtConfig::default() }),
            Box::new(LogisticConfig { classes: 2, lambda: 1.0 }),
            Box::new(MajorityConfig { classes: 2 }),
        ]
    }

    #[test]
    fn every_recipe_fits_fresh_models_with_valid_probabilities() {
        let (x, y) = blobs(80);
        for r in recipes() {
            let m = r.fit(&x, &y, None).unwrap();
            assert_eq!(m.n_classes(), 2, "{}", r.name());
            assert_eq!(r.n_classes(), 2, "{}", r.name());
            let p = m.predict_proba(&x).unwrap();
            assert_eq!(p.len(), 80);
            for row in &p {
                assert_eq!(row.len(), 2);
                assert!(row.iter().all(|v| v.is_finite() && (0.0..=1.0).contains(v)), "{}: {row:?}", r.name());
                assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-9, "{}: {row:?}", r.name());
            }
            let acc = accuracy(&p, &y);
            if r.name() == "majority" {
                assert_eq!(acc, 0.5);
            } else {
                assert_eq!(acc, 1.0, "{} separates the blobs", r.name());
            }
        }
    }

    #[test]
    fn fitted_models_equal_the_direct_calls() {
        let (x, y) = blobs(60);
        let direct = Logistic::fit(&x, &y, 2, 0.5).unwrap().predict_proba(&x).unwrap();
        let via = LogisticConfig { classes: 2, lambda: 0.5 }.fit(&x, &y, None).unwrap().predict_proba(&x).unwrap();
        assert_eq!(direct, via);

        let cfg =
            GbdtConfig { objective: Objective::Multiclass { classes: 3 }, iterations: 10, ..GbdtConfig::default() };
        let y3: Vec<usize> = (0..60).map(|i| i % 3).collect();
        let yf: Vec<f64> = y3.iter().map(|&c| c as f64).collect();
        let direct = Gbdt::fit(&cfg, &x, &yf, None, None).unwrap().predict_proba(&x).unwrap();
        assert_eq!(cfg.fit(&x, &y3, None).unwrap().predict_proba(&x).unwrap(), direct);

        let m = MajorityConfig { classes: 3 }.fit(&x, &y3, None).unwrap().predict_proba(&x).unwrap();
        assert_eq!(m[0], majority(&y3, 3));
    }

    #[test]
    fn majority_weights_shift_the_frequencies() {
        let (x, _) = blobs(4);
        let y = [0, 0, 1, 2];
        let m = MajorityConfig { classes: 3 }.fit(&x, &y, Some(&[1.0, 1.0, 6.0, 0.0])).unwrap();
        assert_eq!(m.predict_proba(&x).unwrap()[3], vec![0.25, 0.75, 0.0]);
    }

    #[test]
    fn bad_input_is_an_error_naming_it() {
        let (x, y) = blobs(10);
        let msg = |r: Result<Box<dyn Classifier>>| r.unwrap_err().to_string();
        let maj = MajorityConfig { classes: 2 };
        assert_eq!(msg(maj.fit(&x, &y[..9], None)), "9 labels for 10 rows");
        let mut bad = y.clone();
        bad[4] = 2;
        assert_eq!(msg(maj.fit(&x, &bad, None)), "label 2 at row 4 is not in 0..2");
        assert_eq!(msg(maj.fit(&x, &y, Some(&[1.0; 3]))), "3 weights for 10 rows");
        let mut w = vec![1.0; 10];
        w[7] = f64::NAN;
        assert_eq!(msg(maj.fit(&x, &y, Some(&w))), "weight NaN at row 7 is not finite and ≥ 0");
        assert_eq!(msg(maj.fit(&x, &y, Some(&[0.0; 10]))), "the sample weights sum to 0");
        assert_eq!(
            msg(MajorityConfig { classes: 1 }.fit(&x, &y, None)),
            "invalid parameter: a classifier needs ≥ 2 classes, got 1"
        );
        assert_eq!(
            msg(LogisticConfig { classes: 2, lambda: 1.0 }.fit(&x, &y, Some(&[1.0; 10]))),
            "logistic regression takes no sample weights"
        );
        let reg = GbdtConfig { objective: Objective::Regression, ..GbdtConfig::default() };
        assert_eq!(Fit::n_classes(&reg), 0);
        assert_eq!(msg(reg.fit(&x, &y, None)), "invalid parameter: a regression GBDT is not a classifier");
    }
}
