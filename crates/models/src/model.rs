//! The model kinds behind one type: their configs and the serialisable model spec of a config
//! file. The forward output they share is in [`crate::output`].

use std::fmt;
use std::str::FromStr;

use burn::module::Module;
use burn::tensor::{Device, Int, Tensor};
use serde::{Deserialize, Serialize};

use crate::cnn_lstm::{CnnLstm, CnnLstmConfig};
use crate::error::{ModelError, Result, config_err};
use crate::hrm::{Hrm, HrmConfig};
use crate::lorentzian::{Lorentzian, LorentzianConfig};
use crate::nn::DropoutRng;
use crate::output::ModelOutput;
use crate::tft::{Tft, TftConfig};

/// Which network.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum ModelKind {
    /// Hierarchical recurrent model (seed 000).
    #[default]
    Hrm,
    /// CNN-LSTM v2 (seed 002).
    CnnLstm,
    /// Temporal Fusion Transformer (seed 004).
    Tft,
    /// Trainable Lorentzian classifier: learned prototypes under the Lorentzian distance (seed 003).
    Lorentzian,
}

impl ModelKind {
    /// `"hrm"`, `"cnn-lstm"`, `"tft"` or `"lorentzian"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hrm => "hrm",
            Self::CnnLstm => "cnn-lstm",
            Self::Tft => "tft",
            Self::Lorentzian => "lorentzian",
        }
    }
}

impl fmt::Display for ModelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ModelKind {
    type Err = ModelError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "hrm" => Ok(Self::Hrm),
            "cnn-lstm" | "cnn_lstm" => Ok(Self::CnnLstm),
            "tft" => Ok(Self::Tft),
            "lorentzian" => Ok(Self::Lorentzian),
            other => config_err(format!("unknown model {other:?} (expected hrm, cnn-lstm, tft or lorentzian)")),
        }
    }
}

/// The `[model]` table of a training config: the kind plus optional overrides of its defaults.
/// Fields that do not apply to the chosen kind are rejected.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelSpec {
    /// `hrm`, `cnn-lstm`, `tft` or `lorentzian`.
    pub kind: ModelKind,
    /// HRM: fast-cell width (default 64).
    pub hidden_low: Option<usize>,
    /// HRM: slow-cell width (default 64).
    pub hidden_high: Option<usize>,
    /// HRM: slow-cell period (default 10).
    pub high_period: Option<usize>,
    /// HRM: recurrent cell, `"gru"` or `"lstm"` (default `"lstm"`; seed 000's examples: `"gru"`).
    pub cell: Option<crate::hrm::HrmCell>,
    /// CNN-LSTM: convolution channels (default 64).
    pub conv_channels: Option<usize>,
    /// CNN-LSTM: residual blocks (default 2).
    pub n_conv_blocks: Option<usize>,
    /// CNN-LSTM: kernel size (default 3).
    pub kernel_size: Option<usize>,
    /// CNN-LSTM: LSTM width (default 64).
    pub lstm_hidden: Option<usize>,
    /// CNN-LSTM (default 4) and TFT (default 8): attention heads.
    pub n_heads: Option<usize>,
    /// TFT: model width (default 128).
    pub d_model: Option<usize>,
    /// TFT: quantiles (default [0.1, 0.5, 0.9]).
    pub quantiles: Option<Vec<f64>>,
    /// TFT: positional encoding on the encoder input, `"sinusoidal"` (default) or `"none"`.
    pub positional_encoding: Option<crate::tft::PositionalEncoding>,
    /// Lorentzian: learned prototypes per class (default 4).
    pub prototypes: Option<usize>,
    /// Lorentzian: width of the learned projection, 0 = none (default 32).
    pub hidden: Option<usize>,
    /// Lorentzian: the last steps of the window it reads (default 1, at most `data.seq_len`).
    pub lookback: Option<usize>,
    /// Dropout; when absent the training preset's dropout, else the model's default.
    pub dropout: Option<f64>,
}

/// A fully specified model config (what `config.json` stores).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ModelConfig {
    /// HRM.
    Hrm(HrmConfig),
    /// CNN-LSTM v2.
    CnnLstm(CnnLstmConfig),
    /// TFT.
    Tft(TftConfig),
    /// Lorentzian classifier.
    Lorentzian(LorentzianConfig),
}

