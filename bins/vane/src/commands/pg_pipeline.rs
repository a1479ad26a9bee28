//! `--database-url` on `vane train` and `vane predict`: the candles come from PostgreSQL's
//! `raw_market_data`, and a sequence run's out-of-sample predictions, its model and the bars
//! each split used are written back (`model_predictions`, `model_metadata`,
//! `training_sequences`); a live forecast is written to `model_predictions`.
//!
//! The pipeline reads bars through a `ParquetStore`. Rather than thread a second store type
//! through the trainers (which other work changes every day), `train` **materialises** the job's
//! series into a private temporary parquet store, read from Postgres once, and removes it
//! afterwards: the pipeline then trains on exactly the stored candles (the same `Bars`, bit for
//! bit, as the parquet round trip test shows), at the cost of one local copy of the job's bars.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;
use serde_json::Value;
use vane_core::{Bars, Interval, Symbol, Timestamp};
use vane_labeling::ladder::{LadderConfig, expected_returns};
use vane_market_data::ParquetStore;
use vane_pipeline::sequence::{SequenceData, SequenceJob, SequenceReport};
use vane_postgres::{ModelMetadata, PgStore, PredictionRow, TrainingSequence, UpsertReport};

const ALL: (Timestamp, Timestamp) = (Timestamp(i64::MIN), Timestamp(i64::MAX));

/// The job's series copied from `raw_market_data` into a temporary parquet store (removed on
/// drop).
pub(crate) struct Materialised {
    dir: PathBuf,
    /// The exchange each symbol was read from.
    pub(crate) exchanges: HashMap<Symbol, String>,
}

impl Materialised {
    /// The temporary parquet store.
    pub(crate) fn store(&self) -> ParquetStore {
        ParquetStore::new(&self.dir)
    }
}

