//! `vane calibrate`.

use std::path::PathBuf;

use anyhow::Result;
use serde::Serialize;
use vane_calibration::{CalibrationFile, Calibrator, Choice, FORMAT_VERSION, fit_binary};
use vane_tabular::Table;

use crate::args::calibrate::CalibrateArgs;
use crate::output::Render;

#[derive(Serialize)]
pub(crate) struct Calibrated {
    calibrator: Calibrator,
    choice: Choice,
    #[serde(skip)]
    output: PathBuf,
}

pub(crate) fn run(a: CalibrateArgs) -> Result<Calibrated> {
    if a.method != vane_calibration::Method::Auto && a.holdout != 0.3 {
        // Only the chooser holds rows out; a fixed method fits on every row.
        use clap::ValueEnum as _;
        let method = a.method.to_possible_value().map(|v| v.get_name().to_string()).unwrap_or_default();
        return Err(crate::failure::usage(format!(
            "--holdout {} is for --method auto (it holds rows out to choose the method); --method {method} fits on every row: drop --holdout",
            a.holdout
        )));
    }
    vane_artifact::check_output(&a.output, &[&a.fit, &a.apply], &[])?;
    if let Some(p) = &a.save {
        vane_artifact::check_output(p, &[&a.fit, &a.apply, &a.output], &[])?;
    }
    let fit = Table::read(&a.fit)?;
    let finite = |x: &f64| x.is_finite();
    let (scores, labels) =
        (fit.column_where::<f64>("score", finite, "must be a finite number")?, fit.binary_column("label")?);
    let (cal, choice) = fit_binary(a.method, &scores, &labels, a.holdout)?;
    let apply = Table::read(&a.apply)?;
    let calibrated: Vec<f64> = apply
        .column_where::<f64>("score", finite, "must be a finite number")?
        .into_iter()
        .map(|s| cal.apply(s))
        .collect();
    vane_artifact::write_atomic(&a.output, apply.to_csv_with_column("calibrated", &calibrated).as_bytes())?;
    if let Some(p) = &a.save {
        let file = CalibrationFile {
            format_version: FORMAT_VERSION,
            calibrators: vec![cal.clone()],
            temperature: None,
            choices: vec![choice.clone()],
            multiclass: None,
        };
        file.save(p)?;
    }
    Ok(Calibrated { calibrator: cal, choice, output: a.output })
}

impl Render for Calibrated {
    fn human(&self) -> String {
        String::new()
    }
    fn status(&self) -> Option<String> {
        Some(format!("{}: {} ({})", self.calibrator.method(), self.output.display(), self.choice.reason))
    }
}
