//! The `vane` command-line interface, in uv's shape: `args/<verb>.rs` holds each verb's clap
//! arguments, `commands/<verb>.rs` a few lines calling the library and returning a report, and
//! `output` renders every report one way (human text, or JSON with `--json`). Errors go to
//! stderr with exit code 1 (usage errors: 2).
#![warn(missing_docs)]

mod args;
mod commands;
mod output;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;

pub use args::Cli;
use args::{Command, DataCommand};
use output::emit;

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
    let json = cli.json;
    let result = match cli.command {
        Command::Download(a) => commands::download::run(a).and_then(|r| emit(&r, json)),
        Command::Import(a) => commands::import::run(a).and_then(|r| emit(&r, json)),
        Command::Export(a) => commands::export::run(a).and_then(|r| emit(&r, json)),
        Command::Data { command: DataCommand::Info(a) } => commands::info::run(a).and_then(|r| emit(&r, json)),
        Command::Resample(a) => commands::resample::run(a).and_then(|r| emit(&r, json)),
        Command::Features(a) => commands::features::run(a).and_then(|r| emit(&r, json)),
        Command::Label(a) => commands::label::run(a).and_then(|r| emit(&r, json)),
        Command::Split(a) => commands::split::run(a).and_then(|r| emit(&r, json)),
        Command::Backtest(a) => commands::backtest::run(a).and_then(|r| emit(&r, json)),
        Command::Metrics(a) => commands::metrics::run(a).and_then(|r| emit(&r, json)),
        Command::Calibrate(a) => commands::calibrate::run(a).and_then(|r| emit(&r, json)),
        Command::Tabular(a) => commands::tabular::run(a).and_then(|r| emit(&r, json)),
        Command::Train(a) => commands::train::run(a, json).and_then(|r| emit(&r, json)),
        Command::Predict(a) => commands::predict::run(a).and_then(|r| emit(&r, json)),
        Command::Demo(a) => commands::demo::run(a).and_then(|r| emit(&r, json)),
        Command::BenchTrain(a) => commands::bench_train::run(a).and_then(|r| emit(&r, json)),
        Command::Serve(a) => commands::serve::run(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
