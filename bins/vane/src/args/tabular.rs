//! `vane tabular`.

use std::path::PathBuf;

use vane_tabular::TabularModel;

#[derive(Debug, clap::Args)]
pub(crate) struct TabularArgs {
    /// The model.
    #[arg(long, value_enum)]
    pub(crate) model: TabularModel,
    /// Training CSV (header row; empty or `nan` fields are missing values).
    #[arg(long)]
    pub(crate) train: PathBuf,
    /// Test CSV with the same columns.
    #[arg(long)]
    pub(crate) test: PathBuf,
    /// The class column (any values: they are sorted into classes 0..k).
    #[arg(long)]
    pub(crate) target: String,
    /// Comma-separated categorical columns (e.g. symbol).
    #[arg(long, value_delimiter = ',')]
    pub(crate) categorical: Vec<String>,
    /// Columns to ignore (e.g. open_time_ms).
    #[arg(long, value_delimiter = ',')]
    pub(crate) drop: Vec<String>,
    /// gbdt: maximum trees.
    #[arg(long, default_value_t = 500)]
    pub(crate) iterations: usize,
    /// gbdt: learning rate.
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.05)]
    pub(crate) learning_rate: f64,
    /// gbdt: tree depth.
    #[arg(long, default_value_t = 6)]
    pub(crate) depth: usize,
    /// gbdt: the last share of the training rows used for early stopping (0 = none).
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.2)]
    pub(crate) eval_fraction: f64,
    /// logistic: L2 strength λ (= 1/C).
    #[arg(long, allow_negative_numbers = true, default_value_t = 1.0)]
    pub(crate) lambda: f64,
    /// Write the test predictions (class probabilities) here.
    #[arg(long)]
    pub(crate) output: Option<PathBuf>,
}
