//! The runs registry (`vane_artifact::runs`, the folder `--runs-dir`) over HTTP, read-only and
//! without a token like the other read endpoints:
//!
//! - `GET /v1/runs` — the runs, newest first, filtered (`verb`, `model`, `symbol`, `status`) and
//!   paged (`limit`, `offset`), with the filter values present (`facets`);
//! - `GET /v1/runs/{id}` — one run's record and files;
//! - `GET /v1/runs/{id}/series?kind=equity|drawdown|returns|history&max_points=N` — a series,
//!   downsampled on the server ([`downsample`](crate::runs_api::downsample));
//! - `GET /v1/runs/{id}/windows` — a walk-forward run's `windows.csv` as JSON rows;
//! - `GET /v1/runs/{id}/plots/{name}` — one of the run's `plots/*.svg|png`;
//! - `GET /v1/runs/compare?ids=A,B&max_points=N` — metrics side by side and equity curves
//!   aligned on one time axis;
//! - `GET /v1/runs/correlation` — Pearson correlation across runs of each pair of headline
//!   metrics (same filters as the list).
//!
//! Downsampling keeps, in each of `B` equal buckets of the points, the minimum and the maximum
//! of every series (plus the first and last point), so the extremes a chart must show (the
//! deepest drawdown, the highest equity) survive whatever `max_points` is; at most `max_points`
//! points come back.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path as FsPath;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use vane_artifact::ArtifactError;
use vane_artifact::runs::{
    PLOTS_DIR, RETURNS_FILE, ReturnRow, RunRecord, RunStatus, RunSummary, RunsDir, WINDOWS_FILE, valid_run_id,
};

use crate::api::{ApiError, ApiResult};
use crate::predict::blocking;
use crate::state::AppState;

/// Points a series answer has by default.
pub const DEFAULT_MAX_POINTS: usize = 2000;
/// The `max_points` range accepted.
pub const MAX_POINTS_RANGE: std::ops::RangeInclusive<usize> = 10..=100_000;
/// Runs one comparison may hold.
pub const MAX_COMPARE: usize = 20;
/// Parsed `returns.csv` files kept in memory.
pub const CACHE_ENTRIES: usize = 64;
/// The largest plot file served, bytes.
pub const MAX_PLOT_BYTES: u64 = 32 * 1024 * 1024;

/// The `/v1/runs…` routes (state applied by [`crate::router`]).
pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/v1/runs", get(list))
        .route("/v1/runs/compare", get(compare))
        .route("/v1/runs/correlation", get(correlation))
        .route("/v1/runs/{id}", get(show))
        .route("/v1/runs/{id}/series", get(series))
        .route("/v1/runs/{id}/windows", get(windows))
        .route("/v1/runs/{id}/plots/{name}", get(plot))
}

// ---------------------------------------------------------------------------------------------
// Pure parts: downsampling, equity, correlation (tested below).

/// The indices to keep of `n` points so that at most `max_points` remain: all of them when
/// `n <= max_points`; else the first, the last, and in each of `B = (max_points - 2) / (2k)`
/// equal buckets of the inner points the index of the minimum and of the maximum of each of the
/// `k` series (non-finite values ignored; a bucket with none keeps its first index). Sorted,
/// without repeats. Every series' global minimum and maximum are kept.
pub fn downsample(n: usize, series: &[&[f64]], max_points: usize) -> Vec<usize> {
    if n <= max_points.max(2) {
        return (0..n).collect();
    }
    let k = series.len().max(1);
    let inner = n - 2;
    let buckets = ((max_points.saturating_sub(2)) / (2 * k)).max(1).min(inner);
    let mut keep = Vec::with_capacity(2 + 2 * k * buckets);
    keep.push(0);
    for b in 0..buckets {
        let lo = 1 + b * inner / buckets;
        let hi = 1 + (b + 1) * inner / buckets;
        if lo >= hi {
            continue;
        }
        if series.is_empty() {
            keep.push(lo);
            continue;
        }
        for s in series {
            let (mut min_i, mut max_i) = (None::<usize>, None::<usize>);
            for i in lo..hi.min(s.len()) {
                let v = s[i];
                if !v.is_finite() {
                    continue;
                }
                if min_i.is_none_or(|j| v < s[j]) {
                    min_i = Some(i);
                }
                if max_i.is_none_or(|j| v > s[j]) {
                    max_i = Some(i);
                }
            }
            match (min_i, max_i) {
                (Some(a), Some(b)) => {
                    keep.push(a);
                    keep.push(b);
                }
                _ => keep.push(lo),
            }
        }
    }
    keep.push(n - 1);
    keep.sort_unstable();
    keep.dedup();
    keep
}

