//! `vane bench-train`.

use vane_models::{DeviceKind, ModelKind};

/// A size flag: an integer in 1..=max (0 or an absurd size is a usage error, before any backend
/// is touched or any memory allocated).
fn size(max: u64) -> clap::builder::RangedU64ValueParser<usize> {
    clap::builder::RangedU64ValueParser::<usize>::new().range(1..=max)
}

#[derive(Debug, clap::Args)]
pub(crate) struct BenchTrainArgs {
    /// Network to time.
    #[arg(long, value_enum)]
    pub(crate) model: ModelKind,
    /// Batch size.
    #[arg(long, default_value_t = 64, value_parser = size(65_536))]
    pub(crate) batch: usize,
    /// Window length.
    #[arg(long, default_value_t = 60, value_parser = size(100_000))]
    pub(crate) seq: usize,
    /// Features per step.
    #[arg(long, default_value_t = 20, value_parser = size(10_000))]
    pub(crate) features: usize,
    /// Hidden width (HRM cells; CNN-LSTM channels and LSTM; TFT d_model).
    #[arg(long, default_value_t = 64, value_parser = size(16_384))]
    pub(crate) hidden: usize,
    /// Timed training steps.
    #[arg(long, default_value_t = 20, value_parser = size(1_000_000))]
    pub(crate) steps: usize,
    /// Untimed warm-up steps.
    #[arg(long, default_value_t = 3)]
    pub(crate) warmup: usize,
    /// cpu | wgpu | cuda | tch.
    #[arg(long, value_enum, default_value = "cpu")]
    pub(crate) device: DeviceKind,
    /// Which device of the backend, by the index `vane devices` prints (default: the backend's
    /// default device). One index: vane trains on one device per process; several fail with
    /// what to do instead.
    #[arg(long, value_delimiter = ',')]
    pub(crate) devices: Vec<usize>,
    /// Time per-bar inference instead of training: one window of `--seq` bars through the network
    /// at batch 1, no autodiff (p50/p99 over `--steps`; the HRM also through its plain-f32 path).
    #[arg(long)]
    pub(crate) inference: bool,
}
