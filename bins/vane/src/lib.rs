//! The `vane` command-line interface. `main` only calls [`run`]; each verb is a small function
//! over the library crates. Errors go to stderr with exit code 1 (usage errors: 2).
#![warn(missing_docs)]

mod data;
mod download;
mod evaluate;
mod features;
mod label;
mod pipeline;
mod sequence;
mod tabular;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// vane: calibrated, cost-aware BUY / SELL / HOLD signals from exchange candles.
#[derive(Debug, Parser)]
#[command(name = "vane", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Download candles incrementally from an exchange into the parquet store.
    Download(download::DownloadArgs),
    /// Import a candle CSV into the store (merged by open time; nothing written on error).
    Import(data::ImportArgs),
    /// Export stored candles to CSV.
    Export(data::ExportArgs),
    /// Inspect the store.
    Data {
        #[command(subcommand)]
        command: DataCommand,
    },
    /// Resample candles to a coarser interval.
    Resample(data::ResampleArgs),
    /// Compute a feature set (talib, v1, full, regime, lorentzian) over candles.
    Features(features::FeaturesArgs),
    /// Label candles (fixed, deadzone, percentile, triple-barrier, expected-return).
    Label(label::LabelArgs),
    /// Train/test index ranges of a purged splitter.
    Split(label::SplitArgs),
    /// Backtest positions on prices with costs; print the trading metrics.
    Backtest(evaluate::BacktestArgs),
    /// Trading metrics of a return series.
    Metrics(evaluate::MetricsArgs),
    /// Calibrate scores to probabilities (Platt, isotonic, or the better of the two).
    Calibrate(evaluate::CalibrateArgs),
    /// Train and evaluate a tabular model (gbdt, logistic, lorentzian) on CSV files.
    Tabular(tabular::TabularArgs),
    /// Train seed 001's models (θ search, walk-forward, GBDT, min_conf) into artifacts.
    Train(pipeline::TrainArgs),
    /// Predict BUY/SELL/HOLD for a symbol from stored candles (per-symbol model, else global).
    Predict(pipeline::PredictArgs),
    /// Run the demo on the bundled real candles (offline).
    Demo(data::DemoArgs),
    /// Time training steps of a sequence model on synthetic data (samples/s, ms/step).
    BenchTrain(sequence::BenchTrainArgs),
}

#[derive(Debug, Subcommand)]
enum DataCommand {
    /// Rows, time range, gaps and duplicates of every stored series.
    Info(data::InfoArgs),
}

/// Runs the CLI on `args` (the program name first) and returns the process exit code.
pub fn run<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let result = match cli.command {
        Command::Download(a) => download::run(a),
        Command::Import(a) => data::import(a),
        Command::Export(a) => data::export(a),
        Command::Data { command: DataCommand::Info(a) } => data::info(a),
        Command::Resample(a) => data::resample(a),
        Command::Features(a) => features::run(a),
        Command::Label(a) => label::label(a),
        Command::Split(a) => label::split(a),
        Command::Backtest(a) => evaluate::backtest(a),
        Command::Metrics(a) => evaluate::metrics(a),
        Command::Calibrate(a) => evaluate::calibrate(a),
        Command::Tabular(a) => tabular::run(a),
        Command::Train(a) => pipeline::run_train(a),
        Command::Predict(a) => pipeline::run_predict(a),
        Command::Demo(a) => data::demo(a),
        Command::BenchTrain(a) => sequence::bench(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// `--data-dir`, shared by the verbs that use the store.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct DataDir {
    /// Folder of the parquet store.
    #[arg(long, default_value = "data")]
    pub(crate) data_dir: PathBuf,
}
