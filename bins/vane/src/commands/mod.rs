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
