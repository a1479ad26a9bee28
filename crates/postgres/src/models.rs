//! `model_metadata`, `training_sequences`, `model_predictions` and the analytics views
//! (`model_symbol_metrics`, `model_symbol_ladder`, `model_daily_metrics`; definitions in
//! `docs/analytics.md`).

use std::time::Instant;

use futures_util::pin_mut;
use serde::{Deserialize, Serialize};
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};

use crate::PgStore;
use crate::bars::{UpsertReport, check_exchange, upsert_sql};
use crate::error::{PgError, Result};

/// One row of `model_metadata`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelMetadata {
    /// The model's id (primary key).
    pub model_id: String,
    /// Its kind (`tft`, `gbdt`, ...).
    pub kind: String,
    /// The full training config.
    pub config: serde_json::Value,
    /// The feature schema (set, columns, version, normaliser statistics).
    pub feature_schema: serde_json::Value,
    /// Out-of-sample metrics.
    pub metrics: serde_json::Value,
    /// Where the artifact folder is.
    pub artifact_path: Option<String>,
}

/// One row of `training_sequences`: bars `[start_ms, end_ms]` (open times, inclusive) of one
/// series used as `split` in window `window_index` of run `run_id`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrainingSequence {
    /// The training run.
    pub run_id: String,
    /// The model it produced.
    pub model_id: String,
    /// The exchange of the candles.
    pub exchange: String,
    /// The instrument.
    pub symbol: String,
    /// The bar length.
    pub interval: String,
    /// `train`, `validation` or `test`.
    pub split: String,
    /// The walk-forward window (0 for a single split).
    pub window_index: i32,
    /// First open time used.
    pub start_ms: i64,
    /// Last open time used.
    pub end_ms: i64,
    /// The feature set.
    pub feature_set: String,
    /// Its version.
    pub feature_version: i32,
    /// Input sequence length (bars).
    pub seq_len: i32,
    /// Prediction horizon (bars).
    pub horizon: i32,
    /// Samples drawn from the range.
    pub rows: i64,
}

/// One row of `model_predictions`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PredictionRow {
    /// The model.
    pub model_id: String,
    /// The instrument.
    pub symbol: String,
    /// The bar length.
    pub interval: String,
    /// Open time of the bar the prediction is made at (ms UTC).
    pub open_time_ms: i64,
    /// Bars ahead.
    pub horizon: i32,
    /// The prediction (regression: the expected return; classification: the score).
    pub prediction: f64,
    /// Class probabilities, when the model has them.
    pub probabilities: Option<Vec<f64>>,
    /// The realised target, once known.
    pub realised: Option<f64>,
    /// Net return of the long partial-close ladder entered at this bar, once known.
    pub realised_long: Option<f64>,
    /// Net return of the short ladder, once known.
    pub realised_short: Option<f64>,
}

/// A row of the `model_symbol_metrics` view.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SymbolMetrics {
    /// The model.
    pub model_id: String,
    /// The instrument.
    pub symbol: String,
    /// Predictions with a realised target.
    pub n: i64,
    /// Mean absolute error.
    pub mae: f64,
    /// Root mean squared error.
    pub rmse: f64,
    /// Coefficient of determination (None when the realised targets do not vary).
    pub r2: Option<f64>,
    /// Share of predictions whose sign equals the realised target's.
    pub direction_accuracy: f64,
}

/// A row of the `model_symbol_ladder` view.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LadderMetrics {
    /// The model.
    pub model_id: String,
    /// The instrument.
    pub symbol: String,
    /// Trades (predictions other than 0 whose side's ladder return is known).
    pub trades: i64,
    /// Share of trades with a ladder return above 0.
    pub hit_rate: f64,
    /// Mean ladder return per trade.
    pub mean_return: f64,
    /// Sum of the ladder returns.
    pub total_return: f64,
}

/// A row of the `model_daily_metrics` view.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DailyMetrics {
    /// The model.
    pub model_id: String,
    /// The instrument.
    pub symbol: String,
    /// The UTC day (YYYY-MM-DD) of the predicted bars' open times.
    pub day: String,
    /// Predictions with a realised target that day.
    pub n: i64,
    /// Mean absolute error.
    pub mae: f64,
    /// Direction accuracy.
    pub direction_accuracy: f64,
}

const PRED_COLS: &str = "model_id, symbol, interval, open_time_ms, horizon, prediction, probabilities, realised, realised_long, realised_short";
const PRED_KEY: [&str; 5] = ["model_id", "symbol", "interval", "open_time_ms", "horizon"];
const PRED_VALUES: [&str; 5] = ["prediction", "probabilities", "realised", "realised_long", "realised_short"];

