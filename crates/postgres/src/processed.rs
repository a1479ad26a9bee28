//! `processed_market_data`: the `full` feature set (49 columns named as `vane features --set
//! full` prints them), the expected-return targets of the partial-close ladder and a class
//! label, per bar. The column list is read from the migration itself
//! ([`processed_feature_columns`]); a test checks it equals `FeatureSet::Full.columns()`.

use std::sync::OnceLock;
use std::time::Instant;

use futures_util::{TryStreamExt, pin_mut};
use serde::Serialize;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};
use vane_core::{Interval, Symbol, Timestamp};
use vane_indicators::FeatureSet;

use crate::PgStore;
use crate::bars::{UpsertReport, check_exchange, upsert_sql};
use crate::error::{PgError, Result};
use crate::migrate::MIGRATIONS;

/// The feature columns of `processed_market_data`, in table order, as its migration declares
/// them (between `-- begin features` and `-- end features`).
pub fn processed_feature_columns() -> &'static [String] {
    static COLS: OnceLock<Vec<String>> = OnceLock::new();
    COLS.get_or_init(|| {
        let sql = MIGRATIONS.iter().find(|m| m.name == "processed_market_data").map_or("", |m| m.sql);
        let (_, rest) = sql.split_once("-- begin features").unwrap_or(("", ""));
        let (body, _) = rest.split_once("-- end features").unwrap_or(("", ""));
        body.lines()
            .filter_map(|l| l.split_whitespace().next())
            .filter(|w| !w.starts_with("--"))
            .map(str::to_string)
            .collect()
    })
}

/// Feature rows and targets of one series, column by column (`features[k][i]` is column `k`
/// of [`processed_feature_columns`] at bar `i`). Every vector has `open_time.len()` entries.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ProcessedRows {
    /// The exchange the candles came from.
    pub exchange: String,
    /// The instrument.
    pub symbol: String,
    /// The bar length (exchange spelling).
    pub interval: String,
    /// The feature set's name (`full`).
    pub feature_set: String,
    /// The feature set's version.
    pub feature_version: i32,
    /// Open times (ms UTC), strictly increasing.
    pub open_time: Vec<i64>,
    /// The feature columns (NaN where a feature is still warming up).
    pub features: Vec<Vec<f64>>,
    /// Net return of the long ladder (NULL: no label, e.g. the last `horizon` bars).
    pub er_long: Vec<Option<f64>>,
    /// Net return of the short ladder.
    pub er_short: Vec<Option<f64>>,
    /// Open time of the bar of the long ladder's last fill.
    pub exit_long_ms: Vec<Option<i64>>,
    /// Open time of the bar of the short ladder's last fill.
    pub exit_short_ms: Vec<Option<i64>>,
    /// A class label (what a classifier trains on; the writer defines it, e.g. 1 = er_long > 0).
    pub label: Vec<Option<i16>>,
}

impl ProcessedRows {
    /// Empty rows of `set` for one series; only [`FeatureSet::Full`] has a table.
    pub fn new(exchange: &str, symbol: &Symbol, interval: Interval, set: FeatureSet) -> Result<Self> {
        check_exchange(exchange)?;
        check_set(set)?;
        Ok(ProcessedRows {
            exchange: exchange.to_string(),
            symbol: symbol.to_string(),
            interval: interval.to_string(),
            feature_set: set.name().to_string(),
            feature_version: set.version() as i32,
            features: vec![Vec::new(); processed_feature_columns().len()],
            ..Default::default()
        })
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.open_time.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.open_time.is_empty()
    }

