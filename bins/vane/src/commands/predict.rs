//! `vane predict`.

use std::time::Duration;

use anyhow::Result;
use serde::Serialize;
use vane_core::{DAY_MS, Timestamp};
use vane_market_data::{DownloadRequest, Downloader, Freshness, ParquetStore, RetryPolicy, Sleeper};
use vane_pipeline::{AnyPredictor, Forecast, Predict};

use crate::args::predict::PredictArgs;
use crate::output::Render;

/// A forecast and how current the bars behind it are.
#[derive(Serialize)]
pub(crate) struct Predicted {
    #[serde(flatten)]
    forecast: Forecast,
    /// Closed bars are missing from the store: the forecast is for an older bar.
    stale: bool,
    /// Seconds since the last stored bar closed.
    as_of_age_s: Option<i64>,
    /// Why `--refresh` did not bring the store up to date (the forecast uses the stored bars).
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_error: Option<String>,
    /// With `--database-url`: the row written to model_predictions.
    #[serde(skip_serializing_if = "Option::is_none")]
    database: Option<crate::commands::pg_pipeline::PgPredictWrite>,
}

pub(crate) fn run(a: PredictArgs) -> Result<Predicted> {
    let models = a.artifacts_dir.join("models");
    if !models.is_dir() {
        // Nothing trained here at all: say so, and where models usually are.
        return Err(crate::failure::usage(format!(
            "no model for {}: {} does not exist (no model was trained there); train one first (`vane train`), or point --artifacts-dir at the folder holding models/ (`vane demo` writes vane-demo/artifacts)",
            a.symbol,
            models.display()
        )));
    }
    let predictor = AnyPredictor::resolve(&a.artifacts_dir, &a.symbol, a.model_id.as_ref())?;
    let interval = predictor.interval();
    if let Some(url) = &a.pg.database_url {
        if a.refresh {
            return Err(crate::failure::usage(
                "--refresh downloads into the parquet store: with --database-url run `vane download --database-url ...` first",
            ));
        }
        let mut db = crate::commands::db::open(Some(url))?;
        let all = (Timestamp(i64::MIN), Timestamp(i64::MAX));
        let bars = db.read_bars(a.db_exchange.as_deref(), &a.symbol, interval, all.0, all.1)?;
        let forecast = predictor.predict(&a.symbol, &bars)?;
        let dir = match &predictor {
            AnyPredictor::Gbdt(p) => p.dir().to_path_buf(),
            AnyPredictor::Sequence(p) => p.dir().to_path_buf(),
        };
        let written = crate::commands::pg_pipeline::write_forecast(&mut db, &dir, &forecast, interval, &bars)?;
        let fresh = Freshness::at(bars.open_time().last().map(|&t| Timestamp(t)), interval, Timestamp::now());
        return Ok(Predicted {
            forecast,
            stale: fresh.stale,
            as_of_age_s: fresh.age_s,
            refresh_error: None,
            database: Some(written),
        });
    }
    let store = ParquetStore::new(&a.data.data_dir);
    let mut refresh_error = None;
    if a.refresh {
        // Bounded: a dead exchange costs about max_attempts × timeout + max_wait, not minutes.
        let retry = RetryPolicy {
            max_attempts: a.max_attempts.max(1),
            max_wait: Duration::from_secs(a.max_wait),
            timeout: Duration::from_secs(a.timeout),
            base_delay: Duration::from_millis(250),
            ..RetryPolicy::default()
        };
        let sleeper = Sleeper::default().with_report(|n| eprintln!("note: {n}"));
        let client = a.exchange.client(a.base_url.as_deref(), retry, sleeper);
        let since = Timestamp(Timestamp::now().0 - i64::from(a.since_days) * DAY_MS);
        let req = DownloadRequest { symbol: a.symbol.clone(), interval, since, until: None };
        let r = Downloader::new(client.as_ref(), &store).refresh(&req)?;
        refresh_error = r.error.map(|e| e.to_string());
    }
    // Stored bars are closed bars only (downloads never store the open one).
    let forecast = predictor.predict(&a.symbol, &store.read(&a.symbol, interval)?)?;
    let fresh = Freshness::of(&store, &a.symbol, interval, Timestamp::now())?;
    Ok(Predicted { forecast, stale: fresh.stale, as_of_age_s: fresh.age_s, refresh_error, database: None })
}

impl Render for Predicted {
    fn human(&self) -> String {
        self.forecast.human()
    }
    fn status(&self) -> Option<String> {
        let age = self.as_of_age_s.map_or_else(String::new, |s| format!(" (its last bar closed {} ago)", ago(s)));
        let db = self.database.as_ref().map(|d| {
            format!(
                "written to model_predictions of {} at {} (model {}, horizon {}); realised targets filled in for {} earlier rows",
                d.database, d.server, d.prediction.model_id, d.prediction.horizon, d.realised_filled
            )
        });
        let warning = match (&self.refresh_error, self.stale) {
            (Some(e), _) => {
                Some(format!("warning: the refresh failed, so this forecast uses the stored bars{age}: {e}"))
            }
            (None, true) => Some(format!("warning: the stored bars are not up to date{age}: the forecast is stale")),
            (None, false) => None,
        };
        match (db, warning) {
            (Some(d), Some(w)) => Some(format!("{d}\n{w}")),
            (d, w) => d.or(w),
        }
    }
    fn compact(&self) -> bool {
        true
    }
}

/// `3d 4h`, `5h 2m`, `40s`.
fn ago(s: i64) -> String {
    let (d, h, m) = (s / 86_400, (s % 86_400) / 3600, (s % 3600) / 60);
    if d > 0 {
        format!("{d}d {h}h")
    } else if h > 0 {
        format!("{h}h {m}m")
    } else if m > 0 {
        format!("{m}m")
    } else {
        format!("{s}s")
    }
}

impl Render for Forecast {
    fn human(&self) -> String {
        let signal = self.signal.map_or_else(|| "no signal".to_string(), |s| s.to_string());
        let model = format!("{} model {}", self.model_kind, self.model_id_used);
        if let Some(p_up) = self.p_up {
            // A binary classifier: P(class 1) (up / profit) and its decision rule's signal.
            return format!(
                "{} {signal} at {} (P(up) {p_up:.3}; confidence {:.3}; {model})",
                self.symbol,
                self.as_of,
                self.confidence.unwrap_or(f64::NAN)
            );
        }
        match (self.probs, self.expected_return) {
            (Some(p), _) => format!(
                "{} {signal} at {} (confidence {:.3}; BUY {:.3} SELL {:.3} HOLD {:.3}; {model})",
                self.symbol,
                self.as_of,
                self.confidence.unwrap_or(f64::NAN),
                p.buy,
                p.sell,
                p.hold
            ),
            (None, er) => format!(
                "{} {signal} at {}: expected return {:+.5} ({model})",
                self.symbol,
                self.as_of,
                er.unwrap_or(f64::NAN)
            ),
        }
    }
    fn compact(&self) -> bool {
        true
    }
}
