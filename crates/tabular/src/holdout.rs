//! Train a tabular model on one table and score it on another (`vane tabular`): class encoding
//! of any target values, the model fit, test accuracy / macro-F1 / log-loss and the majority
//! baseline's.

use std::collections::BTreeSet;
use std::time::Instant;

use serde::Serialize;

use crate::lorentzian::{LorentzianConfig, class_probs};
use crate::table::{Table, TableError, TableResult};
use crate::{Dataset, Gbdt, GbdtConfig, Logistic, Objective, TabularError, majority};

/// The models `vane tabular` trains.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum TabularModel {
    /// Gradient-boosted oblivious trees.
    Gbdt,
    /// Multinomial logistic regression.
    Logistic,
    /// Lorentzian nearest neighbours over the numeric columns.
    Lorentzian,
}

/// The class vocabulary of a target column: its distinct values, sorted, are classes `0..k`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ClassEncoding {
    /// The class values in index order.
    pub classes: Vec<String>,
}

impl ClassEncoding {
    /// The sorted distinct values of all `columns`.
    pub fn fit<'a>(columns: impl IntoIterator<Item = &'a [String]>) -> Self {
        let set: BTreeSet<&String> = columns.into_iter().flatten().collect();
        Self { classes: set.into_iter().cloned().collect() }
    }

    /// Number of classes.
    pub fn len(&self) -> usize {
        self.classes.len()
    }

    /// Whether there is no class.
    pub fn is_empty(&self) -> bool {
        self.classes.is_empty()
    }

    /// The class index of every value (an error for a value outside the vocabulary).
    pub fn encode(&self, values: &[String]) -> crate::Result<Vec<usize>> {
        values
            .iter()
            .map(|v| {
                self.classes
                    .binary_search(v)
                    .map_err(|_| TabularError::InvalidInput(format!("class {v:?} is not in the vocabulary")))
            })
            .collect()
    }
}

/// Settings of a holdout run.
#[derive(Clone, Debug, PartialEq)]
pub struct HoldoutConfig {
    /// The model.
    pub model: TabularModel,
    /// The class column.
    pub target: String,
    /// Categorical columns.
    pub categorical: Vec<String>,
    /// Columns to ignore.
    pub drop: Vec<String>,
    /// gbdt: maximum trees.
    pub iterations: usize,
    /// gbdt: learning rate.
    pub learning_rate: f64,
    /// gbdt: tree depth.
    pub depth: usize,
    /// gbdt: the last share of the training rows used for early stopping (0 = none; at most 0.5).
    pub eval_fraction: f64,
    /// logistic: L2 strength λ.
    pub lambda: f64,
}

/// Test-set accuracy, macro-F1 and log-loss.
pub use vane_validation::metrics::ClassScores as HoldoutScores;

/// What a holdout run reports.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HoldoutReport {
    /// The model.
    pub model: TabularModel,
    /// The class values in index order.
    pub classes: Vec<String>,
    /// Training rows.
    pub train_rows: usize,
    /// Test rows.
    pub test_rows: usize,
    /// Seconds spent fitting and predicting.
    pub fit_seconds: f64,
    /// The model's test scores.
    pub test: HoldoutScores,
    /// The training-set majority class's test scores.
    pub majority_baseline: HoldoutScores,
    /// Trees grown (gbdt only).
    #[serde(skip)]
    pub trees: Option<usize>,
    /// Class probabilities of every test row.
    #[serde(skip)]
    pub probs: Vec<Vec<f64>>,
}

impl HoldoutReport {
    /// The test predictions as CSV: a `p_<class>` column per class.
    pub fn predictions_csv(&self) -> String {
        let mut s = format!("{}\n", self.classes.iter().map(|c| format!("p_{c}")).collect::<Vec<_>>().join(","));
        for p in &self.probs {
            s.push_str(&p.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(","));
            s.push('\n');
        }
        s
    }
}

fn rows(d: &Dataset) -> Vec<Vec<f64>> {
    (0..d.rows()).map(|r| d.numeric.iter().map(|c| c[r]).collect()).collect()
}

