//! `vane import`.

use std::path::PathBuf;

use anyhow::Result;
use serde::Serialize;
use vane_market_data::{ImportReport, ParquetStore, import_csv};

use crate::args::data::ImportArgs;
use crate::output::Render;

#[derive(Serialize)]
pub(crate) struct Imported {
    #[serde(flatten)]
    report: ImportReport,
    #[serde(skip)]
    csv: PathBuf,
}

pub(crate) fn run(a: ImportArgs) -> Result<Imported> {
    let report = import_csv(&ParquetStore::new(&a.data.data_dir), &a.csv, &a.symbol, a.interval)?;
    Ok(Imported { report, csv: a.csv })
}

impl Render for Imported {
    fn human(&self) -> String {
        let r = &self.report;
        format!(
            "imported {} rows of {} {} from {}: {} added, {} replaced, {} stored in {}",
            r.rows_read,
            r.symbol,
            r.interval,
            self.csv.display(),
            r.added,
            r.replaced,
            r.total,
            r.path.display()
        )
    }
}