/// The equity curve of `returns` compounded from 1 (`Π (1 + r)`; a missing return counts as 0).
pub fn equity(returns: &[f64]) -> Vec<f64> {
    let mut e = 1.0;
    returns
        .iter()
        .map(|r| {
            if r.is_finite() {
                e *= 1.0 + r;
            }
            e
        })
        .collect()
}

/// The drawdown of an equity curve: `equity / running peak − 1` (≤ 0).
pub fn drawdown(equity: &[f64]) -> Vec<f64> {
    let mut peak = f64::NEG_INFINITY;
    equity
        .iter()
        .map(|&e| {
            peak = peak.max(e);
            if peak > 0.0 { e / peak - 1.0 } else { 0.0 }
        })
        .collect()
}

/// Pearson's correlation of the pairs where both values are present and finite, with the
/// number of those pairs; `None` with fewer than 3 pairs or a constant side.
pub fn pearson(a: &[Option<f64>], b: &[Option<f64>]) -> (Option<f64>, usize) {
    let pairs: Vec<(f64, f64)> = a
        .iter()
        .zip(b)
        .filter_map(|(x, y)| match (x, y) {
            (Some(x), Some(y)) if x.is_finite() && y.is_finite() => Some((*x, *y)),
            _ => None,
        })
        .collect();
    let n = pairs.len();
    if n < 3 {
        return (None, n);
    }
    let mx = pairs.iter().map(|p| p.0).sum::<f64>() / n as f64;
    let my = pairs.iter().map(|p| p.1).sum::<f64>() / n as f64;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (x, y) in &pairs {
        sxy += (x - mx) * (y - my);
        sxx += (x - mx) * (x - mx);
        syy += (y - my) * (y - my);
    }
    if sxx <= 0.0 || syy <= 0.0 {
        return (None, n);
    }
    (Some((sxy / (sxx.sqrt() * syy.sqrt())).clamp(-1.0, 1.0)), n)
}

fn opt(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

// ---------------------------------------------------------------------------------------------
// The cache of parsed returns.

/// Parsed `returns.csv` files by run id, each with the file's modification time and length
/// when read (a changed file is read again). Bounded to [`CACHE_ENTRIES`].
#[derive(Debug, Default)]
pub struct SeriesCache {
    entries: Mutex<HashMap<String, CacheEntry>>,
}

type Stamp = (Option<SystemTime>, u64);

#[derive(Debug)]
struct CacheEntry {
    stamp: Stamp,
    used: u64,
    rows: Arc<Vec<ReturnRow>>,
}

impl SeriesCache {
    /// Run `id`'s returns, from memory when the file has not changed. Blocking.
    pub fn returns(&self, runs: &RunsDir, id: &str) -> Result<Arc<Vec<ReturnRow>>, ArtifactError> {
        let path = runs.run_dir(id)?.join(RETURNS_FILE);
        let stamp: Stamp = match std::fs::metadata(&path) {
            Ok(m) => (m.modified().ok(), m.len()),
            Err(_) => (None, 0),
        };
        let tick = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
        if let Ok(mut c) = self.entries.lock()
            && let Some(e) = c.get_mut(id)
            && e.stamp == stamp
        {
            e.used = tick;
            return Ok(e.rows.clone());
        }
        let rows = Arc::new(runs.returns(id)?);
        if let Ok(mut c) = self.entries.lock() {
            if c.len() >= CACHE_ENTRIES
                && !c.contains_key(id)
                && let Some(oldest) = c.iter().min_by_key(|(_, e)| e.used).map(|(k, _)| k.clone())
            {
                c.remove(&oldest);
            }
            c.insert(id.to_string(), CacheEntry { stamp, used: tick, rows: rows.clone() });
        }
        Ok(rows)
    }
}

// ---------------------------------------------------------------------------------------------
// Errors and parameters.

fn from_artifact(e: &ArtifactError) -> ApiError {
    match e {
        ArtifactError::UnknownRun { id, runs_dir } => ApiError::not_found(
            "unknown_run",
            format!("no run {id:?} in the runs registry {} (GET /v1/runs lists them)", runs_dir.display()),
        ),
        _ => match e.class() {
            vane_core::ErrorClass::Data => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "bad_data", e.to_string()),
            c => ApiError::from_class(c, e.to_string()),
        },
    }
}

