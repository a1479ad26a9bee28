//! What every model's forward pass returns.

use burn::tensor::Tensor;

/// What every model's forward pass returns.
#[derive(Clone, Debug)]
pub struct ModelOutput {
    /// Class logits `[batch, k]`.
    pub logits: Tensor<2>,
    /// Regression output `[batch, 1]` (HRM, CNN-LSTM) or quantiles `[batch, n_q]` (TFT).
    pub value: Tensor<2>,
    /// CNN-LSTM's confidence head `[batch, 1]`, in (0, 1).
    pub confidence: Option<Tensor<2>>,
    /// TFT's interpretation weights.
    pub interpretation: Option<Interpretation>,
}

/// TFT interpretation weights.
#[derive(Clone, Debug)]
pub struct Interpretation {
    /// Variable-selection weights `[batch, seq, F]` (each row sums to 1).
    pub variable_weights: Tensor<3>,
    /// Head-averaged attention `[batch, seq (query), seq (key)]`, causal.
    pub attention: Tensor<3>,
}