impl ModelSpec {
    /// A spec of this kind with every default.
    pub fn of(kind: ModelKind) -> Self {
        Self { kind, ..Self::default() }
    }

    /// Resolves the spec for data with `n_features`, `n_classes` and `n_symbols`; `preset_dropout`
    /// applies when the spec sets none.
    pub fn resolve(
        &self,
        n_features: usize,
        n_classes: usize,
        n_symbols: usize,
        preset_dropout: Option<f64>,
    ) -> Result<ModelConfig> {
        let foreign = |names: &[(&str, bool)]| -> Result<()> {
            match names.iter().find(|(_, set)| *set) {
                Some((n, _)) => config_err(format!("model field `{n}` does not apply to {}", self.kind)),
                None => Ok(()),
            }
        };
        let hrm_fields = [
            ("hidden_low", self.hidden_low.is_some()),
            ("hidden_high", self.hidden_high.is_some()),
            ("high_period", self.high_period.is_some()),
            ("cell", self.cell.is_some()),
        ];
        let cnn_fields = [
            ("conv_channels", self.conv_channels.is_some()),
            ("n_conv_blocks", self.n_conv_blocks.is_some()),
            ("kernel_size", self.kernel_size.is_some()),
            ("lstm_hidden", self.lstm_hidden.is_some()),
        ];
        let tft_fields = [
            ("d_model", self.d_model.is_some()),
            ("quantiles", self.quantiles.is_some()),
            ("positional_encoding", self.positional_encoding.is_some()),
        ];
        let lorentzian_fields = [
            ("prototypes", self.prototypes.is_some()),
            ("hidden", self.hidden.is_some()),
            ("lookback", self.lookback.is_some()),
        ];
        let dropout = self.dropout.or(preset_dropout);
        let cfg = match self.kind {
            ModelKind::Hrm => {
                foreign(&cnn_fields)?;
                foreign(&tft_fields)?;
                foreign(&lorentzian_fields)?;
                foreign(&[("n_heads", self.n_heads.is_some())])?;
                let mut c = HrmConfig::new(n_features).with_n_classes(n_classes);
                c.hidden_low = self.hidden_low.unwrap_or(c.hidden_low);
                c.hidden_high = self.hidden_high.unwrap_or(c.hidden_high);
                c.high_period = self.high_period.unwrap_or(c.high_period);
                c.cell = Some(self.cell.unwrap_or_default());
                c.dropout = dropout.unwrap_or(c.dropout);
                ModelConfig::Hrm(c)
            }
            ModelKind::CnnLstm => {
                foreign(&hrm_fields)?;
                foreign(&tft_fields)?;
                foreign(&lorentzian_fields)?;
                let mut c = CnnLstmConfig::new(n_features).with_n_classes(n_classes);
                c.conv_channels = self.conv_channels.unwrap_or(c.conv_channels);
                c.n_conv_blocks = self.n_conv_blocks.unwrap_or(c.n_conv_blocks);
                c.kernel_size = self.kernel_size.unwrap_or(c.kernel_size);
                c.lstm_hidden = self.lstm_hidden.unwrap_or(c.lstm_hidden);
                c.n_heads = self.n_heads.unwrap_or(c.n_heads);
                c.dropout = dropout.unwrap_or(c.dropout);
                ModelConfig::CnnLstm(c)
            }
            ModelKind::Tft => {
                foreign(&hrm_fields)?;
                foreign(&cnn_fields)?;
                foreign(&lorentzian_fields)?;
                let mut c = TftConfig::new(n_features).with_n_classes(n_classes).with_n_symbols(n_symbols);
                c.d_model = self.d_model.unwrap_or(c.d_model);
                c.n_heads = self.n_heads.unwrap_or(c.n_heads);
                c.quantiles = self.quantiles.clone().unwrap_or(c.quantiles);
                c.positional_encoding = self.positional_encoding.or(c.positional_encoding);
                c.dropout = dropout.unwrap_or(c.dropout);
                ModelConfig::Tft(c)
            }
            ModelKind::Lorentzian => {
                foreign(&hrm_fields)?;
                foreign(&cnn_fields)?;
                foreign(&tft_fields)?;
                foreign(&[("n_heads", self.n_heads.is_some())])?;
                let mut c = LorentzianConfig::new(n_features).with_n_classes(n_classes);
                c.prototypes = self.prototypes.unwrap_or(c.prototypes);
                c.hidden = self.hidden.unwrap_or(c.hidden);
                c.lookback = self.lookback.unwrap_or(c.lookback);
                c.dropout = dropout.unwrap_or(c.dropout);
                ModelConfig::Lorentzian(c)
            }
        };
        cfg.validate()?;
        Ok(cfg)
    }
}