fn bad(name: &str, value: &str, expected: &str) -> ApiError {
    ApiError::bad_request("bad_parameter", format!("{name}={value:?}: expected {expected}"))
}

fn count_param(
    name: &str,
    v: Option<&str>,
    default: usize,
    range: std::ops::RangeInclusive<usize>,
) -> ApiResult<usize> {
    match v {
        None | Some("") => Ok(default),
        Some(s) => s
            .parse::<usize>()
            .ok()
            .filter(|n| range.contains(n))
            .ok_or_else(|| bad(name, s, &format!("a whole number in {}..={}", range.start(), range.end()))),
    }
}

fn max_points(v: Option<&str>) -> ApiResult<usize> {
    count_param("max_points", v, DEFAULT_MAX_POINTS, MAX_POINTS_RANGE)
}

/// The filters of `GET /v1/runs` and `GET /v1/runs/correlation`, and the paging of the list.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    /// Only runs of this verb (`train`, `train-test`, `wfo`, …).
    pub verb: Option<String>,
    /// Only runs of this model kind.
    pub model: Option<String>,
    /// Only runs trained on this symbol (case-insensitive).
    pub symbol: Option<String>,
    /// Only runs with this status (`running`, `finished`, `failed`).
    pub status: Option<String>,
    /// At most this many runs (1..=1000, default 100).
    pub limit: Option<String>,
    /// Skip this many runs first (default 0).
    pub offset: Option<String>,
}

struct Filter {
    verb: Option<String>,
    model: Option<String>,
    symbol: Option<String>,
    status: Option<RunStatus>,
}

impl Filter {
    fn parse(q: &ListQuery) -> ApiResult<Self> {
        let nonempty = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
        let status = match nonempty(&q.status).as_deref() {
            None => None,
            Some("running") => Some(RunStatus::Running),
            Some("finished") => Some(RunStatus::Finished),
            Some("failed") => Some(RunStatus::Failed),
            Some(s) => return Err(bad("status", s, "running, finished or failed")),
        };
        Ok(Self { verb: nonempty(&q.verb), model: nonempty(&q.model), symbol: nonempty(&q.symbol), status })
    }

    fn keeps(&self, r: &RunSummary) -> bool {
        self.verb.as_ref().is_none_or(|v| &r.verb == v)
            && self.model.as_ref().is_none_or(|m| &r.model == m)
            && self.symbol.as_ref().is_none_or(|s| r.symbols.iter().any(|x| x.eq_ignore_ascii_case(s)))
            && self.status.is_none_or(|s| r.status == s)
    }
}

fn scan(runs: &RunsDir) -> ApiResult<(Vec<RunSummary>, Vec<String>)> {
    let (records, errors) = runs.scan().map_err(|e| from_artifact(&e))?;
    Ok((records.iter().map(RunSummary::from).collect(), errors.iter().map(ToString::to_string).collect()))
}

// ---------------------------------------------------------------------------------------------
// Handlers.

/// The filter values present in the registry (for the dashboard's selects).
#[derive(Debug, Serialize)]
pub struct Facets {
    /// Verbs.
    pub verbs: Vec<String>,
    /// Model kinds.
    pub models: Vec<String>,
    /// Symbols.
    pub symbols: Vec<String>,
}

/// The answer of `GET /v1/runs`.
#[derive(Debug, Serialize)]
pub struct RunList {
    /// Runs matching the filters.
    pub total: usize,
    /// Skipped first.
    pub offset: usize,
    /// Page size.
    pub limit: usize,
    /// This page, newest first.
    pub runs: Vec<RunSummary>,
    /// Every verb, model and symbol in the registry.
    pub facets: Facets,
    /// Run folders whose `run.json` cannot be read (file and reason).
    pub unreadable: Vec<String>,
    /// The registry folder.
    pub runs_dir: String,
}

async fn list(State(state): State<AppState>, Query(q): Query<ListQuery>) -> ApiResult<Json<RunList>> {
    let filter = Filter::parse(&q)?;
    let limit = count_param("limit", q.limit.as_deref(), 100, 1..=1000)?;
    let offset = count_param("offset", q.offset.as_deref(), 0, 0..=usize::MAX)?;
    let runs = state.runs();
    blocking(move || {
        let (all, unreadable) = scan(&runs)?;
        let set = |f: fn(&RunSummary) -> Vec<String>| -> Vec<String> {
            all.iter().flat_map(f).collect::<BTreeSet<_>>().into_iter().collect()
        };
        let facets = Facets {
            verbs: set(|r| vec![r.verb.clone()]),
            models: set(|r| vec![r.model.clone()]),
            symbols: set(|r| r.symbols.clone()),
        };
        let mut kept: Vec<RunSummary> = all.into_iter().filter(|r| filter.keeps(r)).collect();
        kept.reverse();
        let total = kept.len();
        let page = kept.into_iter().skip(offset).take(limit).collect();
        Ok(Json(RunList {
            total,
            offset,
            limit,
            runs: page,
            facets,
            unreadable,
            runs_dir: runs.root().display().to_string(),
        }))
    })
    .await
}

