//! One file per verb: a few lines calling the library, returning a [`crate::output::Render`]
//! report.

pub(crate) mod backtest;
pub(crate) mod bench_train;
pub(crate) mod calibrate;
pub(crate) mod db;
pub(crate) mod demo;
pub(crate) mod download;
pub(crate) mod export;
pub(crate) mod features;
pub(crate) mod import;
pub(crate) mod info;
pub(crate) mod label;
pub(crate) mod metrics;
pub(crate) mod pg_pipeline;
pub(crate) mod predict;
pub(crate) mod prepare;
pub(crate) mod report;
pub(crate) mod resample;
pub(crate) mod runs;
pub(crate) mod serve;
pub(crate) mod split;
pub(crate) mod stack;
pub(crate) mod stack_backtest;
pub(crate) mod tabular;
pub(crate) mod train;
pub(crate) mod train_test;
pub(crate) mod wfo;
pub(crate) mod worker;

/// Wraps the error of reading `path` as bars of `given` with a hint when the file's own open
/// times step by another interval (`vane import --interval 1h` on a 4h file): the hint names
/// the file, both intervals and the flag to change. Other errors pass through unchanged.
pub(crate) fn with_interval_hint(
    e: impl Into<anyhow::Error>,
    path: &std::path::Path,
    given: vane_core::Interval,
    flag: &str,
) -> anyhow::Error {
    let e = e.into();
    let found =
        vane_market_data::read_bars_file(path, None).ok().and_then(|bars| vane_core::Interval::infer(bars.open_time()));
    match found {
        Some(found) if found != given => {
            e.context(format!("{} holds {found} bars, not {given}: pass {flag} {found}", path.display()))
        }
        _ => e,
    }
}
