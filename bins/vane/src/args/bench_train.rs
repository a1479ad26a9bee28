//! `vane bench-train`.

use vane_models::{DeviceKind, ModelKind};

/// A size flag: an integer ≥ 1 (0 is a usage error, before any backend is touched).
fn at_least_one() -> clap::builder::RangedU64ValueParser<usize> {
    clap::builder::RangedU64ValueParser::<usize>::new().range(1..)
}

#[derive(Debug, clap::Args)]
pub(crate) struct BenchTrainArgs {
    /// Network to time.
    #[arg(long, value_enum)]
    pub(crate) model: ModelKind,
    /// Batch size.
    #[arg(long, default_value_t = 64, value_parser = at_least_one())]
    pub(crate) batch: usize,
    /// Window length.
    #[arg(long, default_value_t = 60, value_parser = at_least_one())]
    pub(crate) seq: usize,
    /// Features per step.
    #[arg(long, default_value_t = 20, value_parser = at_least_one())]
    pub(crate) features: usize,
    /// Hidden width (HRM cells; CNN-LSTM channels and LSTM; TFT d_model).
    #[arg(long, default_value_t = 64, value_parser = at_least_one())]
    pub(crate) hidden: usize,
    /// Timed training steps.
    #[arg(long, default_value_t = 20, value_parser = at_least_one())]
    pub(crate) steps: usize,
    /// Untimed warm-up steps.
    #[arg(long, default_value_t = 3)]
    pub(crate) warmup: usize,
    /// cpu | wgpu | cuda | tch.
    #[arg(long, value_enum, default_value = "cpu")]
    pub(crate) device: DeviceKind,
}