/// A file of a run.
#[derive(Debug, Serialize)]
pub struct RunFile {
    /// The path inside the run folder (`returns.csv`, `plots/equity.svg`).
    pub name: String,
    /// Its size.
    pub bytes: u64,
}

/// The answer of `GET /v1/runs/{id}`.
#[derive(Debug, Serialize)]
pub struct RunDetail {
    /// `run.json`.
    pub run: RunRecord,
    /// Every file of the run folder and of its `plots/`.
    pub files: Vec<RunFile>,
    /// The plots served by `GET /v1/runs/{id}/plots/{name}` (`.svg`, `.png`).
    pub plots: Vec<String>,
    /// Whether it has `history.csv`, `returns.csv`, `windows.csv`.
    pub has_history: bool,
    /// See `has_history`.
    pub has_returns: bool,
    /// See `has_history`.
    pub has_windows: bool,
}

fn plot_name_ok(name: &str) -> bool {
    valid_run_id(name) && (name.ends_with(".svg") || name.ends_with(".png"))
}

fn files_of(dir: &FsPath) -> Vec<RunFile> {
    let mut out = Vec::new();
    let mut walk = |d: &FsPath, prefix: &str| {
        for e in std::fs::read_dir(d).into_iter().flatten().flatten() {
            let Ok(meta) = e.metadata() else { continue };
            if meta.is_file() {
                out.push(RunFile { name: format!("{prefix}{}", e.file_name().to_string_lossy()), bytes: meta.len() });
            }
        }
    };
    walk(dir, "");
    walk(&dir.join(PLOTS_DIR), "plots/");
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

async fn show(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<RunDetail>> {
    let runs = state.runs();
    blocking(move || {
        let run = runs.load(&id).map_err(|e| from_artifact(&e))?;
        let dir = runs.run_dir(&id).map_err(|e| from_artifact(&e))?;
        let files = files_of(&dir);
        let plots = files
            .iter()
            .filter_map(|f| f.name.strip_prefix("plots/"))
            .filter(|n| plot_name_ok(n))
            .map(str::to_string)
            .collect();
        let has = |n: &str| files.iter().any(|f| f.name == n);
        Ok(Json(RunDetail {
            has_history: has(vane_artifact::runs::HISTORY_FILE),
            has_returns: has(RETURNS_FILE),
            has_windows: has(WINDOWS_FILE),
            run,
            files,
            plots,
        }))
    })
    .await
}

/// `?kind=&max_points=` of `GET /v1/runs/{id}/series`.
#[derive(Debug, Deserialize)]
pub struct SeriesQuery {
    /// `equity` (default), `drawdown`, `returns` or `history`.
    pub kind: Option<String>,
    /// At most this many points (10..=100000, default 2000).
    pub max_points: Option<String>,
}

/// A downsampled series: `x` and one or more `series` of the same length (`null`: missing).
#[derive(Debug, Serialize)]
pub struct Series {
    /// The run.
    pub id: String,
    /// What it is.
    pub kind: String,
    /// The x axis: `open_time_ms` (ms UTC), or `epoch` for `history`.
    pub x_name: String,
    /// x values (integers: ms or epochs).
    pub x: Vec<i64>,
    /// Named y series.
    pub series: BTreeMap<String, Vec<Option<f64>>>,
    /// Points before downsampling.
    pub total_points: usize,
    /// `"none"` or `"minmax"` (min and max of each bucket kept).
    pub downsampled: &'static str,
}

fn pick(v: &[f64], idx: &[usize]) -> Vec<Option<f64>> {
    idx.iter().map(|&i| opt(v[i])).collect()
}

fn build_series(id: &str, kind: &str, x_name: &str, x: &[i64], ys: Vec<(&str, Vec<f64>)>, max: usize) -> Series {
    let refs: Vec<&[f64]> = ys.iter().map(|(_, v)| v.as_slice()).collect();
    let idx = downsample(x.len(), &refs, max);
    Series {
        id: id.to_string(),
        kind: kind.to_string(),
        x_name: x_name.to_string(),
        x: idx.iter().map(|&i| x[i]).collect(),
        series: ys.iter().map(|(n, v)| (n.to_string(), pick(v, &idx))).collect(),
        total_points: x.len(),
        downsampled: if idx.len() < x.len() { "minmax" } else { "none" },
    }
}

/// Run `id`'s series of `kind` downsampled to `max` points (blocking).
pub fn run_series(state: &AppState, id: &str, kind: &str, max: usize) -> ApiResult<Series> {
    let runs = state.runs();
    // An unknown run is 404 whatever the kind.
    runs.load(id).map_err(|e| from_artifact(&e))?;
    if kind == "history" {
        let h = runs.history(id).map_err(|e| from_artifact(&e))?;
        let x: Vec<i64> = h.iter().map(|r| r.epoch as i64).collect();
        let train: Vec<f64> = h.iter().map(|r| r.train_loss).collect();
        let valid: Vec<f64> = h.iter().map(|r| r.valid_loss.unwrap_or(f64::NAN)).collect();
        return Ok(build_series(id, kind, "epoch", &x, vec![("train_loss", train), ("valid_loss", valid)], max));
    }
    let rows = state.inner.runs_cache.returns(&runs, id).map_err(|e| from_artifact(&e))?;
    let x: Vec<i64> = rows.iter().map(|r| r.open_time_ms).collect();
    let r: Vec<f64> = rows.iter().map(|r| r.ret).collect();
    let ys = match kind {
        "returns" => vec![("return", r)],
        "equity" => vec![("equity", equity(&r))],
        "drawdown" => vec![("drawdown", drawdown(&equity(&r)))],
        other => return Err(bad("kind", other, "equity, drawdown, returns or history")),
    };
    Ok(build_series(id, kind, "open_time_ms", &x, ys, max))
}

async fn series(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<SeriesQuery>,
) -> ApiResult<Json<Series>> {
    let max = max_points(q.max_points.as_deref())?;
    let kind = q.kind.unwrap_or_else(|| "equity".into());
    if !matches!(kind.as_str(), "equity" | "drawdown" | "returns" | "history") {
        return Err(bad("kind", &kind, "equity, drawdown, returns or history"));
    }
    blocking(move || run_series(&state, &id, &kind, max).map(Json)).await
}

/// The answer of `GET /v1/runs/{id}/windows`.
#[derive(Debug, Serialize)]
pub struct Windows {
    /// The run.
    pub id: String,
    /// The header of `windows.csv`, in order.
    pub columns: Vec<String>,
    /// One object per window: numbers where the field parses as one, `null` when empty, else
    /// the text.
    pub rows: Vec<WindowRow>,
    /// Metric names with both an `is_` and an `oos_` column.
    pub metrics: Vec<String>,
    /// The metric the run optimised (`config.optimize` or `config.optimize_metric`), when
    /// recorded.
    pub optimize_metric: Option<String>,
}

/// One row of `windows.csv`: column → number, text or `null`.
pub type WindowRow = serde_json::Map<String, Value>;

/// Parses `windows.csv` into its header and rows (`path` names it in errors).
pub fn parse_windows(path: &FsPath, text: &str) -> Result<(Vec<String>, Vec<WindowRow>), String> {
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    let Some((_, header)) = lines.next() else { return Err(format!("{}: empty file (no header)", path.display())) };
    let columns: Vec<String> = header.split(',').map(|c| c.trim().to_string()).collect();
    let mut rows = Vec::new();
    for (i, line) in lines {
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() != columns.len() {
            return Err(format!(
                "{}: line {}: {} fields, the header has {}",
                path.display(),
                i + 1,
                fields.len(),
                columns.len()
            ));
        }
        let mut row = serde_json::Map::new();
        for (c, f) in columns.iter().zip(fields) {
            let f = f.trim();
            let v = if f.is_empty() {
                Value::Null
            } else if let Ok(x) = f.parse::<f64>() {
                serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
            } else {
                Value::String(f.to_string())
            };
            row.insert(c.clone(), v);
        }
        rows.push(row);
    }
    Ok((columns, rows))
}

async fn windows(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Windows>> {
    let runs = state.runs();
    blocking(move || {
        let run = runs.load(&id).map_err(|e| from_artifact(&e))?;
        let path = runs.run_dir(&id).map_err(|e| from_artifact(&e))?.join(WINDOWS_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(ApiError::not_found(
                    "no_windows",
                    format!("run {id:?} has no {WINDOWS_FILE} (only walk-forward runs, `vane wfo`, have windows)"),
                ));
            }
            Err(e) => return Err(ApiError::internal("io_error", format!("reading {}: {e}", path.display()))),
        };
        let (columns, rows) =
            parse_windows(&path, &text).map_err(|m| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "bad_data", m))?;
        let metrics = columns
            .iter()
            .filter_map(|c| c.strip_prefix("is_"))
            .filter(|m| columns.iter().any(|c| c.strip_prefix("oos_") == Some(*m)))
            .map(str::to_string)
            .collect();
        // `vane wfo` records it as `optimize`; accept the flag's own name too.
        let optimize_metric = ["optimize_metric", "optimize"]
            .iter()
            .find_map(|k| run.config.get(*k).and_then(Value::as_str))
            .map(str::to_string);
        Ok(Json(Windows { id, columns, rows, metrics, optimize_metric }))
    })
    .await
}

async fn plot(State(state): State<AppState>, Path((id, name)): Path<(String, String)>) -> ApiResult<Response> {
    if !plot_name_ok(&name) {
        return Err(bad("name", &name, "a plain file name ending in .svg or .png"));
    }
    let runs = state.runs();
    blocking(move || {
        runs.load(&id).map_err(|e| from_artifact(&e))?;
        let plots = runs.run_dir(&id).map_err(|e| from_artifact(&e))?.join(PLOTS_DIR);
        let missing = || ApiError::not_found("no_plot", format!("run {id:?} has no plot {name:?}"));
        // Resolve links: what is served must lie inside the run's plots folder.
        let base = std::fs::canonicalize(&plots).map_err(|_| missing())?;
        let file = std::fs::canonicalize(plots.join(&name)).map_err(|_| missing())?;
        if !file.starts_with(&base) || !file.is_file() {
            return Err(missing());
        }
        let len = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
        if len > MAX_PLOT_BYTES {
            return Err(ApiError::internal("plot_too_large", format!("{} is {len} bytes", file.display())));
        }
        let bytes = std::fs::read(&file)
            .map_err(|e| ApiError::internal("io_error", format!("reading {}: {e}", file.display())))?;
        let ct = if name.ends_with(".svg") { "image/svg+xml" } else { "image/png" };
        let mut r = (StatusCode::OK, bytes).into_response();
        let h = r.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
        h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
        // An SVG opened on its own runs no script.
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; img-src data:"),
        );
        Ok(r)
    })
    .await
}

