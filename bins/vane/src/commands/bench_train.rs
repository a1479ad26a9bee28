//! `vane bench-train`.

use anyhow::Result;
use serde::Serialize;
use vane_models::bench::{BenchReport, BenchShape, InferReport, bench_infer, bench_train};

use crate::args::bench_train::BenchTrainArgs;
use crate::output::Render;

#[derive(Serialize)]
pub(crate) struct Bench {
    #[serde(flatten)]
    report: BenchReport,
    #[serde(skip)]
    shape: BenchShape,
}

/// `vane bench-train --inference`.
#[derive(Serialize)]
pub(crate) struct Infer {
    #[serde(flatten)]
    report: InferReport,
}

impl Render for Infer {
    fn human(&self) -> String {
        let r = &self.report;
        let mut out = format!(
            "{} on {}, one window of {} bars: burn p50 {:.3} ms, p99 {:.3} ms",
            r.model, r.device, r.seq, r.burn_ms_p50, r.burn_ms_p99
        );
        if let (Some(p50), Some(p99)) = (r.plain_ms_p50, r.plain_ms_p99) {
            out.push_str(&format!("; plain f32 p50 {p50:.3} ms, p99 {p99:.3} ms"));
        }
        out
    }
    fn compact(&self) -> bool {
        true
    }
}

/// Either a training or an inference bench.
#[derive(Serialize)]
#[serde(untagged)]
pub(crate) enum BenchOut {
    Train(Bench),
    Infer(Infer),
}

impl Render for BenchOut {
    fn human(&self) -> String {
        match self {
            BenchOut::Train(b) => b.human(),
            BenchOut::Infer(i) => i.human(),
        }
    }
    fn compact(&self) -> bool {
        true
    }
}

pub(crate) fn run(a: BenchTrainArgs) -> Result<BenchOut> {
    let shape = BenchShape {
        model: a.model,
        batch: a.batch,
        seq: a.seq,
        features: a.features,
        hidden: a.hidden,
        steps: a.steps,
        warmup: a.warmup,
    };
    if a.inference {
        return Ok(BenchOut::Infer(Infer { report: bench_infer(&shape, a.device, &a.devices)? }));
    }
    Ok(BenchOut::Train(Bench { report: bench_train(&shape, a.device, &a.devices)?, shape }))
}

impl Render for Bench {
    fn human(&self) -> String {
        let (r, s) = (&self.report, &self.shape);
        format!(
            "{}: {} params on {}, batch {} seq {} features {} hidden {}: {:.1} samples/s, {:.2} ms/step",
            r.model, r.param_count, r.device, s.batch, s.seq, s.features, s.hidden, r.samples_per_s, r.ms_per_step
        )
    }
    fn compact(&self) -> bool {
        true
    }
}

/// `vane devices`: what `--device`/`--devices` can name in this build.
#[derive(Serialize)]
pub(crate) struct DeviceList {
    devices: Vec<vane_models::device::DeviceInfo>,
}

pub(crate) fn devices() -> DeviceList {
    DeviceList { devices: vane_models::device::list_devices() }
}

impl Render for DeviceList {
    fn human(&self) -> String {
        let mut out = String::from("device  index  description\n");
        for d in &self.devices {
            out.push_str(&format!("{:<7} {:<6} {}\n", d.kind.as_str(), d.index, d.description));
        }
        if !self.devices.iter().any(|d| d.kind != vane_models::DeviceKind::Cpu) {
            out.push_str("(no GPU backend in this build: rebuild with `--features wgpu`, docs/models.md)\n");
        }
        out
    }
}