    fn check(&self) -> Result<()> {
        check_exchange(&self.exchange)?;
        let n = self.open_time.len();
        let cols = processed_feature_columns();
        if self.features.len() != cols.len() {
            return Err(PgError::InvalidArgument(format!(
                "processed rows of {} {} carry {} feature columns, processed_market_data has {}",
                self.symbol,
                self.interval,
                self.features.len(),
                cols.len()
            )));
        }
        let lens = self.features.iter().enumerate().map(|(k, c)| (cols[k].as_str(), c.len())).chain([
            ("er_long", self.er_long.len()),
            ("er_short", self.er_short.len()),
            ("exit_long_ms", self.exit_long_ms.len()),
            ("exit_short_ms", self.exit_short_ms.len()),
            ("label", self.label.len()),
        ]);
        for (name, len) in lens {
            if len != n {
                return Err(PgError::InvalidArgument(format!(
                    "processed rows of {} {}: column {name} has {len} rows, open_time has {n}",
                    self.symbol, self.interval
                )));
            }
        }
        if let Some(i) = self.open_time.windows(2).position(|w| w[1] <= w[0]) {
            return Err(PgError::InvalidArgument(format!(
                "processed rows of {} {}: open time {} at row {} does not come after {}",
                self.symbol,
                self.interval,
                Timestamp(self.open_time[i + 1]),
                i + 1,
                Timestamp(self.open_time[i])
            )));
        }
        Ok(())
    }
}

fn check_set(set: FeatureSet) -> Result<()> {
    if set == FeatureSet::Full {
        Ok(())
    } else {
        Err(PgError::InvalidArgument(format!(
            "processed_market_data holds the `full` feature set only, not `{}`",
            set.name()
        )))
    }
}

const FIXED: [&str; 6] = ["exchange", "symbol", "interval", "open_time_ms", "feature_set", "feature_version"];
const TARGETS: [&str; 5] = ["er_long", "er_short", "exit_long_ms", "exit_short_ms", "label"];
const KEY: [&str; 5] = ["exchange", "symbol", "interval", "open_time_ms", "feature_set"];

fn all_columns() -> Vec<String> {
    FIXED
        .iter()
        .map(|s| s.to_string())
        .chain(processed_feature_columns().iter().cloned())
        .chain(TARGETS.iter().map(|s| s.to_string()))
        .collect()
}

