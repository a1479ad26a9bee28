//! HRM hyper-parameters.

use std::fmt;
use std::str::FromStr;

use burn::config::Config;
use burn::nn::Initializer;
use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use crate::error::{ModelError, config_err};
use crate::hrm::Hrm;
use crate::nn::check;
use crate::nn::init::{layer_norm, linear};
use crate::nn::{DropoutConfig, GruCellConfig, LstmCellConfig};

/// The recurrent cell of both HRM levels.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum HrmCell {
    /// LSTM cells (vane's original HRM; the default, so configs and models saved before the
    /// option existed load unchanged).
    #[default]
    Lstm,
    /// GRU cells: our reading of seed 000's predecessor (a low GRU fed `[x_t ‖ h_high]` every step,
    /// a high GRU updated every `high_period` steps); seed 000's examples set it.
    Gru,
}

impl HrmCell {
    /// `"lstm"` or `"gru"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Lstm => "lstm",
            Self::Gru => "gru",
        }
    }
}

impl fmt::Display for HrmCell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for HrmCell {
    type Err = ModelError;
    fn from_str(s: &str) -> crate::Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "lstm" => Ok(Self::Lstm),
            "gru" => Ok(Self::Gru),
            other => config_err(format!("unknown HRM cell {other:?} (expected \"gru\" or \"lstm\")")),
        }
    }
}

/// HRM hyper-parameters (seed 000: `--hrm-high-period 10 --hrm-hidden-low 64 --hrm-hidden-high 64`).
#[derive(Config, Debug)]
pub struct HrmConfig {
    /// Input features per step.
    pub n_features: usize,
    /// Output classes (2: a binary head, P(up) = class 1; 3: BUY/SELL/HOLD).
    #[config(default = 3)]
    pub n_classes: usize,
    /// Hidden size of the fast (every-step) cell.
    #[config(default = 64)]
    pub hidden_low: usize,
    /// Hidden size of the slow cell.
    #[config(default = 64)]
    pub hidden_high: usize,
    /// The slow cell updates every `high_period` steps.
    #[config(default = 10)]
    pub high_period: usize,
    /// Dropout before the heads, in `[0, 1)`.
    #[config(default = 0.1)]
    pub dropout: f64,
    /// Recurrent cell of both levels; absent (configs saved before the option) = LSTM.
    pub cell: Option<HrmCell>,
}

impl HrmConfig {
    /// The cell in effect (`cell`, LSTM when absent).
    pub fn cell_kind(&self) -> HrmCell {
        self.cell.unwrap_or_default()
    }

    /// Checks every field; the error names the field.
    pub fn validate(&self) -> crate::Result<()> {
        const O: &str = "HrmConfig";
        check::positive(O, "n_features", self.n_features)?;
        if self.n_classes < 2 {
            return config_err(format!("{O}.n_classes must be ≥ 2, got {}", self.n_classes));
        }
        check::positive(O, "hidden_low", self.hidden_low)?;
        check::positive(O, "hidden_high", self.hidden_high)?;
        check::positive(O, "high_period", self.high_period)?;
        check::probability(O, "dropout", self.dropout)
    }

    /// Checks that windows of `seq_len` steps let the slow cell update at least once:
    /// `seq_len ≥ high_period`. Enforced for the GRU cell; the LSTM cell keeps its old behaviour
    /// (a shorter window trains a model whose slow state stays zero) so that saved LSTM models
    /// and configs still load and train.
    pub fn validate_seq_len(&self, seq_len: usize) -> crate::Result<()> {
        if self.cell_kind() == HrmCell::Gru && seq_len < self.high_period {
            return config_err(format!(
                "HRM (gru): the window length seq_len {seq_len} is shorter than high_period {}: the slow cell \
                 would never update; raise data.seq_len to ≥ {} or lower model.high_period to ≤ {seq_len}",
                self.high_period, self.high_period
            ));
        }
        Ok(())
    }

    /// Builds the network on `device`, or an error naming the first bad field.
    pub fn init(&self, device: &Device) -> crate::Result<Hrm> {
        self.validate()?;
        let (hl, hh) = (self.hidden_low, self.hidden_high);
        // The low cell's input is [x_t, h_high]: one PyTorch LSTMCell/GRUCell(F + H_high, H_low),
        // whose input matrix is kept as two parameters, the x part and the feedback part, with
        // the same uniform ±1/√H_low initialisation. The feedback covers every input-side gate
        // (4·H_low for the LSTM, 3·H_low for the GRU).
        let k = 1.0 / (hl as f64).sqrt();
        let gates = match self.cell_kind() {
            HrmCell::Lstm => 4,
            HrmCell::Gru => 3,
        };
        let feedback = Initializer::Uniform { min: -k, max: k }.init([hh, gates * hl], device);
        let (low, high, low_gru, high_gru) = match self.cell_kind() {
            HrmCell::Lstm => (
                Some(LstmCellConfig::new(self.n_features, hl).init(device)?),
                Some(LstmCellConfig::new(hl, hh).init(device)?),
                None,
                None,
            ),
            HrmCell::Gru => (
                None,
                None,
                Some(GruCellConfig::new(self.n_features, hl).init(device)?),
                Some(GruCellConfig::new(hl, hh).init(device)?),
            ),
        };
        Ok(Hrm {
            low,
            feedback,
            high,
            low_gru,
            high_gru,
            norm: layer_norm(hl + hh, device),
            dropout: DropoutConfig::new(self.dropout).init()?,
            head: linear(hl + hh, self.n_classes, true, device),
            value_head: linear(hl + hh, 1, true, device),
            high_period: self.high_period,
            hidden_low: hl,
            hidden_high: hh,
        })
    }
}