impl PgStore {
    /// Inserts or replaces a `model_metadata` row (`created_at` is kept on replace).
    pub fn upsert_model(&mut self, m: &ModelMetadata) -> Result<()> {
        self.require_schema()?;
        self.block_on(self.client.execute(
            "INSERT INTO model_metadata (model_id, kind, config, feature_schema, metrics, artifact_path)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (model_id) DO UPDATE SET kind = EXCLUDED.kind, config = EXCLUDED.config,
                 feature_schema = EXCLUDED.feature_schema, metrics = EXCLUDED.metrics, artifact_path = EXCLUDED.artifact_path",
            &[&m.model_id, &m.kind, &m.config, &m.feature_schema, &m.metrics, &m.artifact_path],
        ))
        .map_err(self.db(format!("writing model_metadata {}", m.model_id)))?;
        Ok(())
    }

    /// The `model_metadata` row of `model_id`, if any.
    pub fn model(&self, model_id: &str) -> Result<Option<ModelMetadata>> {
        self.require_schema()?;
        let r = self
            .block_on(self.client.query_opt(
                "SELECT model_id, kind, config, feature_schema, metrics, artifact_path FROM model_metadata WHERE model_id = $1",
                &[&model_id],
            ))
            .map_err(self.db(format!("reading model_metadata {model_id}")))?;
        Ok(r.map(|r| ModelMetadata {
            model_id: r.get(0),
            kind: r.get(1),
            config: r.get(2),
            feature_schema: r.get(3),
            metrics: r.get(4),
            artifact_path: r.get(5),
        }))
    }

