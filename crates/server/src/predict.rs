//! `GET /v1/predict`: seed 001's semantics. Resolve the symbol (`ETH` → `ETHUSDT`), refresh its
//! candles synchronously when asked, choose its own model or fall back to `global`, queue a
//! background training job for a symbol without its own model when asked (`train=true`), and
//! answer at once with the forecast, how fresh its bars are and the job's id.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use serde::{Deserialize, Serialize};
use vane_artifact::{Forecast, Predict};
use vane_core::{DAY_MS, Symbol, Timestamp};
use vane_market_data::Freshness;

use crate::api::{ApiError, ApiResult, from_market, from_pipeline};
use crate::jobs::{JobKind, JobSpec, JobStatus};
use crate::state::{AppState, LoadedModel};

/// The query of `GET /v1/predict` (every field text, parsed and bounded here so that a bad value
/// is a 400 naming the parameter).
#[derive(Debug, Default, Deserialize)]
pub struct PredictQuery {
    /// `ETHUSDT`, or a bare base asset `ETH` (the configured quote is appended).
    pub symbol: Option<String>,
    /// Download new candles first (default false).
    pub refresh: Option<String>,
    /// Queue a training job when the symbol has no model of its own (default false; needs the token).
    pub train: Option<String>,
    /// With `refresh` and nothing stored: download this many days back (1..=3650, default 1095).
    pub since_days_default: Option<String>,
    /// Use this model folder instead of the symbol's own or `global`.
    pub model_id: Option<String>,
}

/// The answer of `GET /v1/predict`: the forecast (seed 001's `symbol`, `signal`, `confidence`,
/// `model_id_used`, plus `probs`, `as_of`, …), its bars' freshness and the job queued.
#[derive(Debug, Clone, Serialize)]
pub struct PredictAnswer {
    /// The forecast.
    #[serde(flatten)]
    pub forecast: Forecast,
    /// Closed bars are missing from the store: the forecast is for an older bar.
    pub stale: bool,
    /// Seconds since the last stored bar closed.
    pub as_of_age_s: Option<i64>,
    /// The decision thresholds the model applied.
    pub thresholds: serde_json::Value,
    /// Open time of the last bar the model was trained on (`null` when its folder does not
    /// record it): how old the model behind this forecast is.
    pub trained_until_ms: Option<i64>,
    /// Why the refresh did not bring the bars up to date (the stored bars were used).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_error: Option<String>,
    /// Bars the refresh added.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refreshed_bars: Option<usize>,
    /// The training job for this symbol (queued now, or already queued or running).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    /// Its status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_status: Option<JobStatus>,
}

/// A yes/no query parameter: `true`/`false`/`1`/`0`/`yes`/`no` (absent: `default`).
pub fn flag(name: &str, value: Option<&str>, default: bool) -> ApiResult<bool> {
    match value.map(|v| v.trim().to_ascii_lowercase()) {
        None => Ok(default),
        Some(v) if ["true", "1", "yes"].contains(&v.as_str()) => Ok(true),
        Some(v) if ["false", "0", "no", ""].contains(&v.as_str()) => Ok(false),
        Some(v) => Err(ApiError::bad_request("bad_parameter", format!("{name}={v:?}: expected true or false"))),
    }
}

/// The symbol of a request: upper-cased, validated (so no path can be smuggled in), and a bare
/// base asset gets the configured quote unless a model or stored series has the bare name.
pub fn resolve_symbol(state: &AppState, raw: Option<&str>) -> ApiResult<Symbol> {
    let raw = raw.map(str::trim).filter(|s| !s.is_empty()).ok_or_else(|| {
        ApiError::bad_request("missing_parameter", "symbol is required, e.g. /v1/predict?symbol=BTCUSDT")
    })?;
    let upper = raw.to_ascii_uppercase();
    let symbol = Symbol::new(&upper).map_err(|e| ApiError::bad_request("bad_symbol", e.to_string()))?;
    let quote = &state.config().quote;
    if upper.ends_with(quote.as_str()) {
        return Ok(symbol);
    }
    // Memory first (a model, warm bars); the store's folder is listed only for a cold name.
    let known = state.model(&upper).is_some()
        || state.is_warm(&symbol)
        || state.store().list().map(|l| l.iter().any(|s| s.symbol == symbol)).unwrap_or(false);
    if known {
        return Ok(symbol);
    }
    Symbol::new(&format!("{upper}{quote}")).map_err(|e| ApiError::bad_request("bad_symbol", e.to_string()))
}

