//! The routes, the request limits and the request log. Every answer is JSON (the event stream
//! aside), errors included: `{"error": {"code", "message"}}`.

use std::time::Instant;

use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use vane_core::Timestamp;
use vane_pipeline::ModelSummary;

use crate::api::{ApiError, ApiResult};
use crate::jobs::JobInfo;
use crate::predict::blocking;
use crate::state::AppState;

/// The longest request target accepted (path and query), bytes.
pub const MAX_URI_BYTES: usize = 2048;
/// The largest request body accepted, bytes.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// One model in `GET /health`.
#[derive(Clone, Debug, Serialize)]
pub struct HealthModel {
    /// The folder name.
    pub id: String,
    /// When the folder was last written (its newest file), ms UTC: when the model was trained.
    pub trained_at_ms: Option<i64>,
    /// What the model is (absent when it cannot be loaded).
    #[serde(flatten)]
    pub summary: Option<ModelSummary>,
    /// Why the folder cannot be loaded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One stored series in `GET /health`.
#[derive(Clone, Debug, Serialize)]
pub struct HealthSeries {
    /// The symbol.
    pub symbol: String,
    /// The interval.
    pub interval: String,
    /// Open time of the last stored bar.
    pub last_open_time_ms: Option<i64>,
    /// Seconds since it closed.
    pub age_s: Option<i64>,
    /// Closed bars are missing.
    pub stale: bool,
}

/// The job queue in `GET /health`.
#[derive(Clone, Debug, Serialize)]
pub struct HealthJobs {
    /// Jobs waiting.
    pub queued: usize,
    /// Jobs running.
    pub running: usize,
    /// Workers of this process.
    pub workers: usize,
}

/// The body of `GET /health`.
#[derive(Clone, Debug, Serialize)]
pub struct Health {
    /// `"ok"` while the server answers.
    pub status: String,
    /// This crate's version.
    pub version: String,
    /// Seconds since the server started.
    pub uptime_s: f64,
    /// Every model folder.
    pub models: Vec<HealthModel>,
    /// Every stored series and its freshness.
    pub data: Vec<HealthSeries>,
    /// The job queue (absent without one).
    pub jobs: Option<HealthJobs>,
    /// Seed 000's runtime tags (empty without a runtime).
    pub stack_tags: Vec<String>,
    /// Followed symbols (`--stream-symbols`) with no stored bars: absent from
    /// `/v1/signal/{tag}` and `/v1/stream` until bars arrive (empty without a runtime).
    pub stream_symbols_without_data: Vec<String>,
    /// Successful `POST /v1/thresholds/reload` calls since the server started.
    pub thresholds_reloads: u64,
    /// The runs registry served under `/v1/runs` and by the dashboard.
    pub runs_dir: String,
}

/// The API's routes over `state`, with the request limits and the request log.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/v1/predict", get(crate::predict::predict))
        .route("/v1/jobs", get(list_jobs))
        .route("/v1/jobs/{id}", get(get_job).delete(cancel_job))
        .route("/v1/thresholds/reload", post(reload_thresholds))
        .route("/v1/signal/{tag}", get(crate::runtime::signal))
        .route("/v1/stream", get(crate::runtime::stream))
        .merge(crate::runs_api::routes())
        .merge(crate::dashboard::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(state.clone(), limits))
        .with_state(state)
}

/// Bounds what one request may ask (its target's length) and how many run at once (beyond
/// `max_in_flight`: 429 with `Retry-After`), and logs one line per request.
async fn limits(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let (method, path) = (req.method().clone(), req.uri().path().to_string());
    // No endpoint reads a body, so a declared length is all there is to check.
    let body_len = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let response = if req.uri().to_string().len() > MAX_URI_BYTES {
        ApiError::new(
            StatusCode::URI_TOO_LONG,
            "uri_too_long",
            format!("the request target is longer than {MAX_URI_BYTES} bytes"),
        )
        .into_response()
    } else if let Some(n) = body_len.filter(|&n| n > MAX_BODY_BYTES as u64) {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the request body is {n} bytes, over the limit of {MAX_BODY_BYTES}: no endpoint takes a body"),
        )
        .into_response()
    } else {
        match state.inner.in_flight.clone().try_acquire_owned() {
            Ok(permit) => {
                let r = json_rejection(next.run(req).await).await;
                drop(permit);
                r
            }
            Err(_) => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_requests",
                format!("more than {} requests in flight: retry shortly", state.config().max_in_flight),
            )
            .retry_after(1)
            .into_response(),
        }
    };
    tracing::info!(
        method = %method,
        path = %path,
        status = response.status().as_u16(),
        latency_ms = started.elapsed().as_secs_f64() * 1000.0,
        "request"
    );
    response
}

/// axum's own rejections — a query that does not deserialize (a parameter given twice), a path
/// segment that is not UTF-8 — are `text/plain`; every answer of this API is JSON, so they become
/// `{"error": {"code", "message"}}` with the same status and axum's text as the message.
async fn json_rejection(r: Response) -> Response {
    let status = r.status();
    let plain = r
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("text/plain"));
    if !plain || !(status.is_client_error() || status.is_server_error()) {
        return r;
    }
    let text = match axum::body::to_bytes(r.into_body(), MAX_BODY_BYTES).await {
        Ok(b) => String::from_utf8_lossy(&b).trim().to_string(),
        Err(e) => format!("the error could not be read: {e}"),
    };
    let (code, message) = if text.starts_with("Failed to deserialize query string") {
        let hint = if text.contains("duplicate field") { ": give each parameter once" } else { "" };
        ("bad_parameter", format!("{text}{hint}"))
    } else if status.is_server_error() {
        ("internal_error", text)
    } else if status == StatusCode::PAYLOAD_TOO_LARGE {
        ("payload_too_large", text)
    } else {
        ("bad_request", text)
    };
    ApiError::new(status, code, message).into_response()
}

