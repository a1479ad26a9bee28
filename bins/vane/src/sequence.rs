//! `vane bench-train` and the sequence-model half of `vane train` (hrm | cnn-lstm | tft).

use anyhow::Result;
use vane_models::bench::{BenchShape, bench_train};
use vane_models::{DeviceKind, ModelKind};

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum ModelArg {
    Hrm,
    CnnLstm,
    Tft,
}

impl From<ModelArg> for ModelKind {
    fn from(m: ModelArg) -> Self {
        match m {
            ModelArg::Hrm => ModelKind::Hrm,
            ModelArg::CnnLstm => ModelKind::CnnLstm,
            ModelArg::Tft => ModelKind::Tft,
        }
    }
}

#[derive(Debug, clap::Args)]
pub(crate) struct BenchTrainArgs {
    /// Network to time.
    #[arg(long, value_enum)]
    model: ModelArg,
    /// Batch size.
    #[arg(long, default_value_t = 64)]
    batch: usize,
    /// Window length.
    #[arg(long, default_value_t = 60)]
    seq: usize,
    /// Features per step.
    #[arg(long, default_value_t = 20)]
    features: usize,
    /// Hidden width (HRM cells; CNN-LSTM channels and LSTM; TFT d_model).
    #[arg(long, default_value_t = 64)]
    hidden: usize,
    /// Timed training steps.
    #[arg(long, default_value_t = 20)]
    steps: usize,
    /// Untimed warm-up steps.
    #[arg(long, default_value_t = 3)]
    warmup: usize,
    /// cpu | wgpu | cuda | tch.
    #[arg(long, default_value = "cpu")]
    device: DeviceKind,
    /// Print one JSON line.
    #[arg(long)]
    json: bool,
}

pub(crate) fn bench(a: BenchTrainArgs) -> Result<()> {
    let shape = BenchShape {
        model: a.model.into(),
        batch: a.batch,
        seq: a.seq,
        features: a.features,
        hidden: a.hidden,
        steps: a.steps,
        warmup: a.warmup,
    };
    let r = bench_train(&shape, a.device)?;
    if a.json {
        println!("{}", serde_json::to_string(&r)?);
    } else {
        println!(
            "{}: {} params on {}, batch {} seq {} features {} hidden {}: {:.1} samples/s, {:.2} ms/step",
            r.model, r.param_count, r.device, a.batch, a.seq, a.features, a.hidden, r.samples_per_s, r.ms_per_step
        );
    }
    Ok(())
}