/// `?ids=&max_points=` of `GET /v1/runs/compare`.
#[derive(Debug, Deserialize)]
pub struct CompareQuery {
    /// Run ids, comma separated (1..=20).
    pub ids: Option<String>,
    /// At most this many points of the aligned equity (10..=100000, default 2000).
    pub max_points: Option<String>,
}

/// The answer of `GET /v1/runs/compare`.
#[derive(Debug, Serialize)]
pub struct Comparison {
    /// The runs, in the order asked.
    pub runs: Vec<RunSummary>,
    /// Every headline metric of any of them, sorted.
    pub metrics: Vec<String>,
    /// metric → one value per run (`null`: absent or undefined).
    pub table: BTreeMap<String, Vec<Option<f64>>>,
    /// The equity curves on one time axis (the union of their times; `null` outside a run's
    /// span), downsampled together.
    pub equity: AlignedEquity,
}

/// Equity curves on one x axis.
#[derive(Debug, Serialize)]
pub struct AlignedEquity {
    /// Open times (ms UTC).
    pub x: Vec<i64>,
    /// run id → equity at each x (`null`: before its first or after its last return).
    pub series: BTreeMap<String, Vec<Option<f64>>>,
    /// Points of the union axis before downsampling.
    pub total_points: usize,
    /// `"none"` or `"minmax"`.
    pub downsampled: &'static str,
}

