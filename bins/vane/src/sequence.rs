//! `vane bench-train` and the sequence-model half of `vane train` (hrm | cnn-lstm | tft).

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use vane_market_data::ParquetStore;
use vane_models::bench::{BenchShape, bench_train};
use vane_models::train::{EpochRecord, TrainObserver};
use vane_models::{DeviceKind, ModelKind};
use vane_pipeline::sequence::{SequenceJob, train_sequence};

use crate::pipeline::TrainArgs;

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

/// Applies `--set table.key=value` overrides to a parsed config (values parse as TOML, else as
/// strings).
pub(crate) fn apply_sets(doc: &mut toml::Table, sets: &[String]) -> Result<()> {
    for s in sets {
        let (path, raw) = s.split_once('=').with_context(|| format!("--set {s:?}: expected TABLE.KEY=VALUE"))?;
        let value: toml::Value = toml::from_str::<toml::Table>(&format!("v = {raw}"))
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or_else(|| toml::Value::String(raw.to_string()));
        let mut keys: Vec<&str> = path.trim().split('.').collect();
        let last = keys.pop().filter(|k| !k.is_empty()).with_context(|| format!("--set {s:?}: empty key"))?;
        let mut table = &mut *doc;
        for k in keys {
            table = table
                .entry(k.to_string())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()))
                .as_table_mut()
                .with_context(|| format!("--set {s:?}: {k} is not a table"))?;
        }
        table.insert(last.to_string(), value);
    }
    Ok(())
}

/// The progress bar of a training run.
struct Progress {
    bar: Option<ProgressBar>,
    quiet: bool,
}

impl TrainObserver for Progress {
    fn on_start(&mut self, epochs: usize, batches: usize) {
        if self.quiet {
            return;
        }
        let bar = ProgressBar::new((epochs * batches) as u64);
        bar.set_style(
            ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} batches {msg}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        self.bar = Some(bar);
    }
    fn on_batch(&mut self, epoch: usize, _batch: usize, loss: f64) {
        if let Some(b) = &self.bar {
            b.inc(1);
            b.set_message(format!("epoch {epoch} loss {loss:.4}"));
        }
    }
    fn on_epoch(&mut self, r: &EpochRecord) {
        if let Some(b) = &self.bar {
            let line = format!(
                "epoch {:>3}: train loss {:.4} acc {:.3} | val loss {:.4} acc {:.3} macro-F1 {:.3} | lr {:.2e}{}",
                r.epoch,
                r.train_loss,
                r.train_accuracy,
                r.val_loss,
                r.val_accuracy,
                r.val_macro_f1,
                r.lr,
                if r.best { "  *best" } else { "" }
            );
            if b.is_hidden() { eprintln!("{line}") } else { b.println(line) }
        }
    }
}

/// `vane train` for hrm | cnn-lstm | tft.
pub(crate) fn train(a: TrainArgs, mut doc: toml::Table) -> Result<()> {
    if let Some(p) = a.preset {
        let t = doc.entry("train").or_insert_with(|| toml::Value::Table(toml::Table::new()));
        let t = t.as_table_mut().context("train is not a table")?;
        t.entry("preset").or_insert_with(|| toml::Value::String(p.as_str().into()));
    }
    let mut job = SequenceJob::from_toml(&toml::to_string(&doc)?)
        .with_context(|| a.config.as_ref().map_or_else(|| "config".to_string(), |p| p.display().to_string()))?;
    if let Some(d) = a.device {
        job.device = d;
    }
    if !a.symbols.is_empty() {
        job.data.symbols = a.symbols.clone();
    }
    let store = ParquetStore::new(&a.data.data_dir);
    let mut progress = Progress { bar: None, quiet: a.json };
    let report = train_sequence(&store, &a.artifacts_dir, &job, &[], a.resume, &mut progress)?;
    if let Some(b) = &progress.bar {
        b.finish_and_clear();
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    let m = &report.metrics;
    println!(
        "{} on {}: {} params, {} training / {} validation windows, best epoch {} of {}{}",
        report.model,
        report.device,
        m.param_count,
        m.n_train,
        m.n_valid,
        m.best_epoch,
        m.epochs_run,
        if m.stopped_early { " (early stop)" } else { "" }
    );
    println!("validation: loss {:.4}, accuracy {:.4}, macro-F1 {:.4}", m.val_loss, m.val_accuracy, m.val_macro_f1);
    println!("pre-production checklist (seed 002):");
    for i in &report.checklist.items {
        println!("  [{}] {:<44} {}", if i.ok { "x" } else { " " }, i.rule, i.value);
    }
    println!("artifacts: {}", report.dir.display());
    Ok(())
}
