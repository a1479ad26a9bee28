//! The command line: one file per verb with its clap arguments.

pub(crate) mod backtest;
pub(crate) mod bench_train;
pub(crate) mod calibrate;
pub(crate) mod data;
pub(crate) mod db;
pub(crate) mod demo;
pub(crate) mod download;
pub(crate) mod features;
pub(crate) mod label;
pub(crate) mod metrics;
pub(crate) mod predict;
pub(crate) mod prepare;
pub(crate) mod report;
pub(crate) mod runs;
pub(crate) mod serve;
pub(crate) mod split;
pub(crate) mod stack;
pub(crate) mod tabular;
pub(crate) mod train;
pub(crate) mod train_test;
pub(crate) mod wfo;
pub(crate) mod worker;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// vane: calibrated, cost-aware BUY / SELL / HOLD signals from exchange candles.
#[derive(Debug, Parser)]
#[command(name = "vane", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
    /// Print the result as JSON.
    #[arg(long, global = true)]
    pub(crate) json: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Download candles incrementally from an exchange into the parquet store.
    Download(download::DownloadArgs),
    /// Import a candle CSV into the store (merged by open time; nothing written on error).
    Import(data::ImportArgs),
    /// Export stored candles to CSV.
    Export(data::ExportArgs),
    /// The PostgreSQL store's schema: `db migrate`, `db status` (docs/postgres.md).
    Db(db::DbArgs),
    /// Inspect the store.
    Data {
        #[command(subcommand)]
        command: DataCommand,
    },
    /// Resample candles to a coarser interval.
    Resample(data::ResampleArgs),
    /// Compute a feature set (talib, v1, full, regime, lorentzian) over candles.
    Features(features::FeaturesArgs),
    /// Features (`full`) and seed 004's expected-return targets of stored series into the
    /// PostgreSQL store's processed_market_data, incrementally (docs/postgres.md).
    Prepare(prepare::PrepareArgs),
    /// Label candles (fixed, deadzone, percentile, triple-barrier, expected-return).
    Label(label::LabelArgs),
    /// Train/test index ranges of a purged splitter.
    Split(split::SplitArgs),
    /// Backtest positions on prices with costs; print the trading metrics.
    Backtest(backtest::BacktestArgs),
    /// Trading metrics of a return series.
    Metrics(metrics::MetricsArgs),
    /// Calibrate scores to probabilities (Platt, isotonic, or the better of the two).
    Calibrate(calibrate::CalibrateArgs),
    /// Train and evaluate a tabular model (gbdt, logistic, lorentzian) on CSV files.
    Tabular(tabular::TabularArgs),
    /// Train seed 001's models (θ search, walk-forward, GBDT, min_conf) into artifacts.
    Train(train::TrainArgs),
    /// Predict BUY/SELL/HOLD for a symbol from stored candles (per-symbol model, else global).
    Predict(predict::PredictArgs),
    /// Run the demo on the bundled real candles (offline).
    Demo(demo::DemoArgs),
    /// Time training steps of a sequence model on synthetic data (samples/s, ms/step).
    BenchTrain(bench_train::BenchTrainArgs),
    /// The training devices this build can reach (cpu, and each wgpu adapter when built with
    /// `--features wgpu`), with the index `--devices` takes.
    Devices,
    /// Serve the HTTP API (`GET /health`) on --addr until Ctrl-C.
    Serve(serve::ServeArgs),
    /// The runs registry: list, show and compare recorded training sessions (docs/runs.md).
    Runs(runs::RunsArgs),
    /// A self-contained HTML tearsheet of a recorded run (docs/runs.md).
    Report(report::ReportArgs),
    /// Walk-forward optimisation: per window, choose a grid candidate by a trading metric on a purged
    /// validation slice, trade the next days out of sample (docs/wfo.md).
    Wfo(wfo::WfoArgs),
    /// Seed 003's basic workflow: one chronological train/test split of the last days, one model,
    /// its test-split classification and trading metrics, model file and loss curve (docs/wfo.md).
    TrainTest(train_test::TrainTestArgs),
    /// Seed 000's L1 → L2 → L3 stack: `stack train`, `stack predict`, `stack backtest`
    /// (docs/stacking.md).
    Stack(stack::StackArgs),
    /// Run background training jobs from the job queue until Ctrl-C (beside or without `serve`).
    Worker(worker::WorkerArgs),
}

#[derive(Debug, Subcommand)]
pub(crate) enum DataCommand {
    /// Rows, time range, gaps and duplicates of every stored series.
    Info(data::InfoArgs),
}

/// `--data-dir`, shared by the verbs that use the store.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct DataDir {
    /// Folder of the parquet store.
    #[arg(long, default_value = "data")]
    pub(crate) data_dir: PathBuf,
}
