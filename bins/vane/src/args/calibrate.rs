//! `vane calibrate`.

use std::path::PathBuf;

use vane_calibration::Method;

#[derive(Debug, clap::Args)]
pub(crate) struct CalibrateArgs {
    /// platt, isotonic or auto (the better on a held-out part, with fallbacks).
    #[arg(long, value_enum, default_value = "auto")]
    pub(crate) method: Method,
    /// CSV with `score,label` (label 0/1) to fit on, in time order.
    #[arg(long)]
    pub(crate) fit: PathBuf,
    /// CSV with a `score` column to calibrate.
    #[arg(long)]
    pub(crate) apply: PathBuf,
    /// Output CSV: the apply file's columns plus `calibrated`.
    #[arg(long)]
    pub(crate) output: PathBuf,
    /// Held-out share for `auto`.
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.3)]
    pub(crate) holdout: f64,
    /// Also save the fitted calibrator (calibration.json).
    #[arg(long)]
    pub(crate) save: Option<PathBuf>,
}
