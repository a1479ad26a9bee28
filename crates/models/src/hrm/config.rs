//! HRM hyper-parameters.

use burn::config::Config;
use burn::nn::Initializer;
use burn::tensor::Device;

use crate::error::config_err;
use crate::hrm::Hrm;
use crate::nn::check;
use crate::nn::init::{layer_norm, linear};
use crate::nn::{DropoutConfig, LstmCellConfig};

/// HRM hyper-parameters (seed 000: `--hrm-high-period 10 --hrm-hidden-low 64 --hrm-hidden-high 64`).
#[derive(Config, Debug)]
pub struct HrmConfig {
    /// Input features per step.
    pub n_features: usize,
    /// Output classes.
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
}

impl HrmConfig {
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

    /// Builds the network on `device`, or an error naming the first bad field.
    pub fn init(&self, device: &Device) -> crate::Result<Hrm> {
        self.validate()?;
        let (hl, hh) = (self.hidden_low, self.hidden_high);
        // The low cell's input is [x_t, h_high]: one PyTorch LSTMCell(F + H_high, H_low), whose
        // input matrix is kept as two parameters, the x part and the feedback part, with the same
        // uniform ±1/√H_low initialisation.
        let low = LstmCellConfig::new(self.n_features, hl).init(device)?;
        let k = 1.0 / (hl as f64).sqrt();
        let feedback = Initializer::Uniform { min: -k, max: k }.init([hh, 4 * hl], device);
        Ok(Hrm {
            low,
            feedback,
            high: LstmCellConfig::new(hl, hh).init(device)?,
            norm: layer_norm(hl + hh, device),
            dropout: DropoutConfig::new(self.dropout).init()?,
            head: linear(hl + hh, self.n_classes, true, device),
            value_head: linear(hl + hh, 1, true, device),
            high_period: self.high_period,
        })
    }
}