async fn health(State(state): State<AppState>) -> ApiResult<Json<Health>> {
    let st = state.clone();
    let (models, data, stream_symbols_without_data) = blocking(move || {
        let models = st
            .models()
            .iter()
            .map(|m| HealthModel {
                id: m.id.clone(),
                trained_at_ms: m
                    .stamp
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map(|d| d.as_millis() as i64),
                summary: m.summary.clone(),
                error: m.predictor.as_ref().err().cloned(),
            })
            .collect();
        let now = Timestamp::now();
        let data = st
            .store()
            .list()
            .unwrap_or_default()
            .into_iter()
            .map(|s| {
                // The footer's statistics: no bars are decoded for a health check.
                let last = st.store().last_open_time(&s.symbol, s.interval).ok().flatten();
                let f = vane_market_data::Freshness::at(last, s.interval, now);
                HealthSeries {
                    symbol: s.symbol.to_string(),
                    interval: s.interval.to_string(),
                    last_open_time_ms: f.last_open_time_ms,
                    age_s: f.age_s,
                    stale: f.stale,
                }
            })
            .collect();
        let without = crate::runtime::followed_without_data(&st).iter().map(|s| s.to_string()).collect();
        Ok((models, data, without))
    })
    .await?;
    let jobs = match state.jobs() {
        Some(q) => {
            let (queued, running) = q.counts().await.map_err(|e| ApiError::from_class(e.class(), e.to_string()))?;
            Some(HealthJobs { queued, running, workers: state.config().workers })
        }
        None => None,
    };
    Ok(Json(Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        uptime_s: state.uptime_s(),
        models,
        data,
        jobs,
        stack_tags: state.inner.runtime.tags(),
        stream_symbols_without_data,
        thresholds_reloads: state.thresholds_reloads(),
        runs_dir: state.config().runs_dir.display().to_string(),
    }))
}

fn queue(state: &AppState) -> ApiResult<&crate::jobs::JobQueue> {
    state
        .jobs()
        .ok_or_else(|| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "no_queue", "this server has no job queue"))
}

/// `?limit=` of `GET /v1/jobs`.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    /// At most this many jobs, newest first (1..=1000, default 100).
    pub limit: Option<String>,
}

async fn list_jobs(State(state): State<AppState>, Query(q): Query<ListQuery>) -> ApiResult<Json<serde_json::Value>> {
    let limit = match q.limit.as_deref() {
        None => 100,
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| ApiError::bad_request("bad_parameter", format!("limit={v:?}: expected 1..=1000")))?,
    };
    let jobs = queue(&state)?.list(limit).await.map_err(|e| ApiError::from_class(e.class(), e.to_string()))?;
    Ok(Json(serde_json::json!({ "jobs": jobs })))
}

async fn get_job(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<JobInfo>> {
    queue(&state)?
        .get(&id)
        .await
        .map_err(|e| ApiError::from_class(e.class(), e.to_string()))?
        .map(Json)
        .ok_or_else(|| ApiError::not_found("unknown_job", format!("no job {id:?}")))
}

async fn cancel_job(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Json<JobInfo>> {
    crate::auth::authorize(&state, &headers)?;
    queue(&state)?
        .cancel(&id)
        .await
        .map_err(|e| ApiError::from_class(e.class(), e.to_string()))?
        .map(Json)
        .ok_or_else(|| ApiError::not_found("unknown_job", format!("no job {id:?}")))
}

/// What `POST /v1/thresholds/reload` changed for one model.
#[derive(Debug, Serialize)]
pub struct ReloadChange {
    /// The model.
    pub id: String,
    /// Thresholds before (absent: the model was not loaded).
    pub before: Option<serde_json::Value>,
    /// Thresholds after (absent: the model no longer loads).
    pub after: Option<serde_json::Value>,
    /// Whether they differ.
    pub changed: bool,
}

async fn reload_thresholds(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Json<serde_json::Value>> {
    crate::auth::authorize(&state, &headers)?;
    let st = state.clone();
    let rows = blocking(move || Ok(st.reload_models())).await?;
    let models: Vec<ReloadChange> = rows
        .into_iter()
        .map(|(id, b, a)| {
            let (before, after) = (b.map(|s| s.thresholds), a.map(|s| s.thresholds));
            ReloadChange { changed: before != after, id, before, after }
        })
        .collect();
    let changed = models.iter().filter(|m| m.changed).count();
    // Seed 000's stack tags re-read their meta.json (docs/stacking.md, Runtime).
    let st = state.clone();
    let stacks = blocking(move || Ok(st.inner.runtime.reload_stacks())).await?;
    state.inner.reloads.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    Ok(Json(serde_json::json!({ "reloaded": models.len(), "changed": changed, "models": models, "stacks": stacks })))
}

async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::not_found("no_route", format!("no route for {method} {}", uri.path()))
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("{method} is not allowed on {}", uri.path()),
    )
}
