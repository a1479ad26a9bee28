//! TFT hyper-parameters.

use burn::config::Config;
use burn::nn::{EmbeddingConfig, Initializer};
use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use crate::error::config_err;
use crate::nn::check;
use crate::nn::init::linear;
use crate::nn::{BatchedGrnConfig, FusedLstmConfig, GateAddNormConfig, GrnConfig};
use crate::tft::{InterpretableAttentionConfig, Tft};

/// How the TFT encodes a step's position in the window before the LSTM encoder.
///
/// Seed 004 lists "Positional Encoding" beside the VSN, the LSTM encoder and the attention
/// without saying which kind; vane uses the fixed sinusoidal encoding of "Attention Is All You
/// Need" (no parameters, any window length, the same table at training and inference), added to
/// the variable-selection output `φ₀` — the encoder's input — so the attention block, which
/// reads the LSTM skip path `φ₀ + PE`, sees absolute positions too.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PositionalEncoding {
    /// No positional encoding (the TFT of Lim et al.; models saved before it existed).
    None,
    /// `PE[p, 2i] = sin(p / 10000^(2i/d))`, `PE[p, 2i+1] = cos(p / 10000^(2i/d))`, `p = 0` the
    /// window's first (oldest) step.
    #[default]
    Sinusoidal,
}

/// TFT hyper-parameters (seed 004: seq 60, d_model 128, 8 heads, dropout 0.2, sinusoidal
/// positional encoding).
#[derive(Config, Debug)]
pub struct TftConfig {
    /// Past observed features per step.
    pub n_features: usize,
    /// Number of symbols (static embedding rows).
    #[config(default = 1)]
    pub n_symbols: usize,
    /// Output classes.
    #[config(default = 3)]
    pub n_classes: usize,
    /// Model width d.
    #[config(default = 128)]
    pub d_model: usize,
    /// Attention heads; must divide `d_model`.
    #[config(default = 8)]
    pub n_heads: usize,
    /// Dropout, in `[0, 1)`.
    #[config(default = 0.2)]
    pub dropout: f64,
    /// Quantile levels in (0, 1) predicted by the regression head.
    #[config(default = "vec![0.1, 0.5, 0.9]")]
    pub quantiles: Vec<f64>,
    /// Positional encoding added to the encoder input; `None` (absent from a saved config: a model
    /// saved before positional encoding existed) means none.
    #[config(default = "Some(PositionalEncoding::Sinusoidal)")]
    pub positional_encoding: Option<PositionalEncoding>,
}

impl TftConfig {
    /// Checks every field; the error names the field.
    pub fn validate(&self) -> crate::Result<()> {
        const O: &str = "TftConfig";
        check::positive(O, "n_features", self.n_features)?;
        check::positive(O, "n_symbols", self.n_symbols)?;
        if self.n_classes < 2 {
            return config_err(format!("{O}.n_classes must be ≥ 2, got {}", self.n_classes));
        }
        check::heads_divide(O, "d_model", self.d_model, self.n_heads)?;
        if self.quantiles.is_empty() || self.quantiles.iter().any(|q| !(*q > 0.0 && *q < 1.0)) {
            return config_err(format!(
                "{O}.quantiles must be a non-empty list of levels in (0, 1), got {:?}",
                self.quantiles
            ));
        }
        check::probability(O, "dropout", self.dropout)
    }

    /// Builds the network on `device`, or an error naming the first bad field.
    pub fn init(&self, device: &Device) -> crate::Result<Tft> {
        self.validate()?;
        let d = self.d_model;
        let f = self.n_features;
        let p = self.dropout;
        let grn = |ctx: Option<usize>| GrnConfig::new(d, d, d, p).with_d_context(ctx).init(device);
        let u = Initializer::Uniform { min: -1.0, max: 1.0 };
        Ok(Tft {
            symbol_embedding: EmbeddingConfig::new(self.n_symbols, d).init(device),
            ctx_selection: grn(None)?,
            ctx_enrichment: grn(None)?,
            ctx_hidden: grn(None)?,
            ctx_cell: grn(None)?,
            feature_weight: u.init([f, d], device),
            feature_bias: u.init([f, d], device),
            feature_grns: BatchedGrnConfig::new(f, d, p).init(device)?,
            selection: GrnConfig::new(f * d, d, f, p).with_d_context(Some(d)).init(device)?,
            lstm: FusedLstmConfig::new(d, d).init(device)?,
            gate_lstm: GateAddNormConfig::new(d, p).init(device)?,
            enrichment: grn(Some(d))?,
            attention: InterpretableAttentionConfig::new(d, self.n_heads, p).init(device)?,
            gate_attention: GateAddNormConfig::new(d, p).init(device)?,
            positionwise: grn(None)?,
            gate_output: GateAddNormConfig::new(d, p).init(device)?,
            head: linear(d, self.n_classes, true, device),
            quantile_head: linear(d, self.quantiles.len(), true, device),
            positional: self.positional_encoding.unwrap_or(PositionalEncoding::None) == PositionalEncoding::Sinusoidal,
        })
    }
}