/// Fits `cfg.model` on `train` and scores it on `test` (same columns).
pub fn holdout(train_t: &Table, test_t: &Table, cfg: &HoldoutConfig) -> TableResult<HoldoutReport> {
    if train_t.header() != test_t.header() {
        return Err(TableError::Columns(train_t.path().to_path_buf(), test_t.path().to_path_buf()));
    }
    let (train, ytr) = train_t.to_dataset(&cfg.target, &cfg.categorical, &cfg.drop)?;
    let (test, yte) = test_t.to_dataset(&cfg.target, &cfg.categorical, &cfg.drop)?;
    let enc = ClassEncoding::fit([ytr.as_slice(), yte.as_slice()]);
    let k = enc.len();
    if k < 2 {
        return Err(TabularError::InvalidInput(format!("the target {:?} has a single value", cfg.target)).into());
    }
    let (ytr_i, yte_i) = (enc.encode(&ytr)?, enc.encode(&yte)?);
    let started = Instant::now();
    let mut trees = None;
    let probs = match cfg.model {
        TabularModel::Gbdt => {
            let n = train.rows();
            let cut = ((n as f64) * (1.0 - cfg.eval_fraction.clamp(0.0, 0.5))).round() as usize;
            let objective = if k == 2 { Objective::Binary } else { Objective::Multiclass { classes: k } };
            let gcfg = GbdtConfig {
                objective,
                iterations: cfg.iterations,
                learning_rate: cfg.learning_rate,
                depth: cfg.depth,
                early_stopping_rounds: (cut < n).then_some(50),
                ..GbdtConfig::default()
            };
            let yf: Vec<f64> = ytr_i.iter().map(|&c| c as f64).collect();
            let (fit_idx, ev_idx): (Vec<usize>, Vec<usize>) = (0..n).partition(|&i| i < cut);
            let (fit, ev) = (train.take(&fit_idx), train.take(&ev_idx));
            let ey: Vec<f64> = ev_idx.iter().map(|&i| yf[i]).collect();
            let model = Gbdt::fit(&gcfg, &fit, &yf[..cut], None, (cut < n).then_some((&ev, ey.as_slice())))?;
            trees = Some(model.trees());
            model.predict_proba(&test)?
        }
        TabularModel::Logistic => Logistic::fit(&train, &ytr_i, k, cfg.lambda)?.predict_proba(&test)?,
        TabularModel::Lorentzian => class_probs(&rows(&train), &ytr_i, k, &rows(&test), &LorentzianConfig::default())?,
    };
    let fit_seconds = started.elapsed().as_secs_f64();
    let base_probs = vec![majority(&ytr_i, k); yte_i.len()];
    Ok(HoldoutReport {
        model: cfg.model,
        classes: enc.classes,
        train_rows: train.rows(),
        test_rows: test.rows(),
        fit_seconds,
        test: HoldoutScores::of(&yte_i, &probs)?,
        majority_baseline: HoldoutScores::of(&yte_i, &base_probs)?,
        trees,
        probs,
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn logistic_beats_nothing_on_a_separable_table_and_encodes_classes_sorted() {
        let mut text = String::from("x,y\n");
        for i in 0..60 {
            let x = i as f64 / 10.0;
            text.push_str(&format!("{x},{}\n", if x > 3.0 { "up" } else { "down" }));
        }
        let t = Table::parse(&text, Path::new("t.csv")).unwrap();
        let cfg = HoldoutConfig {
            model: TabularModel::Logistic,
            target: "y".into(),
            categorical: vec![],
            drop: vec![],
            iterations: 10,
            learning_rate: 0.1,
            depth: 2,
            eval_fraction: 0.0,
            lambda: 0.01,
        };
        let r = holdout(&t, &t, &cfg).unwrap();
        assert_eq!(r.classes, vec!["down", "up"]);
        assert!(r.test.accuracy > 0.9, "{:?}", r.test);
        assert_eq!(r.predictions_csv().lines().next(), Some("p_down,p_up"));
        let one = Table::parse("x,y\n1,a\n2,a\n", Path::new("o.csv")).unwrap();
        assert!(holdout(&one, &one, &cfg).unwrap_err().to_string().contains("single value"));
    }
}
