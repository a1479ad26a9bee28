//! `vane split`.

/// The splitters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Scheme {
    WalkForward,
    PurgedKfold,
    Cpcv,
}

#[derive(Debug, clap::Args)]
pub(crate) struct SplitArgs {
    /// Number of samples (rows).
    #[arg(long)]
    pub(crate) rows: usize,
    /// The splitter.
    #[arg(long, value_enum)]
    pub(crate) scheme: Scheme,
    /// Each sample's label looks this many bars ahead (its span is [t, t+H]); used for purging.
    #[arg(long, default_value_t = 0)]
    pub(crate) label_horizon: usize,
    /// walk-forward: training window, bars.
    #[arg(long, default_value_t = 500)]
    pub(crate) train: usize,
    /// walk-forward: test window, bars.
    #[arg(long, default_value_t = 100)]
    pub(crate) test: usize,
    /// walk-forward: advance per fold (default: the test size).
    #[arg(long)]
    pub(crate) step: Option<usize>,
    /// walk-forward: expanding instead of rolling training windows.
    #[arg(long)]
    pub(crate) expanding: bool,
    /// walk-forward: bars between training and test.
    #[arg(long, default_value_t = 0)]
    pub(crate) gap: usize,
    /// purged-kfold: number of folds.
    #[arg(long, default_value_t = 5)]
    pub(crate) k: usize,
    /// purged-kfold / cpcv: bars embargoed after each test window.
    #[arg(long, default_value_t = 0)]
    pub(crate) embargo: usize,
    /// cpcv: number of groups N.
    #[arg(long, default_value_t = 6)]
    pub(crate) groups: usize,
    /// cpcv: test groups per split k.
    #[arg(long, default_value_t = 2)]
    pub(crate) test_groups: usize,
}