impl PgStore {
    /// Upserts feature rows and targets into `processed_market_data` (binary `COPY` into a
    /// staging table, then `INSERT … ON CONFLICT DO UPDATE`, one transaction; all or nothing).
    pub fn upsert_processed(&mut self, rows: &ProcessedRows) -> Result<UpsertReport> {
        self.require_schema()?;
        rows.check()?;
        let cols = all_columns();
        let features = processed_feature_columns();
        let mut stage = String::from(
            "CREATE TEMP TABLE vane_stage_processed (exchange TEXT, symbol TEXT, interval TEXT, open_time_ms BIGINT, feature_set TEXT, feature_version INTEGER",
        );
        for c in features {
            stage.push_str(&format!(", {c} DOUBLE PRECISION"));
        }
        stage.push_str(
            ", er_long DOUBLE PRECISION, er_short DOUBLE PRECISION, exit_long_ms BIGINT, exit_short_ms BIGINT, label SMALLINT) ON COMMIT DROP",
        );
        let mut types = vec![Type::TEXT, Type::TEXT, Type::TEXT, Type::INT8, Type::TEXT, Type::INT4];
        types.extend(std::iter::repeat_n(Type::FLOAT8, features.len()));
        types.extend([Type::FLOAT8, Type::FLOAT8, Type::INT8, Type::INT8, Type::INT2]);
        let col_list = cols.join(", ");
        let values: Vec<&str> = cols[5..].iter().map(String::as_str).collect();
        let sql = upsert_sql("processed_market_data", "vane_stage_processed", &col_list, &KEY, &values);
        let n = rows.len() as u64;
        let server = self.server.clone();
        let Self { client, rt, .. } = self;
        rt.block_on(async {
            let db = |during: &str| {
                let (server, during) = (server.clone(), during.to_string());
                move |source| PgError::Db { server, during, source }
            };
            let tx = client.transaction().await.map_err(db("starting a transaction"))?;
            tx.batch_execute(&stage).await.map_err(db("creating the staging table"))?;
            let t0 = Instant::now();
            let sink = tx
                .copy_in(&format!("COPY vane_stage_processed ({col_list}) FROM STDIN BINARY"))
                .await
                .map_err(db("starting COPY into the staging table"))?;
            let writer = BinaryCopyInWriter::new(sink, &types);
            pin_mut!(writer);
            let mut row: Vec<&(dyn ToSql + Sync)> = Vec::with_capacity(types.len());
            for i in 0..rows.len() {
                row.clear();
                row.extend([
                    &rows.exchange as &(dyn ToSql + Sync),
                    &rows.symbol,
                    &rows.interval,
                    &rows.open_time[i],
                    &rows.feature_set,
                    &rows.feature_version,
                ]);
                for c in &rows.features {
                    row.push(&c[i]);
                }
                row.extend([
                    &rows.er_long[i] as &(dyn ToSql + Sync),
                    &rows.er_short[i],
                    &rows.exit_long_ms[i],
                    &rows.exit_short_ms[i],
                    &rows.label[i],
                ]);
                writer.as_mut().write(&row).await.map_err(db("COPY into the staging table"))?;
            }
            writer.finish().await.map_err(db("finishing COPY into the staging table"))?;
            let copy_seconds = t0.elapsed().as_secs_f64();
            let t1 = Instant::now();
            let r = tx.query_one(&sql, &[]).await.map_err(db("upserting processed_market_data"))?;
            tx.commit().await.map_err(db("committing"))?;
            let (inserted, updated) = (r.get::<_, i64>(0) as u64, r.get::<_, i64>(1) as u64);
            Ok(UpsertReport {
                rows: n,
                inserted,
                updated,
                unchanged: n - inserted - updated,
                copy_seconds,
                upsert_seconds: t1.elapsed().as_secs_f64(),
            })
        })
    }

    /// The processed rows of a series with `from <= open_time < to`, oldest first (streamed).
    pub fn read_processed(
        &self,
        exchange: &str,
        symbol: &Symbol,
        interval: Interval,
        set: FeatureSet,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<ProcessedRows> {
        self.require_schema()?;
        let mut out = ProcessedRows::new(exchange, symbol, interval, set)?;
        let features = processed_feature_columns();
        let nf = features.len();
        let sql = format!(
            "SELECT open_time_ms, feature_version, {}, er_long, er_short, exit_long_ms, exit_short_ms, label
             FROM processed_market_data
             WHERE exchange = $1 AND symbol = $2 AND interval = $3 AND feature_set = $4
               AND open_time_ms >= $5 AND open_time_ms < $6
             ORDER BY open_time_ms",
            features.join(", ")
        );
        let series = format!("{exchange} {symbol} {interval} {}", set.name());
        let (sym, iv, name) = (symbol.as_str(), interval.as_str(), set.name());
        let params: [&(dyn ToSql + Sync); 6] = [&exchange, &sym, &iv, &name, &from.0, &to.0];
        self.block_on(async {
            let rows = self.client.query_raw(&sql, params).await?;
            pin_mut!(rows);
            while let Some(r) = rows.try_next().await? {
                out.open_time.push(r.get(0));
                out.feature_version = r.get(1);
                for k in 0..nf {
                    out.features[k].push(r.get::<_, Option<f64>>(2 + k).unwrap_or(f64::NAN));
                }
                out.er_long.push(r.get(2 + nf));
                out.er_short.push(r.get(3 + nf));
                out.exit_long_ms.push(r.get(4 + nf));
                out.exit_short_ms.push(r.get(5 + nf));
                out.label.push(r.get(6 + nf));
            }
            Ok::<_, tokio_postgres::Error>(())
        })
        .map_err(self.db(format!("reading processed rows of {series}")))?;
        Ok(out)
    }
}
