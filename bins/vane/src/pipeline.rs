//! `vane train`, `vane predict`, and the seed 001 part of `vane demo`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use vane_core::{DAY_MS, Symbol, Timestamp};
use vane_market_data::{DownloadRequest, Downloader, Exchange, ParquetStore, RetryPolicy, Sleeper};
use vane_pipeline::{Mode, Predictor, TrainConfig, TrainReport, train};

use crate::DataDir;

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum ModeArg {
    Quality,
    Fast,
}

#[derive(Debug, clap::Args)]
pub(crate) struct TrainArgs {
    /// TOML config (every field optional; see examples/seed001.toml).
    #[arg(long)]
    pub(crate) config: Option<PathBuf>,
    /// quality: more θ candidates and trees; fast: for regular retraining.
    #[arg(long, value_enum, default_value = "quality")]
    pub(crate) mode: ModeArg,
    /// Override the config's symbols.
    #[arg(long, value_delimiter = ',')]
    pub(crate) symbols: Vec<Symbol>,
    /// Also train one model per symbol.
    #[arg(long)]
    pub(crate) per_symbol: bool,
    /// Train on shuffled labels (the leakage alarm: out-of-sample scores must fall to chance).
    #[arg(long)]
    pub(crate) permute_labels: bool,
    #[command(flatten)]
    pub(crate) data: DataDir,
    /// Artifacts folder.
    #[arg(long, default_value = "artifacts")]
    pub(crate) artifacts_dir: PathBuf,
    /// Print the report as JSON.
    #[arg(long)]
    pub(crate) json: bool,
    /// Sequence models: backend (cpu | wgpu | cuda | tch); overrides the config's `device`.
    #[arg(long)]
    pub(crate) device: Option<vane_models::DeviceKind>,
    /// Sequence models: seed 002 preset (production_small, production_large, quick_experiment,
    /// conservative); config-file and --set values still override it.
    #[arg(long)]
    pub(crate) preset: Option<vane_models::Preset>,
    /// Override any config value, e.g. `--set train.learning_rate=1e-4 --set model.hidden_low=32
    /// --set data.seq_len=30` (repeatable; applied after the file).
    #[arg(long = "set", value_name = "TABLE.KEY=VALUE")]
    pub(crate) set: Vec<String>,
    /// Sequence models: continue an interrupted run from its checkpoint.
    #[arg(long)]
    pub(crate) resume: bool,
}

pub(crate) fn run_train(a: TrainArgs) -> Result<()> {
    let text = match &a.config {
        Some(p) => std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?,
        None => String::new(),
    };
    let mut doc: toml::Table = toml::from_str(&text).with_context(|| format!("{:?}", a.config))?;
    crate::sequence::apply_sets(&mut doc, &a.set)?;
    let kind = doc.get("model").and_then(|m| m.get("kind")).and_then(|k| k.as_str()).map(str::to_owned);
    match kind.as_deref() {
        Some("hrm" | "cnn-lstm" | "tft") => return crate::sequence::train(a, doc),
        Some("lorentzian") => anyhow::bail!(
            "the Lorentzian classifier trains on feature CSVs: `vane tabular --model lorentzian` (see docs/cli.md)"
        ),
        Some("gbdt") | None => {
            doc.remove("model");
        }
        Some(other) => anyhow::bail!("model.kind {other:?}: expected hrm, cnn-lstm, tft or gbdt"),
    }
    if a.device.is_some() || a.preset.is_some() || a.resume {
        anyhow::bail!("--device, --preset and --resume apply to sequence models (model.kind = hrm | cnn-lstm | tft)");
    }
    let mut cfg = TrainConfig::from_toml(&toml::to_string(&doc)?)
        .with_context(|| a.config.as_ref().map_or_else(|| "defaults".to_string(), |p| p.display().to_string()))?;
    if !a.symbols.is_empty() {
        cfg.symbols = a.symbols.clone();
    }
    cfg.per_symbol |= a.per_symbol;
    let mode = match a.mode {
        ModeArg::Quality => Mode::Quality,
        ModeArg::Fast => Mode::Fast,
    };
    let store = ParquetStore::new(&a.data.data_dir);
    let report = train(&store, &a.artifacts_dir, &cfg, mode, a.permute_labels)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&report);
    }
    Ok(())
}

pub(crate) fn print_report(r: &TrainReport) {
    let m = &r.metrics;
    println!(
        "θ = {} (mean walk-forward macro-F1 over {} windows); min_conf = {:.3}",
        r.theta,
        m.windows.len(),
        m.min_conf
    );
    println!("{:<24} {:>9} {:>9} {:>9}", "out of sample (mean)", "accuracy", "macro-F1", "log-loss");
    for (name, s) in &m.mean {
        let label = if name == vane_pipeline::artifacts::GBDT { name.clone() } else { format!("{name} baseline") };
        println!("{label:<24} {:>9.4} {:>9.4} {:>9.4}", s.accuracy, s.macro_f1, s.log_loss);
    }
    for (i, w) in m.windows.iter().enumerate() {
        let f1: Vec<String> = w.scores.iter().map(|(name, s)| format!("{name} {:.3}", s.macro_f1)).collect();
        println!(
            "  window {i}: {} → {}: macro-F1 {}",
            Timestamp(w.test_first_open_time_ms),
            Timestamp(w.test_last_open_time_ms),
            f1.join(" / ")
        );
    }
    for (id, dir) in &r.models {
        println!("model {id}: {}", dir.display());
    }
}

#[derive(Debug, clap::Args)]
pub(crate) struct PredictArgs {
    /// The symbol.
    #[arg(long)]
    symbol: Symbol,
    /// First download new candles incrementally.
    #[arg(long)]
    refresh: bool,
    /// Exchange for --refresh.
    #[arg(long, default_value = "binance-spot")]
    exchange: Exchange,
    /// Exchange endpoint for --refresh.
    #[arg(long)]
    base_url: Option<String>,
    /// With --refresh and nothing stored: start this many days back.
    #[arg(long, default_value_t = 1095)]
    since_days: u32,
    #[command(flatten)]
    data: DataDir,
    /// Artifacts folder.
    #[arg(long, default_value = "artifacts")]
    artifacts_dir: PathBuf,
    /// Print JSON: {symbol, signal, confidence, probs: {BUY, SELL, HOLD}, as_of, model_id_used}.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run_predict(a: PredictArgs) -> Result<()> {
    let predictor = Predictor::for_symbol(&a.artifacts_dir, &a.symbol)?;
    let interval = predictor.schema().interval;
    let store = ParquetStore::new(&a.data.data_dir);
    if a.refresh {
        let client = a.exchange.client(a.base_url.as_deref(), RetryPolicy::default(), Sleeper::default());
        let req = DownloadRequest {
            symbol: a.symbol.clone(),
            interval,
            since: Timestamp(Timestamp::now().0 - i64::from(a.since_days) * DAY_MS),
            until: None,
        };
        Downloader::new(client.as_ref(), &store).download(&req, &mut |_| {})?;
    }
    // Stored bars are closed bars only (downloads never store the open one).
    let bars = store.read(&a.symbol, interval)?;
    let p = predictor.predict(&a.symbol, &bars)?;
    if a.json {
        println!("{}", serde_json::to_string(&p)?);
    } else {
        println!(
            "{} {} at {} (confidence {:.3}; BUY {:.3} SELL {:.3} HOLD {:.3}; model {})",
            p.symbol, p.signal, p.as_of, p.confidence, p.probs.buy, p.probs.sell, p.probs.hold, p.model_id_used
        );
    }
    Ok(())
}
