//! `vane metrics`.

use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub(crate) struct MetricsArgs {
    /// CSV with a `return` column (one period per row).
    #[arg(long)]
    pub(crate) returns: PathBuf,
    /// Periods per year (4h: 2190, 1d: 365, 1m: 525600).
    #[arg(long, allow_negative_numbers = true)]
    pub(crate) periods_per_year: f64,
}
