//! `vane bench-train`.

use vane_models::{DeviceKind, ModelKind};

#[derive(Debug, clap::Args)]
pub(crate) struct BenchTrainArgs {
    /// Network to time.
    #[arg(long, value_enum)]
    pub(crate) model: ModelKind,
    /// Batch size.
    #[arg(long, default_value_t = 64)]
    pub(crate) batch: usize,
    /// Window length.
    #[arg(long, default_value_t = 60)]
    pub(crate) seq: usize,
    /// Features per step.
    #[arg(long, default_value_t = 20)]
    pub(crate) features: usize,
    /// Hidden width (HRM cells; CNN-LSTM channels and LSTM; TFT d_model).
    #[arg(long, default_value_t = 64)]
    pub(crate) hidden: usize,
    /// Timed training steps.
    #[arg(long, default_value_t = 20)]
    pub(crate) steps: usize,
    /// Untimed warm-up steps.
    #[arg(long, default_value_t = 3)]
    pub(crate) warmup: usize,
    /// cpu | wgpu | cuda | tch.
    #[arg(long, value_enum, default_value = "cpu")]
    pub(crate) device: DeviceKind,
}
