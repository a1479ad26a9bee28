//! What a trained TFT attends to, summarised over a dataset (the validation windows): the mean
//! variable-selection weight of every input feature ("variable importance") and the mean
//! attention of the last step over the lags.

use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use crate::data::{SeqBatcher, WindowedDataset};
use crate::model::SequenceModel;

/// One feature's mean variable-selection weight.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FeatureWeight {
    /// The column name (as the feature set names it).
    pub feature: String,
    /// Mean weight over every step of every window (the weights of one step sum to 1 over the
    /// features).
    pub weight: f64,
}

/// A TFT's interpretation over a set of windows (`interpretation.json`'s `interpretation`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TftInterpretation {
    /// Mean variable-selection weight per feature, largest first; the weights sum to 1.
    pub variable_selection: Vec<FeatureWeight>,
    /// Mean attention weight (averaged over the heads) of the window's last step per lag: index
    /// 0 is the last bar itself, index k the bar k steps before it; sums to 1.
    pub attention_by_lag: Vec<f64>,
    /// Windows averaged over.
    pub windows: usize,
    /// The smallest and largest per-window sum of the mean selection weights (both 1 up to
    /// rounding: a check that every window's weights form a distribution).
    pub window_weight_sum_range: (f64, f64),
    /// How to read it.
    pub note: String,
}

impl TftInterpretation {
    /// The weights in the order of `columns` (0 for a name it does not hold).
    pub fn weights_by_column(&self, columns: &[String]) -> Vec<f64> {
        columns
            .iter()
            .map(|c| self.variable_selection.iter().find(|w| &w.feature == c).map_or(0.0, |w| w.weight))
            .collect()
    }
}

/// Summarises a TFT over every window of `ds` (batches of 256, no dropout); `columns` names the
/// features in matrix order. `None` for a model that is not a TFT, an empty dataset or a
/// column count that does not match.
pub fn interpret(
    model: &SequenceModel,
    ds: &WindowedDataset<'_>,
    columns: &[String],
    n_classes: usize,
    device: &Device,
) -> Option<TftInterpretation> {
    let SequenceModel::Tft(_) = model else { return None };
    let (t, f) = (ds.seq_len(), ds.n_features());
    if ds.is_empty() || columns.len() != f {
        return None;
    }
    let batcher = SeqBatcher { seq_len: t, n_features: f, n_classes };
    let mut var = vec![0.0f64; f];
    let mut lag = vec![0.0f64; t];
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    let idx: Vec<usize> = (0..ds.len()).collect();
    for chunk in idx.chunks(256) {
        let items: Vec<_> = chunk.iter().map(|&i| ds.get(i)).collect();
        let b = batcher.host(&items).to_device(device);
        let interp = model.forward(b.x, b.symbol).interpretation?;
        // Per window: the mean over its steps, [n, f].
        let per_window = interp.variable_weights.mean_dim(1).into_data().try_to_vec::<f32>().ok()?;
        for w in per_window.chunks(f) {
            let s: f64 = w.iter().map(|&x| f64::from(x)).sum();
            lo = lo.min(s);
            hi = hi.max(s);
            for (a, &x) in var.iter_mut().zip(w) {
                *a += f64::from(x);
            }
        }
        let att = interp.attention.narrow(1, t - 1, 1).sum_dim(0).into_data().try_to_vec::<f32>().ok()?;
        for (k, x) in att.into_iter().enumerate() {
            lag[t - 1 - k] += f64::from(x);
        }
    }
    let n = ds.len() as f64;
    let mut features: Vec<FeatureWeight> =
        columns.iter().zip(&var).map(|(name, v)| FeatureWeight { feature: name.clone(), weight: v / n }).collect();
    features.sort_by(|a, b| b.weight.total_cmp(&a.weight));
    Some(TftInterpretation {
        variable_selection: features,
        attention_by_lag: lag.iter().map(|v| v / n).collect(),
        windows: ds.len(),
        window_weight_sum_range: (lo, hi),
        note: "means over the validation windows; variable_selection: mean selection weight per feature over every \
               step (sums to 1); attention_by_lag: the last step's attention averaged over the heads, lag 0 is the \
               last bar"
            .into(),
    })
}
