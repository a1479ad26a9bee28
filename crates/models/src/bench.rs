//! Training throughput of a model on synthetic data (`vane bench-train`): the same steps as the
//! PyTorch reference in `benches/torch_models.py` (forward, cross-entropy, backward, AdamW).
//!
//! Not public API: it exists for the `vane bench-train` CLI verb and may change without notice.

use std::time::Instant;

use burn::module::Module;
use burn::optim::{AdamWConfig, GradientsParams};
use burn::tensor::{Device, Distribution, Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::device::DeviceKind;
use crate::error::{Result, config_err};
use crate::loss::{LossSettings, classification_loss};
use crate::model::{ModelKind, ModelSpec};

/// Benchmark shape.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BenchShape {
    /// Model.
    pub model: ModelKind,
    /// Batch size.
    pub batch: usize,
    /// Window length.
    pub seq: usize,
    /// Features.
    pub features: usize,
    /// Hidden width (HRM both cells; CNN-LSTM channels and LSTM; TFT d_model).
    pub hidden: usize,
    /// Timed steps.
    pub steps: usize,
    /// Untimed warm-up steps.
    pub warmup: usize,
}

impl BenchShape {
    /// Every size must be ≥ 1 (an empty batch or window crashes the backends, and zero timed
    /// steps measures nothing); the error names the field.
    pub fn validate(&self) -> Result<()> {
        for (name, v) in [
            ("batch", self.batch),
            ("seq", self.seq),
            ("features", self.features),
            ("hidden", self.hidden),
            ("steps", self.steps),
        ] {
            if v == 0 {
                return config_err(format!("bench-train: {name} must be ≥ 1, got 0"));
            }
        }
        // One input batch is batch·seq·features floats; past 2³⁰ (4 GiB) it is a typo, not a bench.
        let elements = self.batch.checked_mul(self.seq).and_then(|x| x.checked_mul(self.features));
        if elements.is_none_or(|e| e > 1 << 30) {
            return config_err(format!(
                "bench-train: batch {} × seq {} × features {} is more than 2^30 input values (4 GiB); use smaller sizes",
                self.batch, self.seq, self.features
            ));
        }
        Ok(())
    }
}

/// The JSON line `vane bench-train --json` prints.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BenchReport {
    /// Model.
    pub model: String,
    /// Device.
    pub device: String,
    /// Trainable parameters.
    pub param_count: usize,
    /// Training samples per second.
    pub samples_per_s: f64,
    /// Milliseconds per training step.
    pub ms_per_step: f64,
    /// Peak resident memory of the process after the run, MiB (`VmHWM`, Linux; `None`
    /// elsewhere). On the CPU backend this bounds the memory a training step needs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_rss_mib: Option<f64>,
    /// GPU backends: bytes the device's memory pools had reserved after the run, MiB (`None` on
    /// the CPU backend, which has no pool report).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_reserved_mib: Option<f64>,
    /// GPU backends: bytes in live allocations after the run (weights, optimiser state), MiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_in_use_mib: Option<f64>,
}

/// Peak resident set of this process in MiB, from `/proc/self/status` (Linux only).
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// The network `shape` names, at its hidden width, everything else the model's default.
fn model_spec(shape: &BenchShape) -> ModelSpec {
    match shape.model {
        ModelKind::Hrm => ModelSpec {
            hidden_low: Some(shape.hidden),
            hidden_high: Some(shape.hidden),
            ..ModelSpec::of(ModelKind::Hrm)
        },
        ModelKind::CnnLstm => ModelSpec {
            conv_channels: Some(shape.hidden),
            lstm_hidden: Some(shape.hidden),
            ..ModelSpec::of(ModelKind::CnnLstm)
        },
        ModelKind::Tft => ModelSpec { d_model: Some(shape.hidden), ..ModelSpec::of(ModelKind::Tft) },
        ModelKind::Lorentzian => ModelSpec { hidden: Some(shape.hidden), ..ModelSpec::of(ModelKind::Lorentzian) },
    }
}