/// Aligns curves `(times, values)` on the union of their times: a curve's value at `t` is its
/// last value at or before `t` within its span, NaN outside.
pub fn align(curves: &[(Vec<i64>, Vec<f64>)]) -> (Vec<i64>, Vec<Vec<f64>>) {
    let mut xs: Vec<i64> = curves.iter().flat_map(|(t, _)| t.iter().copied()).collect();
    xs.sort_unstable();
    xs.dedup();
    let aligned = curves
        .iter()
        .map(|(t, v)| {
            let mut out = Vec::with_capacity(xs.len());
            let mut j = 0usize;
            let (first, last) = (t.first().copied(), t.last().copied());
            for &x in &xs {
                while j < t.len() && t[j] <= x {
                    j += 1;
                }
                let inside = first.is_some_and(|f| x >= f) && last.is_some_and(|l| x <= l);
                out.push(if inside && j > 0 { v[j - 1] } else { f64::NAN });
            }
            out
        })
        .collect();
    (xs, aligned)
}

/// The comparison of runs `ids` (blocking).
pub fn compare_runs(state: &AppState, ids: &[String], max: usize) -> ApiResult<Comparison> {
    let runs = state.runs();
    let mut summaries = Vec::new();
    let mut curves = Vec::new();
    for id in ids {
        let rec = runs.load(id).map_err(|e| from_artifact(&e))?;
        summaries.push(RunSummary::from(&rec));
        let rows = state.inner.runs_cache.returns(&runs, id).map_err(|e| from_artifact(&e))?;
        // Sorted by time so the union axis is monotone whatever the file's order.
        let mut pts: Vec<(i64, f64)> = rows.iter().map(|r| (r.open_time_ms, r.ret)).collect();
        pts.sort_by_key(|p| p.0);
        let t: Vec<i64> = pts.iter().map(|p| p.0).collect();
        let r: Vec<f64> = pts.iter().map(|p| p.1).collect();
        curves.push((t, equity(&r)));
    }
    let metrics: Vec<String> =
        summaries.iter().flat_map(|s| s.metrics.keys().cloned()).collect::<BTreeSet<_>>().into_iter().collect();
    let table = metrics
        .iter()
        .map(|m| (m.clone(), summaries.iter().map(|s| s.metrics.get(m).copied().flatten()).collect()))
        .collect();
    let (xs, aligned) = align(&curves);
    let refs: Vec<&[f64]> = aligned.iter().map(Vec::as_slice).collect();
    let idx = downsample(xs.len(), &refs, max);
    let mut series = BTreeMap::new();
    for (id, v) in ids.iter().zip(&aligned) {
        series.insert(id.clone(), pick(v, &idx));
    }
    Ok(Comparison {
        runs: summaries,
        metrics,
        table,
        equity: AlignedEquity {
            x: idx.iter().map(|&i| xs[i]).collect(),
            series,
            total_points: xs.len(),
            downsampled: if idx.len() < xs.len() { "minmax" } else { "none" },
        },
    })
}

