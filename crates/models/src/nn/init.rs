//! PyTorch's default initialisations of burn's layers.

use burn::nn::{Initializer, LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::tensor::Device;

/// A linear layer with PyTorch's default initialisation (weights and bias uniform in ±1/√fan_in).
/// The sizes are ≥ 1: callers validate their config first.
pub(crate) fn linear(d_in: usize, d_out: usize, bias: bool, device: &Device) -> Linear {
    let k = 1.0 / (d_in.max(1) as f64).sqrt();
    LinearConfig::new(d_in, d_out)
        .with_bias(bias)
        .with_initializer(Initializer::Uniform { min: -k, max: k })
        .init(device)
}

/// A layer norm over the last dimension (ε = 1e-5, as PyTorch).
pub(crate) fn layer_norm(d: usize, device: &Device) -> LayerNorm {
    LayerNormConfig::new(d).with_epsilon(1e-5).init(device)
}