/// The model a request uses: `model_id` when given, else the symbol's own, else `global`.
pub fn choose_model(state: &AppState, symbol: &Symbol, model_id: Option<&str>) -> ApiResult<Arc<LoadedModel>> {
    if let Some(id) = model_id {
        let id = vane_artifact::ModelId::new(id).map_err(|e| ApiError::bad_request("bad_model_id", e.to_string()))?;
        return state.model(id.as_str()).ok_or_else(|| {
            ApiError::not_found(
                "no_model",
                format!("no model {id} in {}: GET /health lists the loaded ones", state.models_dir().display()),
            )
        });
    }
    state.model(symbol.as_str()).or_else(|| state.model("global")).ok_or_else(|| {
        ApiError::not_found(
            "no_model",
            format!(
                "no model for {symbol} and no global model in {}: train one first (vane train)",
                state.models_dir().display()
            ),
        )
    })
}

/// The forecast of `model` for the last stored bar of `symbol`, from memory when this bar was
/// already forecast (blocking on a miss). `Ok(None)`: nothing stored.
pub fn forecast(
    state: &AppState,
    model: &LoadedModel,
    symbol: &Symbol,
) -> ApiResult<Option<(Forecast, Freshness, serde_json::Value)>> {
    let predictor = model.predictor.as_ref().map_err(|e| ApiError::internal("model_unavailable", e.clone()))?;
    let summary = model.summary.as_ref().ok_or_else(|| ApiError::internal("model_unavailable", "no summary"))?;
    let Some(warm) = state.bars(symbol, summary.interval).map_err(|e| from_market(&e))? else {
        return Ok(None);
    };
    let Some(last) = warm.bars.last_open_time() else { return Ok(None) };
    let fresh = Freshness::at(Some(last), summary.interval, Timestamp::now());
    if let Some(f) = state.cached_forecast(&model.id, symbol, last.0) {
        return Ok(Some((f, fresh, summary.thresholds.clone())));
    }
    let f = {
        let p =
            predictor.lock().map_err(|_| ApiError::internal("model_unavailable", "a previous prediction panicked"))?;
        match p.gbdt() {
            Some(g) => streamed(state, &model.id, g, symbol, &warm.bars)?,
            None => p.predict(symbol, &warm.bars).map_err(|e| from_pipeline(&e))?,
        }
    };
    state.cache_forecast(&model.id, symbol, last.0, &f);
    Ok(Some((f, fresh, summary.thresholds.clone())))
}

/// A GBDT forecast through the model's warm feature stream: only the bars after the last one fed
/// are fed (one `update` per indicator per new bar); a stream whose history no longer matches the
/// stored bars (a re-import replaced them) starts over. Equal to the batch `predict` (the feature
/// sets' streaming rows equal their batch rows, tested in vane-indicators; tested here too).
fn streamed(
    state: &AppState,
    model_id: &str,
    g: &vane_pipeline::Predictor,
    symbol: &Symbol,
    bars: &vane_core::Bars,
) -> ApiResult<Forecast> {
    let mut streams = state.inner.streams.lock().map_err(|_| ApiError::internal("internal_error", "stream lock"))?;
    let times = bars.open_time();
    let fresh = || {
        let features = g.feature_stream();
        let row = vec![f64::NAN; features.names().len()];
        crate::state::WarmStream { features, row, fed: 0, last: i64::MIN }
    };
    let ws = streams.entry((model_id.to_string(), symbol.clone())).or_insert_with(fresh);
    let continues = ws.fed == 0 || (ws.fed <= times.len() && times[ws.fed - 1] == ws.last);
    if !continues {
        *ws = fresh();
    }
    for (i, &t) in times.iter().enumerate().skip(ws.fed) {
        let Some(bar) = bars.get(i) else { break };
        ws.features.update(&bar, &mut ws.row);
        ws.fed = i + 1;
        ws.last = t;
    }
    let at =
        bars.last_open_time().ok_or_else(|| ApiError::not_found("unknown_symbol", format!("no bars for {symbol}")))?;
    let p = g.predict_row(symbol, &ws.row, at, ws.fed).map_err(|e| from_pipeline(&e))?;
    Ok(vane_pipeline::predictor::forecast(p))
}

