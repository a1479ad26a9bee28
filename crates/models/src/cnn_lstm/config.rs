//! CNN-LSTM v2 hyper-parameters.

use burn::config::Config;
use burn::nn::conv::Conv1dConfig;
use burn::nn::{Initializer, PaddingConfig1d};
use burn::tensor::Device;

use crate::cnn_lstm::{CnnLstm, ConvBlock};
use crate::error::config_err;
use crate::nn::check;
use crate::nn::init::{layer_norm, linear};
use crate::nn::{DropoutConfig, FusedLstmConfig, SelfAttentionConfig};

/// CNN-LSTM v2 hyper-parameters.
#[derive(Config, Debug)]
pub struct CnnLstmConfig {
    /// Input features per step.
    pub n_features: usize,
    /// Output classes.
    #[config(default = 3)]
    pub n_classes: usize,
    /// Convolution channels C.
    #[config(default = 64)]
    pub conv_channels: usize,
    /// Residual convolution blocks after the stem.
    #[config(default = 2)]
    pub n_conv_blocks: usize,
    /// Convolution kernel (odd; "same" padding).
    #[config(default = 3)]
    pub kernel_size: usize,
    /// LSTM hidden size H.
    #[config(default = 64)]
    pub lstm_hidden: usize,
    /// Attention heads (seed 002: 4 instead of 1); must divide H.
    #[config(default = 4)]
    pub n_heads: usize,
    /// Dropout in `[0, 1)` (seed 002's presets set it: 0.4 production_small, 0.3 large, 0.5
    /// conservative).
    #[config(default = 0.4)]
    pub dropout: f64,
}

fn conv(c_in: usize, c_out: usize, k: usize, device: &Device) -> ConvBlock {
    let bound = 1.0 / ((c_in * k) as f64).sqrt();
    ConvBlock {
        conv: Conv1dConfig::new(c_in, c_out, k)
            .with_padding(PaddingConfig1d::Explicit(k / 2, k / 2))
            .with_initializer(Initializer::Uniform { min: -bound, max: bound })
            .init(device),
        norm: layer_norm(c_out, device),
    }
}

impl CnnLstmConfig {
    /// Checks every field; the error names the field.
    pub fn validate(&self) -> crate::Result<()> {
        const O: &str = "CnnLstmConfig";
        check::positive(O, "n_features", self.n_features)?;
        if self.n_classes < 2 {
            return config_err(format!("{O}.n_classes must be ≥ 2, got {}", self.n_classes));
        }
        check::positive(O, "conv_channels", self.conv_channels)?;
        check::positive(O, "kernel_size", self.kernel_size)?;
        if self.kernel_size.is_multiple_of(2) {
            return config_err(format!("{O}.kernel_size must be odd, got {}", self.kernel_size));
        }
        check::heads_divide(O, "lstm_hidden", self.lstm_hidden, self.n_heads)?;
        check::probability(O, "dropout", self.dropout)
    }

    /// Builds the network on `device`, or an error naming the first bad field.
    pub fn init(&self, device: &Device) -> crate::Result<CnnLstm> {
        self.validate()?;
        let (c, h, k) = (self.conv_channels, self.lstm_hidden, self.kernel_size);
        Ok(CnnLstm {
            stem: conv(self.n_features, c, k, device),
            blocks: (0..self.n_conv_blocks).map(|_| conv(c, c, k, device)).collect(),
            lstm: FusedLstmConfig::new(c, h).init(device)?,
            attention: SelfAttentionConfig::new(h, self.n_heads, self.dropout).init(device)?,
            attention_norm: layer_norm(h, device),
            dropout: DropoutConfig::new(self.dropout).init()?,
            dir_hidden: linear(2 * h, h, true, device),
            dir_out: linear(h, self.n_classes, true, device),
            confidence: linear(2 * h, 1, true, device),
            value: linear(2 * h, 1, true, device),
        })
    }
}
