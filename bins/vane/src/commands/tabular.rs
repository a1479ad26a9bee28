//! `vane tabular`.

use anyhow::Result;
use clap::ValueEnum as _;
use vane_tabular::{HoldoutConfig, HoldoutReport, Table, holdout};

use crate::args::tabular::TabularArgs;
use crate::failure::usage;
use crate::output::Render;

/// A usage error when `table` (read from `path`) has no column `name` (`what` says which column
/// it is), listing the header so a typo is seen at once.
pub(crate) fn need_column(table: &Table, path: &std::path::Path, what: &str, name: &str) -> Result<()> {
    if table.header().iter().any(|h| h == name) {
        return Ok(());
    }
    Err(usage(format!("{}: no column {name:?} ({what}); its header is: {}", path.display(), table.header().join(","))))
}

pub(crate) fn run(a: TabularArgs) -> Result<HoldoutReport> {
    if let Some(out) = &a.output {
        // The predictions must never replace the CSVs they came from.
        vane_artifact::check_output(out, &[&a.train, &a.test], &[])?;
    }
    let (train, test) = (Table::read(&a.train)?, Table::read(&a.test)?);
    need_column(&train, &a.train, "the --target column", &a.target)?;
    let cfg = HoldoutConfig {
        model: a.model,
        target: a.target,
        categorical: a.categorical,
        drop: a.drop,
        iterations: a.iterations,
        learning_rate: a.learning_rate,
        depth: a.depth,
        eval_fraction: a.eval_fraction,
        lambda: a.lambda,
    };
    let report = holdout(&train, &test, &cfg)?;
    if let Some(out) = &a.output {
        vane_artifact::write_atomic(out, report.predictions_csv().as_bytes())?;
    }
    Ok(report)
}

impl Render for HoldoutReport {
    fn human(&self) -> String {
        let (t, b) = (&self.test, &self.majority_baseline);
        let name = self.model.to_possible_value().map_or_else(|| format!("{:?}", self.model), |v| v.get_name().into());
        format!(
            "{name}: fit {:.2}s; test accuracy {:.4}, macro-F1 {:.4}, log-loss {:.4} (majority: {:.4} / {:.4} / {:.4})",
            self.fit_seconds, t.accuracy, t.macro_f1, t.log_loss, b.accuracy, b.macro_f1, b.log_loss
        )
    }
    fn status(&self) -> Option<String> {
        self.trees.map(|n| format!("gbdt: {n} trees"))
    }
}