async fn compare(State(state): State<AppState>, Query(q): Query<CompareQuery>) -> ApiResult<Json<Comparison>> {
    let max = max_points(q.max_points.as_deref())?;
    let raw = q.ids.unwrap_or_default();
    let mut ids: Vec<String> = Vec::new();
    for id in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if !ids.iter().any(|x| x == id) {
            ids.push(id.to_string());
        }
    }
    if ids.is_empty() || ids.len() > MAX_COMPARE {
        return Err(ApiError::bad_request(
            if ids.is_empty() { "missing_parameter" } else { "bad_parameter" },
            format!("ids={raw:?}: expected 1..={MAX_COMPARE} run ids, comma separated"),
        ));
    }
    blocking(move || compare_runs(&state, &ids, max).map(Json)).await
}

/// The answer of `GET /v1/runs/correlation`.
#[derive(Debug, Serialize)]
pub struct Correlation {
    /// Runs considered (after the filters).
    pub runs: usize,
    /// The headline metrics with a value in at least one run, sorted.
    pub metrics: Vec<String>,
    /// `r[i][j]`: Pearson's r of metrics i and j over the runs where both are present (`null`:
    /// fewer than 3 such runs or a constant metric).
    pub r: Vec<Vec<Option<f64>>>,
    /// `n[i][j]`: the runs behind `r[i][j]`.
    pub n: Vec<Vec<usize>>,
}

