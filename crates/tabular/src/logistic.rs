//! Multinomial logistic regression with L2 regularisation — the baseline every model is reported
//! against. Features are standardised on the training data (missing values become the mean);
//! the penalised log-likelihood `Σ log p(y) − λ/2·‖W‖²` over one weight vector per class
//! (scikit-learn's multinomial parametrisation, `λ = 1/C`; intercepts unpenalised) is maximised
//! by Newton's method with a backtracking line search.

use serde::{Deserialize, Serialize};

use crate::data::Dataset;
use crate::{Result, TabularError};

/// A fitted model: weights per class over the standardised numeric columns, plus intercepts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Logistic {
    /// Numeric column names (categorical columns are not used).
    pub names: Vec<String>,
    /// Training means (for standardising and imputing).
    pub mean: Vec<f64>,
    /// Training standard deviations (1 for constant columns).
    pub scale: Vec<f64>,
    /// `classes × (features + 1)` weights, the intercept last.
    pub weights: Vec<Vec<f64>>,
}

fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Option<Vec<f64>> {
    // Gaussian elimination with partial pivoting.
    let n = b.len();
    for c in 0..n {
        let p = (c..n).max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs()))?;
        if a[p][c].abs() < 1e-300 {
            return None;
        }
        a.swap(c, p);
        b.swap(c, p);
        let (top, rest) = a.split_at_mut(c + 1);
        let pivot = &top[c];
        for (r, row) in rest.iter_mut().enumerate() {
            let f = row[c] / pivot[c];
            for (x, p) in row[c..].iter_mut().zip(&pivot[c..]) {
                *x -= f * p;
            }
            b[c + 1 + r] -= f * b[c];
        }
    }
    let mut x = vec![0.0; n];
    for r in (0..n).rev() {
        let s: f64 = (r + 1..n).map(|k| a[r][k] * x[k]).sum();
        x[r] = (b[r] - s) / a[r][r];
    }
    Some(x)
}

