//! `vane tabular`.

use anyhow::Result;
use vane_tabular::{HoldoutConfig, HoldoutReport, Table, holdout};

use crate::args::tabular::TabularArgs;
use crate::output::Render;

pub(crate) fn run(a: TabularArgs) -> Result<HoldoutReport> {
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
    let report = holdout(&Table::read(&a.train)?, &Table::read(&a.test)?, &cfg)?;
    if let Some(out) = &a.output {
        vane_artifact::write_atomic(out, report.predictions_csv().as_bytes())?;
    }
    Ok(report)
}

impl Render for HoldoutReport {
    fn human(&self) -> String {
        let (t, b) = (&self.test, &self.majority_baseline);
        format!(
            "{:?}: fit {:.2}s; test accuracy {:.4}, macro-F1 {:.4}, log-loss {:.4} (majority: {:.4} / {:.4} / {:.4})",
            self.model, self.fit_seconds, t.accuracy, t.macro_f1, t.log_loss, b.accuracy, b.macro_f1, b.log_loss
        )
    }
    fn status(&self) -> Option<String> {
        self.trees.map(|n| format!("gbdt: {n} trees"))
    }
}
