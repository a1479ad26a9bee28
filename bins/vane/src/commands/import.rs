//! `vane import`.

use std::path::PathBuf;

use anyhow::Result;
use serde::Serialize;
use vane_market_data::{ImportReport, ParquetStore, import_csv};
use vane_postgres::PgImportReport;

use crate::args::data::ImportArgs;
use crate::output::Render;

#[derive(Serialize)]
#[serde(untagged)]
pub(crate) enum Imported {
    Parquet {
        #[serde(flatten)]
        report: ImportReport,
        #[serde(skip)]
        csv: PathBuf,
    },
    /// `{exchange, symbol, interval, rows_read, upsert:{rows, inserted, updated, unchanged,
    /// copy_seconds, upsert_seconds}, total, server, database}`.
    Postgres {
        #[serde(flatten)]
        report: PgImportReport,
        server: String,
        database: String,
        #[serde(skip)]
        csv: PathBuf,
    },
}

pub(crate) fn run(a: ImportArgs) -> Result<Imported> {
    if let Some(url) = &a.pg.database_url {
        let mut store = crate::commands::db::open(Some(url))?;
        let exchange = a.exchange.as_deref().unwrap_or(vane_postgres::DEFAULT_EXCHANGE);
        let report = store.import_csv(exchange, &a.csv, &a.symbol, a.interval)?;
        return Ok(Imported::Postgres {
            report,
            server: store.server().to_string(),
            database: store.database().to_string(),
            csv: a.csv,
        });
    }
    let report = import_csv(&ParquetStore::new(&a.data.data_dir), &a.csv, &a.symbol, a.interval)
        .map_err(|e| super::with_interval_hint(e, &a.csv, a.interval, "--interval"))?;
    Ok(Imported::Parquet { report, csv: a.csv })
}

impl Render for Imported {
    fn human(&self) -> String {
        let (r, csv) = match self {
            Imported::Parquet { report, csv } => (report, csv),
            Imported::Postgres { report: r, server, database, csv } => {
                let u = &r.upsert;
                return format!(
                    "imported {} rows of {} {} from {} into {database} at {server} ({}): {} added, {} replaced, {} unchanged, {} stored",
                    r.rows_read,
                    r.symbol,
                    r.interval,
                    csv.display(),
                    r.exchange,
                    u.inserted,
                    u.updated,
                    u.unchanged,
                    r.total
                );
            }
        };
        format!(
            "imported {} rows of {} {} from {}: {} added, {} replaced, {} stored in {}",
            r.rows_read,
            r.symbol,
            r.interval,
            csv.display(),
            r.added,
            r.replaced,
            r.total,
            r.path.display()
        )
    }
}