    /// Inserts or replaces `training_sequences` rows, in one transaction.
    pub fn upsert_training_sequences(&mut self, rows: &[TrainingSequence]) -> Result<()> {
        self.require_schema()?;
        for r in rows {
            check_exchange(&r.exchange)?;
        }
        let server = self.server.clone();
        let Self { client, rt, .. } = self;
        rt.block_on(async {
            let tx = client.transaction().await?;
            let st = tx
                .prepare(
                    "INSERT INTO training_sequences (run_id, model_id, exchange, symbol, interval, split, window_index,
                         start_ms, end_ms, feature_set, feature_version, seq_len, horizon, rows)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
                     ON CONFLICT (run_id, exchange, symbol, interval, split, window_index) DO UPDATE SET
                         model_id = EXCLUDED.model_id, start_ms = EXCLUDED.start_ms, end_ms = EXCLUDED.end_ms,
                         feature_set = EXCLUDED.feature_set, feature_version = EXCLUDED.feature_version,
                         seq_len = EXCLUDED.seq_len, horizon = EXCLUDED.horizon, rows = EXCLUDED.rows",
                )
                .await?;
            for r in rows {
                tx.execute(
                    &st,
                    &[
                        &r.run_id,
                        &r.model_id,
                        &r.exchange,
                        &r.symbol,
                        &r.interval,
                        &r.split,
                        &r.window_index,
                        &r.start_ms,
                        &r.end_ms,
                        &r.feature_set,
                        &r.feature_version,
                        &r.seq_len,
                        &r.horizon,
                        &r.rows,
                    ],
                )
                .await?;
            }
            tx.commit().await
        })
        .map_err(|source| PgError::Db { server, during: "writing training_sequences".into(), source })
    }

    /// The `training_sequences` rows of a run, ordered by series, split and window.
    pub fn training_sequences(&self, run_id: &str) -> Result<Vec<TrainingSequence>> {
        self.require_schema()?;
        let rows = self
            .block_on(self.client.query(
                "SELECT run_id, model_id, exchange, symbol, interval, split, window_index, start_ms, end_ms,
                        feature_set, feature_version, seq_len, horizon, rows
                 FROM training_sequences WHERE run_id = $1 ORDER BY exchange, symbol, interval, window_index, start_ms",
                &[&run_id],
            ))
            .map_err(self.db(format!("reading training_sequences of {run_id}")))?;
        Ok(rows
            .iter()
            .map(|r| TrainingSequence {
                run_id: r.get(0),
                model_id: r.get(1),
                exchange: r.get(2),
                symbol: r.get(3),
                interval: r.get(4),
                split: r.get(5),
                window_index: r.get(6),
                start_ms: r.get(7),
                end_ms: r.get(8),
                feature_set: r.get(9),
                feature_version: r.get(10),
                seq_len: r.get(11),
                horizon: r.get(12),
                rows: r.get(13),
            })
            .collect())
    }

    /// Upserts predictions into `model_predictions` (binary `COPY` into a staging table, then
    /// `INSERT … ON CONFLICT DO UPDATE`; one transaction, all or nothing). Writing a
    /// prediction again with its realised target filled in updates the row.
    pub fn upsert_predictions(&mut self, rows: &[PredictionRow]) -> Result<UpsertReport> {
        self.require_schema()?;
        let sql = upsert_sql("model_predictions", "vane_stage_predictions", PRED_COLS, &PRED_KEY, &PRED_VALUES);
        let types = [
            Type::TEXT,
            Type::TEXT,
            Type::TEXT,
            Type::INT8,
            Type::INT4,
            Type::FLOAT8,
            Type::FLOAT8_ARRAY,
            Type::FLOAT8,
            Type::FLOAT8,
            Type::FLOAT8,
        ];
        let n = rows.len() as u64;
        let server = self.server.clone();
        let Self { client, rt, .. } = self;
        rt.block_on(async {
            let db = |during: &str| {
                let (server, during) = (server.clone(), during.to_string());
                move |source| PgError::Db { server, during, source }
            };
            let tx = client.transaction().await.map_err(db("starting a transaction"))?;
            tx.batch_execute(
                "CREATE TEMP TABLE vane_stage_predictions (model_id TEXT, symbol TEXT, interval TEXT, open_time_ms BIGINT,
                    horizon INTEGER, prediction DOUBLE PRECISION, probabilities DOUBLE PRECISION[], realised DOUBLE PRECISION,
                    realised_long DOUBLE PRECISION, realised_short DOUBLE PRECISION) ON COMMIT DROP",
            )
            .await
            .map_err(db("creating the staging table"))?;
            let t0 = Instant::now();
            let sink = tx
                .copy_in(&format!("COPY vane_stage_predictions ({PRED_COLS}) FROM STDIN BINARY"))
                .await
                .map_err(db("starting COPY into the staging table"))?;
            let writer = BinaryCopyInWriter::new(sink, &types);
            pin_mut!(writer);
            for r in rows {
                let row: [&(dyn ToSql + Sync); 10] = [
                    &r.model_id,
                    &r.symbol,
                    &r.interval,
                    &r.open_time_ms,
                    &r.horizon,
                    &r.prediction,
                    &r.probabilities,
                    &r.realised,
                    &r.realised_long,
                    &r.realised_short,
                ];
                writer.as_mut().write(&row).await.map_err(db("COPY into the staging table"))?;
            }
            writer.finish().await.map_err(db("finishing COPY into the staging table"))?;
            let copy_seconds = t0.elapsed().as_secs_f64();
            let t1 = Instant::now();
            let r = tx.query_one(&sql, &[]).await.map_err(db("upserting model_predictions"))?;
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

    /// The `model_symbol_metrics` view (optionally of one model), by model and symbol.
    pub fn symbol_metrics(&self, model_id: Option<&str>) -> Result<Vec<SymbolMetrics>> {
        self.require_schema()?;
        let rows = self
            .block_on(self.client.query(
                "SELECT model_id, symbol, n, mae, rmse, r2, direction_accuracy FROM model_symbol_metrics
                 WHERE $1::text IS NULL OR model_id = $1 ORDER BY model_id, symbol",
                &[&model_id],
            ))
            .map_err(self.db("reading model_symbol_metrics"))?;
        Ok(rows
            .iter()
            .map(|r| SymbolMetrics {
                model_id: r.get(0),
                symbol: r.get(1),
                n: r.get(2),
                mae: r.get(3),
                rmse: r.get(4),
                r2: r.get(5),
                direction_accuracy: r.get(6),
            })
            .collect())
    }

    /// The `model_symbol_ladder` view (optionally of one model), by model and symbol.
    pub fn ladder_metrics(&self, model_id: Option<&str>) -> Result<Vec<LadderMetrics>> {
        self.require_schema()?;
        let rows = self
            .block_on(self.client.query(
                "SELECT model_id, symbol, trades, hit_rate, mean_return, total_return FROM model_symbol_ladder
                 WHERE $1::text IS NULL OR model_id = $1 ORDER BY model_id, symbol",
                &[&model_id],
            ))
            .map_err(self.db("reading model_symbol_ladder"))?;
        Ok(rows
            .iter()
            .map(|r| LadderMetrics {
                model_id: r.get(0),
                symbol: r.get(1),
                trades: r.get(2),
                hit_rate: r.get(3),
                mean_return: r.get(4),
                total_return: r.get(5),
            })
            .collect())
    }

    /// The `model_daily_metrics` view (optionally of one model), by model, symbol and day.
    pub fn daily_metrics(&self, model_id: Option<&str>) -> Result<Vec<DailyMetrics>> {
        self.require_schema()?;
        let rows = self
            .block_on(self.client.query(
                "SELECT model_id, symbol, to_char(day, 'YYYY-MM-DD'), n, mae, direction_accuracy FROM model_daily_metrics
                 WHERE $1::text IS NULL OR model_id = $1 ORDER BY model_id, symbol, day",
                &[&model_id],
            ))
            .map_err(self.db("reading model_daily_metrics"))?;
        Ok(rows
            .iter()
            .map(|r| DailyMetrics {
                model_id: r.get(0),
                symbol: r.get(1),
                day: r.get(2),
                n: r.get(3),
                mae: r.get(4),
                direction_accuracy: r.get(5),
            })
            .collect())
    }
}