impl Drop for Materialised {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Reads every bar of `symbols` at `interval` from `raw_market_data` (under `exchange`, or the
/// only exchange holding each) into a fresh temporary parquet store.
pub(crate) fn materialise(
    pg: &PgStore,
    exchange: Option<&str>,
    symbols: &[Symbol],
    interval: Interval,
) -> Result<Materialised> {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let dir = std::env::temp_dir().join(format!("vane-pg-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut m = Materialised { dir, exchanges: HashMap::new() };
    let store = m.store();
    for s in symbols {
        let ex = pg.resolve_exchange(exchange, s, interval)?;
        let bars = pg.read_bars(Some(&ex), s, interval, ALL.0, ALL.1)?;
        store.write(s, interval, &bars)?;
        m.exchanges.insert(s.clone(), ex);
    }
    Ok(m)
}

/// What a run wrote to the database.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct PgRunWrite {
    pub(crate) server: String,
    pub(crate) database: String,
    /// The `model_metadata` row (the model folder's name).
    pub(crate) model_id: String,
    /// The `training_sequences` rows' run.
    pub(crate) run_id: String,
    /// `training_sequences` rows written.
    pub(crate) training_sequences: usize,
    /// The walk-forward's out-of-sample predictions upserted into `model_predictions`.
    pub(crate) predictions: UpsertReport,
}

/// `(er_long, er_short)` of the partial-close ladder by open time, for a job's labels' horizon
/// and costs (seed 004's ladder otherwise).
fn ladder_by_time(bars: &Bars, d: &SequenceData) -> Result<HashMap<i64, (f64, f64)>> {
    let cfg = LadderConfig { horizon: d.horizon, fee_bps: d.fee_bps, ..LadderConfig::default() };
    let labels = expected_returns(bars, &cfg)?;
    let t = bars.open_time();
    Ok(labels
        .values
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.as_ref().map(|e| (t[i], (e.er_long, e.er_short))))
        .collect())
}

/// A JSON file of a model folder (`Null` when missing or unreadable).
fn json_file(path: &Path) -> Value {
    std::fs::read(path).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or(Value::Null)
}

/// Writes a sequence run to the database: the `model_metadata` row (kind, config, the feature
/// schema, `metrics.json`, the model folder), one `training_sequences` row per symbol × split ×
/// window, and the walk-forward's out-of-sample predictions with their realised targets (the
/// run's own target values) and the long / short ladder returns at those bars.
pub(crate) fn write_sequence_run(
    pg: &mut PgStore,
    m: &Materialised,
    job: &SequenceJob,
    report: &SequenceReport,
    config: &Value,
    run_id: &str,
) -> Result<PgRunWrite> {
    let d = &job.data;
    let model_id = report.dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let interval = d.interval.as_str().to_string();
    pg.upsert_model(&ModelMetadata {
        model_id: model_id.clone(),
        kind: report.model.to_string(),
        config: config.clone(),
        feature_schema: json_file(&report.dir.join("feature_schema.json")),
        metrics: json_file(&report.dir.join("metrics.json")),
        // Absolute: the row is read from other machines and folders.
        artifact_path: Some(
            std::fs::canonicalize(&report.dir).unwrap_or_else(|_| report.dir.clone()).display().to_string(),
        ),
    })?;
    let exchange_of =
        |s: &Symbol| m.exchanges.get(s).cloned().unwrap_or_else(|| vane_postgres::DEFAULT_EXCHANGE.into());
    let feature_version = d.feature_set.parse::<vane_indicators::FeatureSet>().map(|s| s.version() as i32).unwrap_or(0);
    let seqs: Vec<TrainingSequence> = report
        .splits
        .iter()
        .map(|u| TrainingSequence {
            run_id: run_id.to_string(),
            model_id: model_id.clone(),
            exchange: exchange_of(&u.symbol),
            symbol: u.symbol.to_string(),
            interval: interval.clone(),
            split: u.split.to_string(),
            window_index: u.window as i32,
            start_ms: u.first_open_time_ms,
            end_ms: u.last_open_time_ms,
            feature_set: d.feature_set.clone(),
            feature_version,
            seq_len: d.seq_len as i32,
            horizon: d.horizon as i32,
            rows: u.rows as i64,
        })
        .collect();
    pg.upsert_training_sequences(&seqs)?;
    let store = m.store();
    let mut ladders: HashMap<Symbol, HashMap<i64, (f64, f64)>> = HashMap::new();
    for s in &d.symbols {
        ladders.insert(s.clone(), ladder_by_time(&store.read(s, d.interval)?, d)?);
    }
    let rows: Vec<PredictionRow> = report
        .oos_predictions
        .iter()
        .map(|p| {
            let lad = ladders.get(&p.symbol).and_then(|l| l.get(&p.open_time_ms)).copied();
            PredictionRow {
                model_id: model_id.clone(),
                symbol: p.symbol.to_string(),
                interval: interval.clone(),
                open_time_ms: p.open_time_ms,
                horizon: d.horizon as i32,
                prediction: p.prediction,
                probabilities: p.probabilities.clone(),
                realised: Some(p.realised),
                realised_long: lad.map(|l| l.0),
                realised_short: lad.map(|l| l.1),
            }
        })
        .collect();
    let predictions = pg.upsert_predictions(&rows)?;
    Ok(PgRunWrite {
        server: pg.server().to_string(),
        database: pg.database().to_string(),
        model_id,
        run_id: run_id.to_string(),
        training_sequences: seqs.len(),
        predictions,
    })
}

/// What `vane predict --database-url` wrote.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct PgPredictWrite {
    pub(crate) server: String,
    pub(crate) database: String,
    /// The live prediction's row (realised NULL until its horizon has passed).
    pub(crate) prediction: PredictionRow,
    /// Earlier live predictions of this model and symbol whose realised targets became known
    /// now and were filled in.
    pub(crate) realised_filled: u64,
}

/// The label settings of a model folder's `config.json` (`data.horizon`, `data.label`,
/// `data.fee_bps`): horizon 0 when the model has none (seed 001's GBDT).
fn model_label(dir: &Path) -> (i32, Option<String>, f64) {
    let v = json_file(&dir.join("config.json"));
    let horizon = v.pointer("/data/horizon").and_then(Value::as_i64).unwrap_or(0) as i32;
    let label = v.pointer("/data/label").and_then(Value::as_str).map(str::to_string);
    let fee = v.pointer("/data/fee_bps").and_then(Value::as_f64).unwrap_or(0.0);
    (horizon, label, fee)
}

/// Writes a live forecast to `model_predictions` (realised NULL), then fills in the realised
/// targets of this model's earlier predictions for the symbol whose horizon has passed in
/// `bars`: the ladder's `er_long`, `er_short` at those bars, and — for an `expected_return`
/// model — `realised = er_long − er_short` (other label kinds: `realised` stays NULL; their
/// walk-forward rows carry it from training).
pub(crate) fn write_forecast(
    pg: &mut PgStore,
    model_dir: &Path,
    forecast: &vane_artifact::Forecast,
    interval: Interval,
    bars: &Bars,
) -> Result<PgPredictWrite> {
    let (horizon, label, fee_bps) = model_label(model_dir);
    let prediction = match (&forecast.probs, forecast.expected_return) {
        (_, Some(er)) => er,
        (Some(p), None) => p.buy - p.sell,
        (None, None) => forecast.p_up.unwrap_or(f64::NAN),
    };
    let row = PredictionRow {
        model_id: forecast.model_id_used.clone(),
        symbol: forecast.symbol.to_string(),
        interval: interval.as_str().to_string(),
        open_time_ms: forecast.as_of.0,
        horizon,
        prediction,
        probabilities: forecast.probs.map(|p| vec![p.buy, p.sell, p.hold]).or(forecast.p_up.map(|u| vec![1.0 - u, u])),
        realised: None,
        realised_long: None,
        realised_short: None,
    };
    pg.upsert_predictions(std::slice::from_ref(&row))?;
    let mut filled = 0;
    if horizon > 0 {
        let pending = pending_predictions(pg, &row)?;
        if !pending.is_empty() {
            let cfg = LadderConfig { horizon: horizon as usize, fee_bps, ..LadderConfig::default() };
            let labels = expected_returns(bars, &cfg)?;
            let t = bars.open_time();
            let expected = label.as_deref() == Some("expected_return");
            let mut done = Vec::new();
            for mut p in pending {
                let Ok(i) = t.binary_search(&p.open_time_ms) else { continue };
                let Some(Some(e)) = labels.values.get(i) else { continue };
                p.realised_long = Some(e.er_long);
                p.realised_short = Some(e.er_short);
                if expected {
                    p.realised = Some(e.er_long - e.er_short);
                }
                done.push(p);
            }
            if !done.is_empty() {
                filled = pg.upsert_predictions(&done)?.updated;
            }
        }
    }
    Ok(PgPredictWrite {
        server: pg.server().to_string(),
        database: pg.database().to_string(),
        prediction: row,
        realised_filled: filled,
    })
}

/// This model's predictions for the row's symbol, interval and horizon whose ladder returns are
/// not known yet.
fn pending_predictions(pg: &PgStore, row: &PredictionRow) -> Result<Vec<PredictionRow>> {
    let rows = pg
        .block_on(pg.client().query(
            "SELECT open_time_ms, prediction, probabilities, realised FROM model_predictions
             WHERE model_id = $1 AND symbol = $2 AND interval = $3 AND horizon = $4 AND realised_long IS NULL
             ORDER BY open_time_ms",
            &[&row.model_id, &row.symbol, &row.interval, &row.horizon],
        ))
        .context("reading the pending predictions of model_predictions")?;
    Ok(rows
        .iter()
        .map(|r| PredictionRow {
            open_time_ms: r.get(0),
            prediction: r.get(1),
            probabilities: r.get(2),
            realised: r.get(3),
            realised_long: None,
            realised_short: None,
            ..row.clone()
        })
        .collect())
}
