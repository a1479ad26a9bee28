//! A trainable Lorentzian classifier (seed 003): the Lorentzian distance of jdehorty's kNN scan,
//! `d(x, y) = Σ_i ln(1 + |x_i − y_i|)`, to learned prototypes instead of to stored bars, trained
//! by gradient descent with the seed's epochs, learning rate and batch size.
//!
//! ```text
//! v = flatten(x[:, seq−L .. seq, :])                 L = lookback (default 1: the current bar)
//! z = dropout(Linear(L·F → H)(v))                    H = hidden (the learned metric); H = 0: z = v
//! d_j = Σ_i ln(1 + |z_i − p_{j,i}|)                  P prototypes per class, p_j ∈ ℝ^H
//! τ = softplus(raw_τ) > 0                            learned temperature, starts at 1
//! logit_c = logsumexp_{j ∈ class c}(−d_j / τ)        a closer prototype → a higher logit
//! value = Linear(k·P → 1)(−d)                        regression head (Task::Regression)
//! ```
//!
//! The softmax of the logits is a soft nearest-prototype rule: as τ → 0 it puts all the mass on
//! the class of the nearest prototype. The logarithm makes the distance robust to one feature far
//! off (each coordinate adds at most `ln(1 + |Δ|)`, growing slowly), which is why the Lorentzian
//! metric ranks prototypes differently from the Euclidean one: many small differences cost more
//! than one large one.
//!
//! Prototypes are drawn uniform in ±1 and the projection as PyTorch's `nn.Linear`, from the
//! device's generator that the trainer seeds with `TrainConfig::seed`, so a run is reproducible.
//! `lookback` must not exceed the window length: [`crate::ModelConfig::validate_seq_len`] is
//! checked when a sequence job is parsed, by the trainer and by the artifact loader.

/// [`LorentzianConfig`].
pub mod config;
/// [`Lorentzian`].
pub mod model;

pub use config::{INITIAL_TEMPERATURE, LorentzianConfig, raw_temperature};
pub use model::Lorentzian;
