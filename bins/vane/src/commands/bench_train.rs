//! `vane bench-train`.

use anyhow::Result;
use serde::Serialize;
use vane_models::bench::{BenchReport, BenchShape, bench_train};

use crate::args::bench_train::BenchTrainArgs;
use crate::output::Render;

#[derive(Serialize)]
pub(crate) struct Bench {
    #[serde(flatten)]
    report: BenchReport,
    #[serde(skip)]
    shape: BenchShape,
}

pub(crate) fn run(a: BenchTrainArgs) -> Result<Bench> {
    let shape = BenchShape {
        model: a.model,
        batch: a.batch,
        seq: a.seq,
        features: a.features,
        hidden: a.hidden,
        steps: a.steps,
        warmup: a.warmup,
    };
    Ok(Bench { report: bench_train(&shape, a.device)?, shape })
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