/// The answer when a symbol's training job cannot be made: 422 `cannot_train` when the global
/// model is a kind the jobs cannot train (the request cannot be served as asked: leave `train`
/// out), 500 `bad_config` when its `config.json` cannot be read.
pub fn train_config_error(e: crate::runner::SymbolConfigError) -> ApiError {
    match e {
        e @ crate::runner::SymbolConfigError::NotGbdt { .. } => {
            ApiError::new(axum::http::StatusCode::UNPROCESSABLE_ENTITY, "cannot_train", e.to_string())
        }
        e => ApiError::internal("bad_config", e.to_string()),
    }
}

/// Runs a blocking closure off the async workers.
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> ApiResult<T> + Send + 'static) -> ApiResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::internal("internal_error", format!("a request task failed: {e}")))?
}

/// `GET /v1/predict`.
pub async fn predict(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<PredictQuery>,
) -> ApiResult<Json<PredictAnswer>> {
    let refresh = flag("refresh", q.refresh.as_deref(), false)?;
    let train = flag("train", q.train.as_deref(), false)?;
    let since_days: i64 = match q.since_days_default.as_deref() {
        None => 1095,
        Some(v) => match v.trim().parse::<i64>() {
            Ok(d) if (1..=3650).contains(&d) => d,
            _ => {
                return Err(ApiError::bad_request(
                    "bad_parameter",
                    format!("since_days_default={v:?}: expected a whole number of days in 1..=3650"),
                ));
            }
        },
    };
    if train {
        crate::auth::authorize(&state, &headers)?;
    }
    let symbol = resolve_symbol(&state, q.symbol.as_deref())?;
    let model = choose_model(&state, &symbol, q.model_id.as_deref())?;
    let interval = model.summary.as_ref().map(|s| s.interval).ok_or_else(|| {
        ApiError::internal("model_unavailable", model.predictor.as_ref().err().cloned().unwrap_or_default())
    })?;

    // 1. Refresh (synchronous, short retries; a failure falls back to the stored bars).
    let (mut refresh_error, mut refresh_transient, mut refreshed_bars) = (None, false, None);
    if refresh {
        let st = state.clone();
        let sym = symbol.clone();
        let since = Timestamp(Timestamp::now().0 - since_days * DAY_MS);
        let r = blocking(move || st.refresh(&sym, interval, since).map_err(|e| from_market(&e))).await?;
        refresh_transient = r.error.as_ref().is_some_and(|e| e.is_transient());
        refresh_error = r.error.map(|e| e.to_string());
        refreshed_bars = r.summary.map(|s| s.rows_added);
    }

    // 2. The forecast from the (possibly refreshed) stored bars.
    let st = state.clone();
    let sym = symbol.clone();
    let m = model.clone();
    let Some((forecast, fresh, thresholds)) = blocking(move || forecast(&st, &m, &sym)).await? else {
        return Err(match refresh_error {
            Some(e) if refresh_transient => ApiError::new(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "exchange_unavailable",
                format!("no stored candles for {symbol} {interval} and the refresh failed: {e}"),
            )
            .retry_after(30),
            Some(e) => ApiError::not_found(
                "unknown_symbol",
                format!("no stored candles for {symbol} {interval}, and the exchange refused them: {e}"),
            ),
            None if refresh => ApiError::not_found(
                "unknown_symbol",
                format!("no candles for {symbol} {interval}, stored or at the exchange"),
            ),
            None => ApiError::not_found(
                "unknown_symbol",
                format!("no stored candles for {symbol} {interval}: pass refresh=true to download them"),
            ),
        });
    };
    // 3. A training job when the symbol has no model of its own (after the
    //    forecast: a symbol without candles gets a 404, not a job that cannot train).
    let (mut job_id, mut job_status) = (None, None);
    if train && state.model(symbol.as_str()).is_none() {
        let jobs = state.jobs().ok_or_else(|| {
            ApiError::new(axum::http::StatusCode::SERVICE_UNAVAILABLE, "no_queue", "this server has no job queue")
        })?;
        let config =
            crate::runner::symbol_config(&state.inner.config.artifacts_dir, &symbol).map_err(train_config_error)?;
        let key = format!("train_symbol:{symbol}:{}", crate::runner::config_hash(&config));
        let spec = JobSpec { kind: JobKind::TrainSymbol, symbol: symbol.clone(), config, mode: "fast".into() };
        let (info, _created) =
            jobs.submit(spec, &key).await.map_err(|e| ApiError::from_class(e.class(), e.to_string()))?;
        job_id = Some(info.id.clone());
        job_status = Some(info.status);
    }

    Ok(Json(PredictAnswer {
        forecast,
        stale: fresh.stale,
        as_of_age_s: fresh.age_s,
        thresholds,
        trained_until_ms: model.summary.as_ref().and_then(|s| s.trained_until_ms),
        refresh_error,
        refreshed_bars,
        job_id,
        job_status,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use vane_core::Interval;
    use vane_market_data::ParquetStore;
    use vane_pipeline::{Mode, TrainConfig, train};

    /// The warm stream, fed bar by bar as they arrive, answers exactly what the batch `predict`
    /// answers on the same bars — and starts over when the stored history is replaced.
    #[test]
    fn streamed_forecasts_equal_batch_predictions() {
        let dir = tempfile::tempdir().unwrap();
        let store = ParquetStore::new(dir.path().join("data"));
        let btc = Symbol::new("BTCUSDT").unwrap();
        let bars = vane_testkit::fixture_bars("BTCUSDT_4h.csv", Interval::H4);
        store.append(&btc, Interval::H4, &bars).unwrap();
        let cfg = TrainConfig {
            symbols: vec![btc.clone()],
            train_bars: 900,
            test_bars: 360,
            theta_steps_fast: 2,
            iterations_fast: 30,
            depth: 4,
            ..TrainConfig::default()
        };
        let arts = dir.path().join("artifacts");
        train(&store, &arts, &cfg, Mode::Fast, false).unwrap();
        let g = vane_pipeline::Predictor::load(&arts.join("models/global")).unwrap();
        let state = AppState::new(crate::ServeConfig::new("127.0.0.1:0".parse().unwrap(), &arts, dir.path()), None);
        for end in [1500, 1501, 1502, 1700, 2190] {
            let head = bars.slice(0..end);
            let s = streamed(&state, "global", &g, &btc, &head).unwrap();
            let b = vane_pipeline::predictor::forecast(g.predict(&btc, &head).unwrap());
            assert_eq!(s, b, "after {end} bars");
        }
        // A different history (bars replaced): the stream starts over, still equal.
        let other = bars.slice(100..1800);
        let s = streamed(&state, "global", &g, &btc, &other).unwrap();
        assert_eq!(s, vane_pipeline::predictor::forecast(g.predict(&btc, &other).unwrap()));
        let ws = state.inner.streams.lock().unwrap();
        assert_eq!(ws[&("global".to_string(), btc.clone())].fed, 1700);
    }
}
