//! The Lorentzian classifier network.

use burn::module::{Module, Param};
use burn::nn::Linear;
use burn::tensor::Tensor;
use burn::tensor::activation::softplus;

use crate::nn::{Dropout, DropoutRng};
use crate::output::ModelOutput;

/// The Lorentzian classifier: class logits from the Lorentzian distances of the embedded input to
/// learned prototypes (see the [module docs](crate::lorentzian)).
#[derive(Module, Debug)]
pub struct Lorentzian {
    /// The learned metric: `Linear(lookback·F → hidden)`; `None` when `hidden = 0`.
    pub projection: Option<Linear>,
    /// Prototypes `[n_classes · per_class, d]`, class-major: rows `c·P .. (c+1)·P` are class `c`'s.
    pub prototypes: Param<Tensor<2>>,
    /// Raw temperature `[1]`; τ = softplus(raw) > 0.
    pub temperature: Param<Tensor<1>>,
    /// Dropout on the embedding.
    pub dropout: Dropout,
    /// Regression head on the negative distances: `Linear(n_classes · per_class → 1)`.
    pub value_head: Linear,
    /// Steps of the window read (the last ones).
    pub lookback: usize,
    /// Classes.
    pub n_classes: usize,
    /// Prototypes per class.
    pub per_class: usize,
}

impl Lorentzian {
    /// τ = softplus(raw) `[1]`.
    pub fn tau(&self) -> Tensor<1> {
        softplus(self.temperature.val(), 1.0)
    }

    /// The flattened last `lookback` steps of `x: [batch, seq, F]` → `[batch, lookback·F]` (oldest
    /// step first). A window shorter than `lookback` (refused by
    /// [`ModelConfig::validate_seq_len`](crate::ModelConfig::validate_seq_len) before training and
    /// loading) is padded with zero (the normalised mean) steps in front rather than panicking.
    pub fn input(&self, x: Tensor<3>) -> Tensor<2> {
        let [b, t, f] = x.dims();
        let l = self.lookback.max(1);
        let x = if t >= l {
            x.narrow(1, t - l, l)
        } else {
            let pad = Tensor::<3>::zeros([b, l - t, f], &x.device());
            Tensor::cat(vec![pad, x], 1)
        };
        x.reshape([b, l * f])
    }

    /// The embedding `z`: the projected input (or the input itself without a projection).
    pub fn embed(&self, x: Tensor<3>) -> Tensor<2> {
        let v = self.input(x);
        match &self.projection {
            Some(p) => p.forward(v),
            None => v,
        }
    }

    /// Lorentzian distances `Σ_i ln(1 + |z_i − p_i|)` from each row of `z: [batch, d]` to each
    /// prototype → `[batch, n_classes · per_class]`.
    pub fn distances(&self, z: Tensor<2>) -> Tensor<2> {
        let [b, d] = z.dims();
        let p = self.prototypes.val();
        let [n, _] = p.dims();
        let diff = z.reshape([b, 1, d]) - p.reshape([1, n, d]);
        diff.abs().log1p().sum_dim(2).reshape([b, n])
    }

    /// `x: [batch, seq, F]` → logits `[batch, k]` (class `c`: logsumexp over its prototypes of
    /// `−d/τ`) and value `[batch, 1]` (a linear head on `−d`); dropout on `z` draws from `rng`.
    pub fn forward(&self, x: Tensor<3>, rng: &mut DropoutRng) -> ModelOutput {
        let [b, _, _] = x.dims();
        let z = self.dropout.forward(self.embed(x), rng);
        let d = self.distances(z);
        let (k, p) = (self.n_classes, self.per_class);
        let scores = d.clone().neg() / self.tau().reshape([1, 1]);
        let s = scores.reshape([b, k, p]);
        // A stable logsumexp: the shift is a constant for the gradient.
        let m = s.clone().max_dim(2).detach();
        let logits = (m.clone() + (s - m).exp().sum_dim(2).log()).reshape([b, k]);
        ModelOutput { logits, value: self.value_head.forward(d.neg()), confidence: None, interpretation: None }
    }
}
