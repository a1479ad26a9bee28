//! `vane prepare`: the `full` features and seed 004's expected-return targets of stored series
//! into `processed_market_data`, incrementally (`vane_postgres::prepare`).

use std::fmt::Write as _;
use std::time::Instant;

use anyhow::{Result, bail};
use serde::Serialize;
use vane_labeling::ladder::LadderConfig;
use vane_market_data::read_universe;
use vane_postgres::{PrepareOptions, PrepareReport};

use crate::args::prepare::PrepareArgs;
use crate::output::Render;

/// Every series' report.
#[derive(Serialize)]
pub(crate) struct Prepared {
    server: String,
    database: String,
    series: Vec<PrepareReport>,
    seconds: f64,
}

pub(crate) fn run(a: PrepareArgs) -> Result<Prepared> {
    let symbols = match &a.symbols_file {
        Some(f) => read_universe(f)?,
        None => a.symbols.clone(),
    };
    if symbols.is_empty() {
        bail!("no symbols given: pass --symbols A,B or --symbols-file F");
    }
    let opts = PrepareOptions {
        ladder: LadderConfig {
            stop: a.stop,
            final_target: a.final_target,
            horizon: a.horizon,
            fee_bps: a.fee_bps,
            ..LadderConfig::default()
        },
        recompute: a.recompute,
    };
    let mut store = crate::commands::db::open(a.database_url.as_deref())?;
    let t0 = Instant::now();
    let mut series = Vec::with_capacity(symbols.len());
    for s in &symbols {
        series.push(store.prepare(a.exchange.as_deref(), s, a.interval, &opts)?);
    }
    Ok(Prepared {
        server: store.server().to_string(),
        database: store.database().to_string(),
        series,
        seconds: t0.elapsed().as_secs_f64(),
    })
}

impl Render for Prepared {
    fn human(&self) -> String {
        let mut s = String::new();
        for r in &self.series {
            let how = match &r.recomputed {
                Some(why) => format!(" (recomputed: {why})"),
                None => String::new(),
            };
            let _ = writeln!(
                s,
                "{} {} {}: {} bars, {} rows written{how} ({} new, {} replaced, {} unchanged); {} labelled, {} awaiting their horizon",
                r.exchange,
                r.symbol,
                r.interval,
                r.bars,
                r.rows_written,
                r.upsert.inserted,
                r.upsert.updated,
                r.upsert.unchanged,
                r.labelled,
                r.pending_targets
            );
        }
        let _ = write!(
            s,
            "processed_market_data of {} at {}: {} series in {:.1} s",
            self.database,
            self.server,
            self.series.len(),
            self.seconds
        );
        s
    }
}