impl ModelConfig {
    /// The kind.
    pub fn kind(&self) -> ModelKind {
        match self {
            Self::Hrm(_) => ModelKind::Hrm,
            Self::CnnLstm(_) => ModelKind::CnnLstm,
            Self::Tft(_) => ModelKind::Tft,
            Self::Lorentzian(_) => ModelKind::Lorentzian,
        }
    }

    /// Input features per step.
    pub fn n_features(&self) -> usize {
        match self {
            Self::Hrm(c) => c.n_features,
            Self::CnnLstm(c) => c.n_features,
            Self::Tft(c) => c.n_features,
            Self::Lorentzian(c) => c.n_features,
        }
    }

    /// Output classes.
    pub fn n_classes(&self) -> usize {
        match self {
            Self::Hrm(c) => c.n_classes,
            Self::CnnLstm(c) => c.n_classes,
            Self::Tft(c) => c.n_classes,
            Self::Lorentzian(c) => c.n_classes,
        }
    }

    /// Width of the regression output (quantiles for the TFT, else 1).
    pub fn n_values(&self) -> usize {
        match self {
            Self::Tft(c) => c.quantiles.len(),
            _ => 1,
        }
    }

    /// Quantile levels of the regression output: the TFT's, `None` for single-value models.
    pub fn quantiles(&self) -> Option<&[f64]> {
        match self {
            Self::Tft(c) => Some(&c.quantiles),
            _ => None,
        }
    }

    /// Checks every field of the kind's config; the error names the field.
    pub fn validate(&self) -> Result<()> {
        match self {
            Self::Hrm(c) => c.validate(),
            Self::CnnLstm(c) => c.validate(),
            Self::Tft(c) => c.validate(),
            Self::Lorentzian(c) => c.validate(),
        }
    }

    /// Checks that windows of `seq_len` steps suit the model (the Lorentzian classifier reads
    /// the last `lookback` steps; a GRU HRM needs `seq_len ≥ high_period`; the others read any
    /// length); the error names the field.
    pub fn validate_seq_len(&self, seq_len: usize) -> Result<()> {
        match self {
            Self::Lorentzian(c) => c.validate_seq_len(seq_len),
            Self::Hrm(c) => c.validate_seq_len(seq_len),
            _ => Ok(()),
        }
    }

    /// Builds the network on `device`, or an error naming the first bad field.
    pub fn init(&self, device: &Device) -> Result<SequenceModel> {
        Ok(match self {
            Self::Hrm(c) => SequenceModel::Hrm(c.init(device)?),
            Self::CnnLstm(c) => SequenceModel::CnnLstm(c.init(device)?),
            Self::Tft(c) => SequenceModel::Tft(c.init(device)?),
            Self::Lorentzian(c) => SequenceModel::Lorentzian(c.init(device)?),
        })
    }
}

/// Any of the four networks.
#[derive(Module, Debug)]
#[allow(clippy::large_enum_variant)]
pub enum SequenceModel {
    /// HRM.
    Hrm(Hrm),
    /// CNN-LSTM v2.
    CnnLstm(CnnLstm),
    /// TFT.
    Tft(Tft),
    /// Lorentzian classifier.
    Lorentzian(Lorentzian),
}

impl SequenceModel {
    /// Inference: `x: [batch, seq, F]`, `symbol: [batch]` (used by the TFT only), no dropout.
    pub fn forward(&self, x: Tensor<3>, symbol: Tensor<1, Int>) -> ModelOutput {
        self.forward_with(x, symbol, &mut DropoutRng::off())
    }

    /// The forward pass with dropout masks drawn from `rng` (training: a
    /// [`DropoutRng::seeded`] stream on an autodiff device).
    pub fn forward_with(&self, x: Tensor<3>, symbol: Tensor<1, Int>, rng: &mut DropoutRng) -> ModelOutput {
        match self {
            Self::Hrm(m) => m.forward(x, rng),
            Self::CnnLstm(m) => m.forward(x, rng),
            Self::Tft(m) => m.forward(x, symbol, rng),
            Self::Lorentzian(m) => m.forward(x, rng),
        }
    }
}