impl Logistic {
    /// Fits on the numeric columns of `d` with labels `0..classes` and L2 strength `lambda`.
    pub fn fit(d: &Dataset, y: &[usize], classes: usize, lambda: f64) -> Result<Self> {
        d.validate()?;
        let n = d.rows();
        if y.len() != n || n == 0 {
            return Err(TabularError::InvalidInput(format!("{} labels for {n} rows", y.len())));
        }
        if classes < 2 || y.iter().any(|&c| c >= classes) {
            return Err(TabularError::InvalidInput(format!("labels must be in 0..{classes} with ≥ 2 classes")));
        }
        if !(lambda >= 0.0 && lambda.is_finite()) {
            return Err(TabularError::InvalidParameter(format!("lambda = {lambda} must be ≥ 0")));
        }
        let f = d.numeric.len();
        let mut mean = vec![0.0; f];
        let mut scale = vec![1.0; f];
        for (j, c) in d.numeric.iter().enumerate() {
            let vals: Vec<f64> = c.iter().copied().filter(|v| v.is_finite()).collect();
            if !vals.is_empty() {
                mean[j] = vals.iter().sum::<f64>() / vals.len() as f64;
                let var = vals.iter().map(|v| (v - mean[j]).powi(2)).sum::<f64>() / vals.len() as f64;
                scale[j] = if var > 0.0 { var.sqrt() } else { 1.0 };
            }
        }
        let mut m = Self { names: d.numeric_names.clone(), mean, scale, weights: vec![vec![0.0; f + 1]; classes] };
        let x = m.design(d);
        // Symmetric parametrisation (scikit-learn's multinomial): every class has weights, all
        // penalised but the intercepts, whose common shift a tiny ridge pins down.
        let k = classes;
        let p_len = f + 1;
        let objective = |w: &[Vec<f64>]| -> f64 {
            let mut ll = 0.0;
            for (row, &c) in x.iter().zip(y) {
                let z: Vec<f64> = w.iter().map(|wc| wc.iter().zip(row).map(|(a, b)| a * b).sum()).collect();
                let mx = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let lse = mx + z.iter().map(|v| (v - mx).exp()).sum::<f64>().ln();
                ll += z[c] - lse;
            }
            let pen: f64 = w.iter().map(|wc| wc[..f].iter().map(|v| v * v).sum::<f64>()).sum();
            -ll + lambda / 2.0 * pen
        };
        let mut value = objective(&m.weights);
        for _ in 0..100 {
            // Gradient and Hessian over the k·p free parameters.
            let dim = k * p_len;
            let mut g = vec![0.0; dim];
            let mut h = vec![vec![0.0; dim]; dim];
            for (row, &c) in x.iter().zip(y) {
                let z: Vec<f64> = m.weights.iter().map(|wc| wc.iter().zip(row).map(|(a, b)| a * b).sum()).collect();
                let mx = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let e: Vec<f64> = z.iter().map(|v| (v - mx).exp()).collect();
                let s: f64 = e.iter().sum();
                let p: Vec<f64> = e.iter().map(|v| v / s).collect();
                for a in 0..k {
                    let r = p[a] - f64::from(u8::from(c == a));
                    for (i, xi) in row.iter().enumerate() {
                        g[a * p_len + i] += r * xi;
                    }
                    for b in 0..k {
                        let wab = p[a] * (f64::from(u8::from(a == b)) - p[b]);
                        for (i, xi) in row.iter().enumerate() {
                            for (jj, xj) in row.iter().enumerate() {
                                h[a * p_len + i][b * p_len + jj] += wab * xi * xj;
                            }
                        }
                    }
                }
            }
            for a in 0..k {
                for i in 0..f {
                    let q = a * p_len + i;
                    g[q] += lambda * m.weights[a][i];
                    h[q][q] += lambda;
                }
                h[a * p_len + f][a * p_len + f] += 1e-9;
            }
            if g.iter().map(|v| v * v).sum::<f64>().sqrt() < 1e-8 * n as f64 {
                break;
            }
            let Some(step) = solve(h, g.clone()) else {
                return Err(TabularError::InvalidInput(
                    "logistic regression: singular Hessian (use lambda > 0)".into(),
                ));
            };
            let mut t = 1.0;
            loop {
                let trial: Vec<Vec<f64>> = (0..classes)
                    .map(|a| {
                        if a < k {
                            (0..p_len).map(|i| m.weights[a][i] - t * step[a * p_len + i]).collect()
                        } else {
                            m.weights[a].clone()
                        }
                    })
                    .collect();
                let v = objective(&trial);
                if v <= value - 1e-4 * t * g.iter().zip(&step).map(|(a, b)| a * b).sum::<f64>() || t < 1e-8 {
                    m.weights = trial;
                    value = v;
                    break;
                }
                t /= 2.0;
            }
        }
        Ok(m)
    }

    /// Standardised rows with a trailing 1 (missing → 0, i.e. the mean).
    fn design(&self, d: &Dataset) -> Vec<Vec<f64>> {
        (0..d.rows())
            .map(|r| {
                let mut row: Vec<f64> = d
                    .numeric
                    .iter()
                    .enumerate()
                    .map(|(j, c)| {
                        let v = c[r];
                        if v.is_finite() { (v - self.mean[j]) / self.scale[j] } else { 0.0 }
                    })
                    .collect();
                row.push(1.0);
                row
            })
            .collect()
    }

    /// Class probabilities per row.
    pub fn predict_proba(&self, d: &Dataset) -> Result<Vec<Vec<f64>>> {
        if d.numeric_names != self.names {
            return Err(TabularError::InvalidInput(format!(
                "columns {:?} differ from the model's {:?}",
                d.numeric_names, self.names
            )));
        }
        Ok(self
            .design(d)
            .iter()
            .map(|row| {
                let z: Vec<f64> = self.weights.iter().map(|wc| wc.iter().zip(row).map(|(a, b)| a * b).sum()).collect();
                let mx = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let e: Vec<f64> = z.iter().map(|v| (v - mx).exp()).collect();
                let s: f64 = e.iter().sum();
                e.into_iter().map(|v| v / s).collect()
            })
            .collect())
    }
}

/// The "always the majority class" baseline: the training class frequencies as probabilities.
pub fn majority(y: &[usize], classes: usize) -> Vec<f64> {
    let mut p = vec![0.0; classes];
    for &c in y {
        if c < classes {
            p[c] += 1.0;
        }
    }
    let n: f64 = p.iter().sum();
    p.iter_mut().for_each(|v| *v /= n.max(1.0));
    p
}
