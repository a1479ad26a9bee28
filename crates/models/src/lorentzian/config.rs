//! Lorentzian classifier hyper-parameters.

use burn::config::Config;
use burn::module::Param;
use burn::nn::Initializer;
use burn::tensor::{Device, Tensor, TensorData};

use crate::error::config_err;
use crate::lorentzian::Lorentzian;
use crate::nn::DropoutConfig;
use crate::nn::check;
use crate::nn::init::linear;

/// The temperature τ every model starts from (`softplus(raw) = 1`).
pub const INITIAL_TEMPERATURE: f64 = 1.0;

/// The raw parameter whose softplus is `tau` (`tau > 0`): `ln(e^τ − 1)`, computed stably.
pub fn raw_temperature(tau: f64) -> f64 {
    // ln(e^τ − 1) = τ + ln(1 − e^−τ)
    tau + (-(-tau).exp()).ln_1p()
}

/// Lorentzian classifier hyper-parameters (seed 003; its grid: hidden 32, 64, 128, 256 and dropout
/// 0.1, 0.2, 0.3, 0.5).
#[derive(Config, Debug)]
pub struct LorentzianConfig {
    /// Input features per step.
    pub n_features: usize,
    /// Output classes.
    #[config(default = 3)]
    pub n_classes: usize,
    /// Learned prototypes per class.
    #[config(default = 4)]
    pub prototypes: usize,
    /// Width of the learned linear projection (the learned metric); 0 = no projection, the
    /// distance is taken on the (normalised) features themselves.
    #[config(default = 32)]
    pub hidden: usize,
    /// The last `lookback` steps of the window are flattened into the input (1 = the current
    /// bar's features); at most the window length.
    #[config(default = 1)]
    pub lookback: usize,
    /// Dropout on the embedding during training, in `[0, 1)`.
    #[config(default = 0.1)]
    pub dropout: f64,
}

impl LorentzianConfig {
    /// Checks every field; the error names the field.
    pub fn validate(&self) -> crate::Result<()> {
        const O: &str = "LorentzianConfig";
        check::positive(O, "n_features", self.n_features)?;
        if self.n_classes < 2 {
            return config_err(format!("{O}.n_classes must be ≥ 2, got {}", self.n_classes));
        }
        check::positive(O, "prototypes", self.prototypes)?;
        check::positive(O, "lookback", self.lookback)?;
        check::probability(O, "dropout", self.dropout)
    }

    /// Checks that the window of `seq_len` steps holds the `lookback` steps the model reads.
    pub fn validate_seq_len(&self, seq_len: usize) -> crate::Result<()> {
        if self.lookback > seq_len {
            return config_err(format!(
                "LorentzianConfig.lookback {} exceeds the window length seq_len {seq_len}: set model.lookback ≤ {seq_len} or raise data.seq_len",
                self.lookback
            ));
        }
        Ok(())
    }

    /// Input width: `lookback · n_features`.
    pub fn d_input(&self) -> usize {
        self.lookback * self.n_features
    }

    /// Embedding width: `hidden`, or the input width without a projection.
    pub fn d_embedding(&self) -> usize {
        if self.hidden == 0 { self.d_input() } else { self.hidden }
    }

    /// Builds the network on `device`, or an error naming the first bad field. Weights draw from
    /// the device's seeded generator (the trainer seeds it with `TrainConfig::seed`): the
    /// projection as PyTorch's `nn.Linear`, the prototypes uniform in ±1, τ starts at
    /// [`INITIAL_TEMPERATURE`].
    pub fn init(&self, device: &Device) -> crate::Result<Lorentzian> {
        self.validate()?;
        let d_in = self.d_input();
        let d = self.d_embedding();
        let n_protos = self.n_classes * self.prototypes;
        let raw = raw_temperature(INITIAL_TEMPERATURE) as f32;
        Ok(Lorentzian {
            projection: (self.hidden > 0).then(|| linear(d_in, self.hidden, true, device)),
            prototypes: Initializer::Uniform { min: -1.0, max: 1.0 }.init([n_protos, d], device),
            temperature: Param::from_tensor(Tensor::from_data(TensorData::new(vec![raw], [1]), device)),
            dropout: DropoutConfig::new(self.dropout).init()?,
            value_head: linear(n_protos, 1, true, device),
            lookback: self.lookback,
            n_classes: self.n_classes,
            per_class: self.prototypes,
        })
    }
}
