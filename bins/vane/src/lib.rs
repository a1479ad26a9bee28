//! The `vane` command-line interface, in uv's shape: `args/<verb>.rs` holds each verb's clap
//! arguments, `commands/<verb>.rs` a few lines calling the library and returning a report, and
//! `output` renders every report one way (human text, or JSON with `--json`). Errors go to
//! stderr (as JSON with `--json`) with an exit code per error class (`failure`): 2 bad arguments,
//! 3 bad input data, 4 I/O, 5 network, 70 internal, 1 a run that reported its own failure.
#![warn(missing_docs)]

mod args;
mod commands;
mod failure;
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
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) if e.use_stderr() && args.iter().any(|a| a == "--json") => {
            let text = e.to_string();
            let message = text.strip_prefix("error: ").unwrap_or(&text).trim_end();
            let v = serde_json::json!({"error": {"class": "usage", "exit_code": 2, "message": message}});
            eprintln!("{v}");
            return ExitCode::from(2);
        }
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let json = cli.json;
    failure::install_panic_hook(json);
    let result = std::panic::catch_unwind(move || dispatch(cli.command, json));
    match result {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e)) => ExitCode::from(failure::report(&e, json)),
        Err(_) => ExitCode::from(vane_core::ErrorClass::Internal.exit_code()),
    }
}

fn dispatch(command: Command, json: bool) -> anyhow::Result<()> {
    match command {
        Command::Download(a) => commands::download::run(a).and_then(|r| emit(&r, json)),
        Command::Import(a) => commands::import::run(a).and_then(|r| emit(&r, json)),
        Command::Export(a) => commands::export::run(a).and_then(|r| emit(&r, json)),
        Command::Db(a) => commands::db::run(a).and_then(|r| emit(&r, json)),
        Command::Data { command: DataCommand::Info(a) } => commands::info::run(a).and_then(|r| emit(&r, json)),
        Command::Resample(a) => commands::resample::run(a).and_then(|r| emit(&r, json)),
        Command::Features(a) => commands::features::run(a, json).and_then(|r| emit(&r, json)),
        Command::Prepare(a) => commands::prepare::run(a).and_then(|r| emit(&r, json)),
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
        Command::Devices => emit(&commands::bench_train::devices(), json),
        Command::Serve(a) => commands::serve::run(a),
        Command::Worker(a) => commands::worker::run(a),
        Command::Runs(a) => commands::runs::run(a).and_then(|r| emit(&r, json)),
        Command::Report(a) => commands::report::run(a).and_then(|r| emit(&r, json)),
        Command::Wfo(a) => commands::wfo::run(a, json).and_then(|r| emit(&r, json)),
        Command::TrainTest(a) => commands::train_test::run(a, json).and_then(|r| emit(&r, json)),
        Command::Stack(a) => commands::stack::run(a, json).and_then(|r| emit(&r, json)),
    }
}