/// Correlation of the headline metrics across `runs`.
pub fn correlate(runs: &[RunSummary]) -> Correlation {
    let metrics: Vec<String> = runs
        .iter()
        .flat_map(|s| s.metrics.iter().filter(|(_, v)| v.is_some_and(f64::is_finite)).map(|(k, _)| k.clone()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let cols: Vec<Vec<Option<f64>>> =
        metrics.iter().map(|m| runs.iter().map(|s| s.metrics.get(m).copied().flatten()).collect()).collect();
    let k = metrics.len();
    let mut r = vec![vec![None; k]; k];
    let mut n = vec![vec![0; k]; k];
    for i in 0..k {
        for j in i..k {
            let (c, m) = pearson(&cols[i], &cols[j]);
            r[i][j] = c;
            r[j][i] = c;
            n[i][j] = m;
            n[j][i] = m;
        }
    }
    Correlation { runs: runs.len(), metrics, r, n }
}

async fn correlation(State(state): State<AppState>, Query(q): Query<ListQuery>) -> ApiResult<Json<Correlation>> {
    let filter = Filter::parse(&q)?;
    let runs = state.runs();
    blocking(move || {
        let (all, _) = scan(&runs)?;
        let kept: Vec<RunSummary> = all.into_iter().filter(|r| filter.keeps(r)).collect();
        Ok(Json(correlate(&kept)))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downsampling_keeps_extremes_ends_and_the_budget() {
        let n = 100_000;
        let mut y: Vec<f64> = (0..n).map(|i| (i as f64 * 0.001).sin()).collect();
        y[31_337] = 50.0; // a spike
        y[77_777] = -40.0; // a crash
        y[500] = f64::NAN;
        for max in [10, 11, 100, 2000, 99_999] {
            let idx = downsample(n, &[&y], max);
            assert!(idx.len() <= max, "{max}: {} points", idx.len());
            assert_eq!(idx[0], 0);
            assert_eq!(*idx.last().unwrap(), n - 1);
            assert!(idx.windows(2).all(|w| w[0] < w[1]), "sorted, no repeats");
            assert!(idx.contains(&31_337) && idx.contains(&77_777), "{max}: extremes kept");
        }
        assert_eq!(downsample(5, &[&y[..5]], 10), vec![0, 1, 2, 3, 4], "short series untouched");
        // Two series: both series' extremes survive.
        let z: Vec<f64> = (0..n).map(|i| if i == 4242 { -9.0 } else { 0.0 }).collect();
        let idx = downsample(n, &[&y, &z], 500);
        assert!(idx.len() <= 500 && idx.contains(&4242) && idx.contains(&31_337));
    }

    #[test]
    fn equity_compounds_and_drawdown_is_from_the_peak() {
        let e = equity(&[0.1, f64::NAN, -0.5, 1.0]);
        assert_eq!(e, vec![1.1, 1.1, 0.55, 1.1]);
        let d = drawdown(&e);
        assert_eq!(d[0], 0.0);
        assert!((d[2] + 0.5).abs() < 1e-12);
        assert!(d[3].abs() < 1e-12);
    }

    #[test]
    fn pearson_by_hand_with_pairwise_skips() {
        let a = [Some(1.0), Some(2.0), Some(3.0), None, Some(4.0)];
        let b = [Some(2.0), Some(4.0), Some(6.5), Some(1.0), None];
        // Pairs (1,2), (2,4), (3,6.5): mx 2, my 25/6; sxy = 4.5, sxx = 2, syy = 61/6.
        let (r, n) = pearson(&a, &b);
        assert_eq!(n, 3);
        let want = 4.5 / (2f64.sqrt() * (61.0 / 6.0f64).sqrt());
        assert!((r.unwrap() - want).abs() < 1e-12, "{r:?} vs {want}");
        assert_eq!(pearson(&a[..2], &b[..2]), (None, 2), "too few pairs");
        let c = [Some(1.0); 5];
        assert_eq!(pearson(&a, &c).0, None, "a constant side");
    }

    #[test]
    fn alignment_is_on_the_union_of_times() {
        let (x, v) = align(&[(vec![1, 2, 4], vec![1.0, 2.0, 4.0]), (vec![3, 4, 5], vec![30.0, 40.0, 50.0])]);
        assert_eq!(x, vec![1, 2, 3, 4, 5]);
        assert_eq!(&v[0][..4], &[1.0, 2.0, 2.0, 4.0]);
        assert!(v[0][4].is_nan());
        assert!(v[1][0].is_nan() && v[1][1].is_nan());
        assert_eq!(&v[1][2..], &[30.0, 40.0, 50.0]);
    }

    #[test]
    fn windows_csv_parses_and_names_bad_lines() {
        let p = FsPath::new("r/windows.csv");
        let (cols, rows) =
            parse_windows(p, "window,lr,is_sharpe_ratio,oos_sharpe_ratio\n0,0.01,1.5,\n1,x,0.5,-0.25\n").unwrap();
        assert_eq!(cols.len(), 4);
        assert_eq!(rows[0]["oos_sharpe_ratio"], Value::Null);
        assert_eq!(rows[1]["lr"], Value::String("x".into()));
        assert_eq!(rows[1]["oos_sharpe_ratio"], serde_json::json!(-0.25));
        let e = parse_windows(p, "a,b\n1\n").unwrap_err();
        assert!(e.contains("line 2") && e.contains("windows.csv"), "{e}");
    }
}