/// Runs `warmup + steps` training steps on random inputs (synthetic: x ~ N(0, 1), classes
/// uniform) and times the last `steps`, on the device of backend `kind` that `devices` names
/// (`[]`: the backend's default; see [`DeviceKind::open`]).
pub fn bench_train(shape: &BenchShape, kind: DeviceKind, devices: &[usize]) -> Result<BenchReport> {
    shape.validate()?;
    let device: Device = kind.open(devices)?;
    let cfg = model_spec(shape).resolve(shape.features, 3, 1, None)?;
    let ad = device.clone().autodiff();
    device.seed(0);
    let mut dropout = crate::nn::DropoutRng::seeded(0);
    let mut model = cfg.init(&ad)?;
    let param_count = model.num_params();
    let mut optim = AdamWConfig::new().with_weight_decay(0.01).with_epsilon(1e-8).init();
    let (b, t, f) = (shape.batch, shape.seq, shape.features);
    let x = Tensor::<3>::random([b, t, f], Distribution::Normal(0.0, 1.0), &ad);
    let classes: Vec<i64> = (0..b).map(|i| (i % 3) as i64).collect();
    let class = Tensor::<1, Int>::from_data(TensorData::new(classes, [b]), &ad);
    let target = class.clone().one_hot::<2>(3).float();
    let symbol = Tensor::<1, Int>::zeros([b], &ad);
    let weight = Tensor::<1>::ones([b], &ad);
    let settings = LossSettings::default();
    let mut run = |n: usize| {
        let mut last = None;
        for _ in 0..n {
            let out = model.forward_with(x.clone(), symbol.clone(), &mut dropout);
            let loss = classification_loss(out.logits, target.clone(), weight.clone(), &settings);
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(1e-3, model.clone(), grads);
            last = Some(loss);
        }
        // Reading the last loss waits for every queued kernel (asynchronous GPU backends).
        if let Some(l) = last {
            let _ = l.into_scalar::<f32>();
        }
    };
    run(shape.warmup);
    let start = Instant::now();
    run(shape.steps);
    let secs = start.elapsed().as_secs_f64();
    const MIB: f64 = 1024.0 * 1024.0;
    let pool = device.memory_pool_usage();
    Ok(BenchReport {
        model: shape.model.as_str().into(),
        device: kind.as_str().into(),
        param_count,
        samples_per_s: (b * shape.steps) as f64 / secs,
        ms_per_step: secs * 1000.0 / shape.steps.max(1) as f64,
        peak_rss_mib: peak_rss_mib(),
        device_reserved_mib: pool.as_ref().map(|u| u.bytes_reserved as f64 / MIB),
        device_in_use_mib: pool.as_ref().map(|u| u.bytes_in_use as f64 / MIB),
    })
}

/// The JSON line `vane bench-train --inference --json` prints: the latency of scoring one new bar,
/// i.e. one window of `seq` bars through the network at batch 1, without autodiff.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InferReport {
    /// Model.
    pub model: String,
    /// Device.
    pub device: String,
    /// Window length.
    pub seq: usize,
    /// Median milliseconds per window through burn (the path `vane predict` and the service use
    /// for CNN-LSTM and TFT models).
    pub burn_ms_p50: f64,
    /// 99th percentile of the same.
    pub burn_ms_p99: f64,
    /// HRM only: median milliseconds per window through [`crate::hrm::HrmInfer`], the plain-f32
    /// batch-of-one forward the seed 000 stack runtime uses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plain_ms_p50: Option<f64>,
    /// HRM only: 99th percentile of the same.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plain_ms_p99: Option<f64>,
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

/// p50 and p99 in milliseconds of `n` calls of `f` (the first error stops the timing).
fn timed(n: usize, mut f: impl FnMut() -> Result<()>) -> Result<(f64, f64)> {
    let mut ms = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        f()?;
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    ms.sort_by(f64::total_cmp);
    Ok((percentile(&ms, 0.5), percentile(&ms, 0.99)))
}

/// Per-bar inference latency: `warmup` untimed then `steps` timed forwards of one random window
/// (`shape.batch` is ignored: a new bar is one window). For the HRM, also its plain-f32 path.
pub fn bench_infer(shape: &BenchShape, kind: DeviceKind, devices: &[usize]) -> Result<InferReport> {
    shape.validate()?;
    let device: Device = kind.open(devices)?;
    let cfg = model_spec(shape).resolve(shape.features, 3, 1, None)?;
    device.seed(0);
    let model = cfg.init(&device)?;
    let mut dropout = crate::nn::DropoutRng::seeded(0);
    let (t, f) = (shape.seq, shape.features);
    let x = Tensor::<3>::random([1, t, f], Distribution::Normal(0.0, 1.0), &device);
    let symbol = Tensor::<1, Int>::zeros([1], &device);
    let mut one = || {
        let out = model.forward_with(x.clone(), symbol.clone(), &mut dropout);
        // Reading the logits back waits for the backend (asynchronous GPUs) and is what a caller does.
        let _ = out.logits.into_data();
        Ok(())
    };
    for _ in 0..shape.warmup {
        one()?;
    }
    let (burn_ms_p50, burn_ms_p99) = timed(shape.steps, one)?;
    let (plain_ms_p50, plain_ms_p99) = match &model {
        crate::model::SequenceModel::Hrm(hrm) => {
            let fast = crate::hrm::HrmInfer::from_model(hrm)?;
            let xs: Vec<f32> = x.clone().into_data().try_to_vec::<f32>().map_err(|e| {
                crate::error::ModelError::Data(format!("bench-train --inference: reading the window back: {e:?}"))
            })?;
            let mut scratch = crate::hrm::HrmScratch::new();
            let mut out = vec![0.0f32; fast.n_classes()];
            for _ in 0..shape.warmup {
                fast.probs(&xs, &mut scratch, &mut out)?;
            }
            let (p50, p99) = timed(shape.steps, || fast.probs(&xs, &mut scratch, &mut out))?;
            (Some(p50), Some(p99))
        }
        _ => (None, None),
    };
    Ok(InferReport {
        model: shape.model.as_str().into(),
        device: kind.as_str().into(),
        seq: shape.seq,
        burn_ms_p50,
        burn_ms_p99,
        plain_ms_p50,
        plain_ms_p99,
    })
}
