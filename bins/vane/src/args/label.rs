//! `vane label`.

use std::path::PathBuf;

use vane_labeling::barrier::{Touch, Vertical};

/// The labellers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum LabelKind {
    Fixed,
    Deadzone,
    Percentile,
    TripleBarrier,
    ExpectedReturn,
}

#[derive(Debug, clap::Args)]
pub(crate) struct LabelArgs {
    /// Candles (.csv in the fixture schema or .parquet).
    #[arg(long)]
    pub(crate) input: PathBuf,
    /// The labeller.
    #[arg(long, value_enum)]
    pub(crate) kind: LabelKind,
    /// Output CSV: `open_time_ms` and the label columns; empty fields where there is no label.
    #[arg(long)]
    pub(crate) output: PathBuf,
    /// Put the candles on a regular grid of this interval first (e.g. `1s`): empty slots become
    /// filled bars (carried close, zero volume), so horizons and σ windows count seconds, exactly
    /// as training does for intervals under a minute (docs/data.md, "1-second grid"). Adds a
    /// `filled` column (1 for a filled bar).
    #[arg(long)]
    pub(crate) grid: Option<vane_core::Interval>,
    /// Bars ahead (fixed, deadzone, percentile: 6; triple-barrier: 12; expected-return: 100).
    #[arg(long)]
    pub(crate) horizon: Option<usize>,
    /// fixed: the dead band θ.
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.01)]
    pub(crate) theta: f64,
    /// deadzone: half-width of the dead zone.
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.0005)]
    pub(crate) deadzone_eps: f64,
    /// deadzone: weight of dead-zone samples.
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.2)]
    pub(crate) deadzone_weight: f64,
    /// percentile: SELL below this quantile of the training returns.
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.30)]
    pub(crate) percentile_sell: f64,
    /// percentile: BUY above this quantile of the training returns.
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.70)]
    pub(crate) percentile_buy: f64,
    /// percentile: the first share of the rows that is the training window.
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.7)]
    pub(crate) train_fraction: f64,
    /// triple-barrier: σ window, in bars: σ is the standard deviation of the last N one-bar log
    /// returns up to the bar (ddof 1), the unit of --up-k-sigma and --dn-k-sigma; ≥ 2.
    #[arg(long, default_value_t = 60)]
    pub(crate) sigma_window: usize,
    /// triple-barrier: upper barrier in σ.
    #[arg(long, allow_negative_numbers = true, default_value_t = 1.2)]
    pub(crate) up_k_sigma: f64,
    /// triple-barrier: lower barrier in σ.
    #[arg(long, allow_negative_numbers = true, default_value_t = 1.2)]
    pub(crate) dn_k_sigma: f64,
    /// triple-barrier: path prices.
    #[arg(long, value_enum, default_value = "close")]
    pub(crate) touch: Touch,
    /// triple-barrier: label at the vertical barrier.
    #[arg(long, value_enum, default_value = "zero")]
    pub(crate) vertical: Vertical,
    /// triple-barrier: skip bars whose σ is below this.
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.0)]
    pub(crate) min_ret: f64,
    /// expected-return: stop distance.
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.011)]
    pub(crate) stop: f64,
    /// expected-return: final target.
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.058)]
    pub(crate) final_target: f64,
    /// expected-return: cost per fill in bps of its notional.
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.0)]
    pub(crate) fee_bps: f64,
}
